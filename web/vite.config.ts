import { defineConfig } from 'vite';

// The UI is served by mltrack at "/", and talks to the same origin with
// relative URLs. `npm run dev` proxies the API to a local mltrack on :5000.
export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 300,
  },
  server: {
    proxy: {
      '/ajax-api': 'http://127.0.0.1:5000',
      '/api': 'http://127.0.0.1:5000',
      '/get-artifact': 'http://127.0.0.1:5000',
    },
  },
});
