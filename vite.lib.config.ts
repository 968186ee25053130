import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * The figure library (issue 8), two builds (`npm run build:lib` runs both):
 * - mode `element`: `dist-lib/qkscope-figure.js`, the `<qk-scope-figure>` custom element with
 *   React inside, for any page (`<script type="module" src=".../qkscope-figure.js">`);
 * - mode `react`: `dist-lib/qkscope-react.js`, the `<AttentionFigure>` component for React apps
 *   (react and react-dom are the app's own); include `dist-lib/qkscope-react.css`.
 * Figures compute attention in plain JavaScript: no tfjs, no worker, nothing fetched but `src`.
 */
export default defineConfig(({ mode }) => {
  const element = mode !== 'react';
  return {
    plugins: [react()],
    publicDir: false,
    logLevel: 'warn',
    define: { 'process.env.NODE_ENV': JSON.stringify('production') },
    build: {
      outDir: 'dist-lib',
      emptyOutDir: element,
      target: 'es2022',
      chunkSizeWarningLimit: 4000,
      minify: true,
      lib: element
        ? { entry: 'src/app/figure/element.tsx', formats: ['es'], fileName: () => 'qkscope-figure.js', cssFileName: 'qkscope-figure' }
        : { entry: 'src/app/figure/react.ts', formats: ['es'], fileName: () => 'qkscope-react.js', cssFileName: 'qkscope-react' },
      rollupOptions: element ? {} : { external: ['react', 'react-dom', 'react/jsx-runtime', 'react-dom/client'] },
    },
  };
});
