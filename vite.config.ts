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
      output: {
        // d3 and React in chunks of their own, so the small entry that starts the compute worker
        // does not wait for them (the bundler would otherwise merge them into a shared chunk).
        manualChunks: (id: string) => (/node_modules[\\/](d3|d3-[a-z-]+|internmap|delaunator|robust-predicates)[\\/]/.test(id) ? 'd3' : /node_modules[\\/](react|react-dom|scheduler|zustand)[\\/]/.test(id) ? 'react' : undefined),
      },
    },
  },
  worker: { format: 'es' },
  server: { host: '127.0.0.1' },
});
