import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
// @ts-expect-error plain ESM helper shared with the scripts
import { holdSlowFiles as holdSlow, launch, serveDist } from '../../scripts/lib/browser.mjs';
import type { BrowserContext, Page } from 'playwright-core';

export const ARTIFACTS = join(process.cwd(), 'test-artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

export interface Env {
  url: string;
  context: BrowserContext;
  close: () => Promise<void>;
}

/**
 * Serves the built app (or the built Storybook) and launches Debian's Chromium (see
 * scripts/lib/browser.mjs). Each launch has a fresh profile, where the app's first page would
 * measure every backend in the background (software WebGL and WebGPU keep both cores busy for
 * tens of seconds and slow the whole file); unless `probe` is set, the profile starts with
 * WASM remembered as the fastest, which is what that measurement finds here.
 */
export async function startEnv(dir: 'dist' | 'storybook-static' = 'dist', opts: { probe?: boolean } = {}): Promise<Env> {
  const srv = await serveDist(process.cwd(), dir);
  const b = await launch();
  if (!opts.probe)
    await (b.context as BrowserContext).addInitScript(() => {
      try {
        if (!localStorage.getItem('qkscope.fastestBackend')) localStorage.setItem('qkscope.fastestBackend', 'wasm');
      } catch {
        // about:blank and other opaque origins have no storage
      }
    });
  return {
    url: srv.url as string,
    context: b.context as BrowserContext,
    close: async () => {
      await b.close();
      await srv.close();
    },
  };
}

/** Holds back the body of the test server's slow- files until the returned function is called. */
export const holdSlowFiles = holdSlow as () => () => void;

/** Opens a page and collects console errors and page errors. */
export async function openPage(env: Env, path: string): Promise<{ page: Page; errors: string[] }> {
  const page = await env.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  await page.goto(env.url + path);
  return { page, errors };
}

/** Waits until the heatmap has painted `times` results in total. */
export async function painted(page: Page, times = 1): Promise<void> {
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid=heatmap-cells]')?.getAttribute('data-painted') ?? 0) >= n, times, { timeout: 60_000 });
}
