import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS, startEnv, type Env } from './setup';
import { LESSONS, stepCaption } from '../../src/app/lessons';

// The built Storybook (npm test builds it before the browser tests), served as a static site.
let env: Env;
beforeAll(async () => {
  env = await startEnv('storybook-static');
});
afterAll(async () => {
  await env?.close();
});

const storyIds = (): string[] => {
  const index = JSON.parse(readFileSync(join(process.cwd(), 'storybook-static/index.json'), 'utf8')) as { entries: Record<string, { type: string }> };
  return Object.entries(index.entries)
    .filter(([, e]) => e.type === 'story')
    .map(([id]) => id);
};

/**
 * Opens one story in Storybook's own iframe and waits until it rendered something, showed its
 * error screen, or 90 s passed ('nothing').
 */
async function openStory(page: import('playwright-core').Page, id: string): Promise<'main' | 'error' | 'nothing'> {
  await page.goto(`${env.url}iframe.html?id=${id}&viewMode=story`);
  const done = () => document.body.classList.contains('sb-show-errordisplay') || (document.body.classList.contains('sb-show-main') && (document.querySelector('#storybook-root')?.children.length ?? 0) > 0);
  const ok = await page.waitForFunction(done, null, { timeout: 90_000 }).then(
    () => true,
    () => false,
  );
  if (!ok) return 'nothing';
  return (await page.evaluate(() => document.body.classList.contains('sb-show-errordisplay'))) ? 'error' : 'main';
}

describe('Storybook stories (built)', () => {
  it('every story renders without an error screen or a console error, and no helper export is listed as a story', async () => {
    const ids = storyIds();
    expect(ids.length).toBeGreaterThan(30);
    // Store builders exported for the unit tests must not appear as stories.
    expect(ids.filter((id) => /--make-|--sotu-summary/.test(id))).toEqual([]);
    const page = await env.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
    // Failed requests are listed by URL (the console's "Failed to load resource" names none);
    // Chromium's own /favicon.ico probe is not the stories' doing.
    page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && errors.push(`${page.url()}: ${m.text()}`));
    page.on('response', (r) => r.status() >= 400 && !r.url().endsWith('/favicon.ico') && errors.push(`HTTP ${r.status()} for ${r.url()}`));
    const failed: string[] = [];
    for (const id of ids) {
      const shown = await openStory(page, id);
      if (shown !== 'main') failed.push(`${id}: ${shown === 'error' ? await page.locator('#error-message').textContent() : 'rendered nothing in 90 s'}`);
    }
    expect(failed).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('every lesson is a story, and each opens on its first step with its caption and its map', async () => {
    const ids = storyIds().filter((id) => id.startsWith('lessons--'));
    expect(ids).toHaveLength(LESSONS.length);
    const page = await env.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    for (const id of ids) {
      expect(await openStory(page, id)).toBe('main');
      const lesson = await page.locator('[data-testid=lesson]').getAttribute('data-lesson');
      const l = LESSONS.find((x) => x.id === lesson)!;
      expect(await page.locator('[data-testid=lesson-caption]').textContent()).toBe(stepCaption(l.steps[0]));
      await page.waitForFunction(() => Number(document.querySelector('[data-testid=heatmap-cells]')?.getAttribute('data-painted') ?? 0) > 0, null, { timeout: 60_000 });
    }
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the QK-score story runs the built-in model: every head picks an option, and clicking one marks the option line ends in its heatmap', async () => {
    const page = await env.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    expect(await openStory(page, 'views-model-panels--qk-score-readout')).toBe('main');
    await page.waitForSelector('[data-testid=qk-readout]', { timeout: 60_000 });
    const cells = page.locator('[data-testid=qk-map] button');
    expect(await cells.count()).toBe(3 * 6); // sotu-llama: 3 layers × 6 query heads
    for (const p of await cells.evaluateAll((els) => els.map((e) => e.getAttribute('data-pick')))) expect(['A', 'B', 'C', 'D']).toContain(p);
    await page.click('[data-testid=qk-cell-1-3]');
    await page.waitForSelector('[data-testid=heatmap-marks]');
    expect(await page.locator('svg.axes text[data-mark]').evaluateAll((els) => els.map((e) => e.getAttribute('data-mark')))).toEqual(['A', 'B', 'C', 'D']);
    await page.screenshot({ path: join(ARTIFACTS, 'story-qkscore.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the MergeLock story locks the built-in model and finds attention and logits unchanged', async () => {
    const page = await env.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    expect(await openStory(page, 'views-model-panels--merge-lock-check')).toBe('main');
    await page.click('[data-testid=mergelock-run]');
    await page.waitForSelector('[data-testid=mergelock-result]', { timeout: 120_000 });
    expect(await page.locator('[data-testid=mergelock-verdict]').textContent()).toMatch(/are unchanged/);
    expect(Number(await page.locator('[data-testid=mergelock-worst]').textContent())).toBeLessThan(1e-4);
    await page.screenshot({ path: join(ARTIFACTS, 'story-mergelock.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });
});
