import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
// @ts-expect-error plain ESM helper shared with the scripts
import { launch, serveDist } from '../../scripts/lib/browser.mjs';
import { ARTIFACTS } from './setup';

// A writer's page with two <qk-scope-figure> elements, served with the built library
// (npm run build:lib; npm test builds it before the browser tests).
let url: string;
let close: () => Promise<void>;
let context: import('playwright-core').BrowserContext;
beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), 'qk-lib-'));
  const site = join(root, 'site');
  mkdirSync(site);
  copyFileSync('dist-lib/qkscope-figure.js', join(site, 'qkscope-figure.js'));
  copyFileSync('tests/fixtures/io/qkv.npz', join(site, 'qkv.npz'));
  writeFileSync(join(site, 'bad.npy'), new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 4, 0, 123]));
  writeFileSync(
    join(site, 'index.html'),
    `<!doctype html><html><head><meta charset="utf-8"><title>two figures</title><script type="module" src="qkscope-figure.js"></script></head>
<body style="font-family: serif; margin: 20px">
<h1>A writer's page</h1>
<div style="display:flex; gap: 24px">
  <div style="width: 460px"><qk-scope-figure id="a" src="qkv.npz" layer="1" head="2"></qk-scope-figure></div>
  <div style="width: 460px"><qk-scope-figure id="b" src="qkv.npz" layer="1" head="0"></qk-scope-figure></div>
</div>
<div style="width: 500px"><qk-scope-figure id="c" view="grid"></qk-scope-figure></div>
<div style="width: 300px"><qk-scope-figure id="d" src="bad.npy"></qk-scope-figure></div>
</body></html>`,
  );
  const srv = await serveDist(root, 'site');
  const b = await launch();
  url = srv.url;
  context = b.context;
  close = async () => {
    await b.close();
    await srv.close();
  };
});
afterAll(async () => {
  await close?.();
});

/** Reads something inside a figure's shadow root. */
const inFigure = <T>(page: Page, id: string, fn: (root: ShadowRoot) => T) => page.evaluate(([i, f]) => new Function('root', `return (${f})(root)`)(document.getElementById(i)!.shadowRoot) as T, [id, fn.toString()] as const);

describe('<qk-scope-figure> custom element (issue 8)', () => {
  it('two figures on one page each show their head, and a cell locked in one is not locked in the other', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    for (const id of ['a', 'b']) await page.waitForFunction((i) => Number(document.getElementById(i)?.shadowRoot?.querySelector('[data-testid=heatmap-cells]')?.getAttribute('data-painted') ?? 0) > 0, id, { timeout: 60_000 });
    expect(await inFigure(page, 'a', (r) => r.querySelector('.heatmap h2')!.textContent)).toMatch(/^Head 2/);
    expect(await inFigure(page, 'b', (r) => r.querySelector('.heatmap h2')!.textContent)).toMatch(/^Head 0/);
    // The app's styles apply inside the shadow root.
    expect(await inFigure(page, 'a', (r) => getComputedStyle(r.querySelector('.view')!).borderRadius)).toBe('8px');
    // Click cell (5, 3) of figure a.
    const box = await page.locator('#a').locator('[data-testid=heatmap-overlay]').boundingBox();
    await page.mouse.click(box!.x + (3.5 / 7) * box!.width, box!.y + (5.5 / 7) * box!.height);
    await page.mouse.move(0, 0);
    const alphaAt = (id: string) => inFigure(page, id, (r) => {
      const c = r.querySelector('[data-testid=heatmap-overlay]') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
      return n;
    });
    await expect.poll(() => alphaAt('a')).toBeGreaterThan(0);
    expect(await alphaAt('b')).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'figure-elements.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('takes data as a property (a parsed CircuitsVis object) and follows attribute changes; a bad file shows its message', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    // Before it has data, a figure says what it needs.
    await expect.poll(() => inFigure(page, 'c', (r) => r.querySelector('[data-testid=qk-figure-empty]')?.textContent ?? '')).toMatch(/No data yet/);
    const cv = JSON.parse(readFileSync('tests/fixtures/io/circuitsvis.json', 'utf8'));
    await page.evaluate((data) => ((document.getElementById('c') as unknown as { data: unknown }).data = data), cv);
    await page.waitForFunction(() => (document.getElementById('c')?.shadowRoot?.querySelectorAll('[data-testid=head-grid] canvas, .head-grid canvas').length ?? 0) > 0, null, { timeout: 60_000 });
    await page.evaluate(() => document.getElementById('a')!.setAttribute('head', '1'));
    await expect.poll(() => inFigure(page, 'a', (r) => r.querySelector('.heatmap h2')!.textContent)).toMatch(/^Head 1/);
    await expect.poll(() => inFigure(page, 'd', (r) => r.querySelector('[role=alert]')?.textContent ?? '')).toMatch(/bad\.npy/);
    expect(errors).toEqual([]);
    await page.close();
  });
});
