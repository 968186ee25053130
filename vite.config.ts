import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { resolve } from 'node:path';

// Two HTML entries: the app itself and the benchmark page that `npm run bench` drives.
// No COOP/COEP headers are sent: threaded WASM hangs in a minified build when the page is
// cross-origin isolated (TOOLCHAIN.md), and on 2 cores threads gave no speed-up anyway.
export default defineConfig({
  plugins: [react()],
  base: './',
  build: {
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 4000,
    rollupOptions: {
      input: {
        main: resolve(import.meta.dirname, 'index.html'),
        bench: resolve(import.meta.dirname, 'bench.html'),
      },
    },
  },
  worker: { format: 'es' },
  server: { host: '127.0.0.1' },
});
