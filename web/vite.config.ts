import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

// The API serves web/dist at the same origin; during `vite dev` the same relative URLs are proxied to a local API.
const API = process.env.MMM_API_URL ?? 'http://127.0.0.1:8082';

export default defineConfig({
  plugins: [svelte()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 900,
    sourcemap: false,
  },
  server: {
    host: '127.0.0.1',
    proxy: {
      '/api': { target: API, changeOrigin: true, ws: true },
    },
  },
});
