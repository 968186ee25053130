import { defineConfig } from 'vite';

/**
 * The command line tool (`qkscope figure …`, src/app/cli/main.ts) bundled for Node: the
 * project's TypeScript in one ES module; packages stay imports from node_modules.
 * bin/qkscope.mjs builds it on first use; `npm run build:cli` builds it by hand.
 */
export default defineConfig({
  logLevel: 'warn',
  // The public/ folder (built-in models, examples) is the app's; the tool reads it in place.
  publicDir: false,
  build: {
    ssr: 'src/app/cli/main.ts',
    outDir: 'dist-cli',
    emptyOutDir: true,
    target: 'node20',
    rollupOptions: { output: { entryFileNames: 'qkscope.mjs', codeSplitting: false } },
  },
});
