import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ARTIFACTS, openPage, painted, startEnv, type Env } from './setup';
import type { Page } from 'playwright-core';

let env: Env;
beforeAll(async () => {
  env = await startEnv('dist', { probe: true }); // the default-example test shows the background measurement
});
afterAll(async () => env?.close());

const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

/** Alpha of one CSS pixel of a canvas (0 = nothing drawn there). */
async function alphaAt(page: Page, testid: string, x: number, y: number): Promise<number> {
  return page.evaluate(
    ([id, px, py]) => {
      const c = document.querySelector(`[data-testid=${id}]`) as HTMLCanvasElement;
      const dpr = c.width / c.getBoundingClientRect().width;
      return c.getContext('2d')!.getImageData(Math.floor(px * dpr), Math.floor(py * dpr), 1, 1).data[3];
    },
    [testid, x, y] as const,
  );
}

async function box(page: Page, testid: string) {
  const b = await page.locator(`[data-testid=${testid}]`).boundingBox();
  if (!b) throw new Error(`${testid} is not on screen`);
  return b;
}

describe('QK Scope in Chromium', () => {
  it('opens on the default example with heatmap, tokens, head grid and statistics', async () => {
    const { page, errors } = await openPage(env, '?v=1');
    await painted(page);
    expect(await page.locator('.tok').count()).toBe(32);
    expect(await page.locator('.stats-table tbody tr').count()).toBe(8);
    const used = await page.locator('[data-testid=backend-used]').textContent();
    expect(used).toMatch(/computed on (webgpu|webgl|wasm|cpu) in [\d.]+ ms \(worker\) · 32 tokens × 8 heads/);
    // wait for the background backend measurement so the screenshot shows it
    await page.waitForSelector('[data-testid=probe-note]', { timeout: 90_000 });
    await shot(page, 'app-default');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('hovering a heatmap cell links the token strip, the head grid and the tooltip; click locks; Escape clears', async () => {
    const { page, errors } = await openPage(env, '?v=1');
    await painted(page);
    const hm = await box(page, 'heatmap-overlay');
    const n = 32;
    const cell = hm.width / n;
    const q = 20;
    const k = 14;
    // nothing highlighted before hover
    const grid = await box(page, 'grid-overlay');
    expect(await alphaAt(page, 'heatmap-overlay', (k + 0.5) * cell, (q + 0.5) * cell)).toBe(0);
    await page.mouse.move(hm.x + (k + 0.5) * cell, hm.y + (q + 0.5) * cell);
    await page.waitForSelector(`.tok[data-i="${q}"].is-query`);
    expect(await page.locator(`.tok[data-i="${k}"]`).getAttribute('class')).toMatch(/is-key/);
    expect(await alphaAt(page, 'heatmap-overlay', 2, (q + 0.5) * cell)).toBeGreaterThan(0);
    // the query row is drawn in the first tile of the grid (tile size from the layout)
    const tile = await page.evaluate(() => {
      const c = document.querySelector('[data-testid=grid-overlay]') as HTMLCanvasElement;
      const w = c.getBoundingClientRect().width;
      const cols = Math.ceil(Math.sqrt(8));
      return (w - (cols - 1) * 10 - 2 * 4) / cols; // gap 10, margin 4 (drawGridOverlay.ts)
    });
    expect(await alphaAt(page, 'grid-overlay', 4 + tile / 2, 4 + 15 + ((q + 0.5) / n) * tile)).toBeGreaterThan(0);
    expect(await alphaAt(page, 'grid-overlay', 4 + tile / 2, 4 + 15 + ((q - 5 + 0.5) / n) * tile)).toBe(0);
    const tip = await page.locator('.tooltip').textContent();
    expect(tip).toContain(`query ${q}`);
    expect(tip).toContain(`key ${k}`);
    expect(tip).toMatch(/weight [\d.e-]+ {3}score/);
    await shot(page, 'app-hover');
    // click locks: moving away keeps the highlight
    await page.mouse.click(hm.x + (k + 0.5) * cell, hm.y + (q + 0.5) * cell);
    await page.mouse.move(grid.x + grid.width + 200, grid.y + grid.height + 200);
    await page.waitForSelector(`.tok[data-i="${q}"].is-locked`);
    expect(await alphaAt(page, 'heatmap-overlay', 2, (q + 0.5) * cell)).toBeGreaterThan(0);
    await shot(page, 'app-locked');
    await page.keyboard.press('Escape');
    await page.waitForFunction((i) => !document.querySelector(`.tok[data-i="${i}"]`)!.classList.contains('is-query'), q);
    expect(await alphaAt(page, 'heatmap-overlay', 2, (q + 0.5) * cell)).toBe(0);
    // hovering a token highlights its row in the heatmap
    await page.locator('.tok[data-i="5"]').hover();
    await page.waitForSelector('.tok[data-i="5"].is-query');
    expect(await alphaAt(page, 'heatmap-overlay', hm.width - 2, 5.5 * cell)).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('clicking a head in the grid shows it large, and the link reproduces the view', async () => {
    const { page } = await openPage(env, '?v=1');
    await painted(page);
    const grid = await box(page, 'grid-overlay');
    const cols = 3;
    const tile = (grid.width - (cols - 1) * 10 - 2 * 4) / cols;
    // head 4 is row 1, column 1
    await page.mouse.click(grid.x + 4 + tile + 10 + tile / 2, grid.y + 4 + (tile + 10 + 15) + 15 + tile / 2);
    await page.waitForFunction(() => document.querySelector('.heatmap h2')?.textContent?.startsWith('Head 4'));
    await page.locator('.heatmap .seg button', { hasText: 'scores' }).click();
    await page.waitForTimeout(600); // the URL is written 250 ms after the last change
    const url = page.url();
    expect(url).toContain('head=4');
    expect(url).toContain('mode=scores');
    await shot(page, 'app-scores-head4');
    const { page: again } = await openPage(env, url.slice(env.url.length));
    await painted(again);
    expect(await again.locator('.heatmap h2').textContent()).toMatch(/^Head 4/);
    expect(await again.locator('.heatmap .seg button.on').textContent()).toBe('scores');
    await page.close();
    await again.close();
  });

  it('a backend forced to fail falls back to the next one and says so', async () => {
    const { page } = await openPage(env, '?backend=webgpu&fail=webgpu');
    await painted(page);
    expect(await page.locator('[data-testid=backend-used]').textContent()).toMatch(/computed on webgl/);
    expect(await page.locator('[data-testid=fallback-note]').textContent()).toMatch(/webgpu failed \(forced to fail.*\) — fell back to webgl/);
    await shot(page, 'app-fallback');
    await page.close();
    const { page: p2 } = await openPage(env, '?backend=webgl&fail=webgl,wasm');
    await painted(p2);
    expect(await p2.locator('[data-testid=backend-used]').textContent()).toMatch(/computed on cpu/);
    await p2.close();
  });

  it('recovers from a lost WebGL context: the next request runs on WASM, says why, and keeps the head and locked cell', async () => {
    const { page, errors } = await openPage(env, '?v=1&backend=webgl&hooks=1&head=3&lock=9,4');
    await painted(page);
    expect(await page.locator('[data-testid=backend-used]').textContent()).toMatch(/computed on webgl/);
    expect(await page.evaluate(() => (window as unknown as { qkHooks: { loseWebglContext(): Promise<boolean> } }).qkHooks.loseWebglContext())).toBe(true);
    // A new input makes a new request: WebGL is found lost and the request goes on to WASM.
    await page.getByLabel('Pattern', { exact: true }).selectOption('induction');
    await page.waitForFunction(() => /computed on wasm/.test(document.querySelector('[data-testid=backend-used]')?.textContent ?? ''), null, { timeout: 60_000 });
    expect(await page.locator('[data-testid=fallback-note]').textContent()).toMatch(/webgl failed \(the WebGL context was lost.*\) — fell back to wasm/);
    expect(await page.locator('.heatmap h2').textContent()).toMatch(/^Head 3/);
    const summary = (await page.locator('[data-testid=figure-summary]').textContent())!;
    expect(summary).toMatch(/query 9\b/i);
    const weights = [...summary.matchAll(/0\.\d+/g)].map((m) => Number(m[0]));
    expect(weights.length).toBeGreaterThan(0);
    expect(Math.max(...weights)).toBeGreaterThan(0.01); // real numbers, not a lost context's zeros
    // And later requests stay on WASM without trying WebGL again.
    await page.getByLabel('Pattern', { exact: true }).selectOption('previous');
    await page.waitForFunction(() => /computed on wasm/.test(document.querySelector('[data-testid=backend-used]')?.textContent ?? ''));
    await shot(page, 'app-context-lost');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('switching the backend recomputes on it', async () => {
    const { page } = await openPage(env, '?backend=wasm');
    await painted(page);
    await page.selectOption('[data-testid=backend-select]', 'cpu');
    await page.waitForFunction(() => /computed on cpu/.test(document.querySelector('[data-testid=backend-used]')?.textContent ?? ''));
    await page.close();
  });

  it('clamps a hand-edited link with messages and still shows a view', async () => {
    const { page, errors } = await openPage(env, '?v=1&h=999&kv=7&pattern=nope&T=abc&head=-3&lock=x');
    await painted(page);
    const notes = (await page.locator('[data-testid=notice]').allTextContents()).join('\n');
    expect(notes).toMatch(/h \(heads\)=999 is outside 1…32; clamped to 32/);
    expect(notes).toMatch(/32 heads cannot share 7 KV heads evenly; using 4/);
    expect(notes).toMatch(/pattern="nope" is not one of/);
    expect(notes).toMatch(/T \(temperature\)="abc" is not a number/);
    expect(notes).toMatch(/lock="x"/);
    expect(await page.locator('.stats-table tbody tr').count()).toBe(32);
    await shot(page, 'app-clamped-link');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('refuses over-long text with the cap and the reason, keeping the last view and the typed text', async () => {
    const { page } = await openPage(env, '?v=1');
    await painted(page);
    const long = Array.from({ length: 4200 }, (_, i) => `w${i % 300}`).join(' ');
    await page.fill('#qk-text', long);
    const err = page.locator('[data-testid=error]');
    await err.waitFor({ timeout: 10_000 });
    expect(await err.textContent()).toMatch(/more than 4096 tokens, the cap for 8 heads/);
    expect(await page.locator('.tok').count()).toBe(32); // the last good view stays
    expect((await page.inputValue('#qk-text')).length).toBe(long.length);
    await shot(page, 'app-too-long');
    await page.close();
  });

  it('shows hostile token text as text, never as markup', async () => {
    const text = '<img src=x onerror="window.__pwned=1"> <script>window.__pwned=2</script> <svg onload="window.__pwned=3">';
    const { page, errors } = await openPage(env, `?text=${encodeURIComponent(text)}`);
    await painted(page);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    const tokens = await page.locator('.tok').allTextContents();
    expect(tokens).toContain('<');
    expect(tokens).toContain('script');
    expect(await page.locator('.token-strip img, .token-strip script, .token-strip svg').count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('draws a long sequence max-pooled and says so; zoom shows cells again', async () => {
    const text = Array.from({ length: 1500 }, (_, i) => `w${i % 97}`).join(' ');
    const { page } = await openPage(env, `?text=${encodeURIComponent(text)}&h=4&kv=4&pattern=local`);
    await painted(page);
    expect(await page.locator('.legend figcaption').textContent()).toMatch(/max-pooled: each pixel shows the largest of \d+×\d+ cells/);
    await shot(page, 'app-long-1500');
    const hm = await box(page, 'heatmap-overlay');
    for (let i = 0; i < 12; i++) await page.locator('button[aria-label="zoom in"]').click();
    await page.waitForFunction(() => !/max-pooled/.test(document.querySelector('.legend figcaption')?.textContent ?? 'max-pooled'));
    expect(hm.width).toBeGreaterThan(100);
    await shot(page, 'app-long-1500-zoomed');
    await page.close();
  });
});

describe('QK Scope without a worker', () => {
  it('computes on the main thread when no worker is used, and says so', async () => {
    const { page, errors } = await openPage(env, '?worker=0&backend=wasm');
    await painted(page);
    expect(await page.locator('[data-testid=backend-used]').textContent()).toMatch(/computed on wasm in [\d.]+ ms \(main thread\)/);
    expect(errors).toEqual([]);
    await page.close();
  });
});
