import type { StorybookConfig } from '@storybook/react-vite';

/**
 * Storybook for the linked views. Stories fill the store synchronously with the plain-JS
 * reference attention (stories/fixtures.ts), so no tfjs backend is needed to render them.
 */
const config: StorybookConfig = {
  framework: { name: '@storybook/react-vite', options: {} },
  stories: ['../stories/**/*.stories.@(ts|tsx)'],
  // The built-in models (public/models) for the stories that open one, as the app serves them.
  staticDirs: ['../public'],
  addons: [],
  core: { disableTelemetry: true },
  async viteFinal(cfg) {
    // vite.config.ts builds two HTML pages (the app and bench.html); Storybook brings its own
    // entry, so drop those inputs or the build would bundle the app and the benchmark too.
    const build = (cfg.build ?? {}) as NonNullable<typeof cfg.build> & { rolldownOptions?: { input?: unknown } };
    if (build.rollupOptions) delete build.rollupOptions.input;
    if (build.rolldownOptions) delete build.rolldownOptions.input;
    // Storybook's manager-facing iframe chunk (React + the preview runtime) is ~1.1 MB; the app's
    // own limit (vite.config.ts) is 4000 kB, keep the build output free of that warning too.
    build.chunkSizeWarningLimit = Math.max(build.chunkSizeWarningLimit ?? 0, 4000);
    cfg.build = build;
    return cfg;
  },
};

export default config;
