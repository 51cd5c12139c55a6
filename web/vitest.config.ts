import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { defineConfig } from 'vitest/config';
import { base } from '../vitest.base.js';

// Two projects: component tests in happy-dom with Svelte's browser build, and end-to-end tests in plain Node
// (they start the real stack and drive a real Chromium, so they must resolve Node builds of nats, ws, etc.).
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    projects: [
      {
        extends: true,
        plugins: [svelte(), svelteTesting()],
        test: {
          name: 'components',
          include: ['src/**/*.test.ts'],
          exclude: ['e2e/**', 'node_modules/**'],
          environment: 'happy-dom',
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['e2e/**/*.test.ts'],
          exclude: ['src/**', 'node_modules/**'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 240_000,
        },
      },
    ],
  },
});
