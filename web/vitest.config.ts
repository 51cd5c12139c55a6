import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { defineConfig } from 'vitest/config';
import { base } from '../vitest.base.js';

// Component tests run in happy-dom with Svelte's browser build; e2e tests (e2e/*.test.ts) declare the node
// environment themselves and drive a real Chromium against a real stack.
export default defineConfig({
  ...base,
  plugins: [svelte(), svelteTesting()],
  test: {
    ...base.test,
    include: ['src/**/*.test.ts', 'e2e/**/*.test.ts'],
    environment: 'happy-dom',
  },
});
