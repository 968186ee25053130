import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { ARTIFACTS, openPage, painted, startEnv, type Env } from './setup';

let env: Env;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => {
  await env?.close();
});

/** Clicks a figure button and returns the saved file's name and bytes. */
async function saved(page: Page, testid: string): Promise<{ name: string; bytes: Buffer }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(`[data-testid=${testid}]`)]);
  const path = await dl.path();
  return { name: dl.suggestedFilename(), bytes: readFileSync(path!) };
}

/**
 * Draws the SVG in the page (as an <img>, like any viewer) and reads the colour at the centre of
 * cell (i, j) from it and from the heatmap's canvas on screen.
 */
async function cellColours(page: Page, svg: string, cells: [number, number][]): Promise<{ svg: number[][]; screen: number[][] }> {
  return page.evaluate(
    async ({ svg, cells }) => {
      const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
      const g = doc.querySelector('[data-role=cells]')!;
      const [, tx, ty] = /translate\(([\d.]+),([\d.]+)\)/.exec(g.getAttribute('transform')!)!.map(Number);
      const size = Number(g.querySelector('rect')!.getAttribute('width'));
      const img = new Image();
      img.src = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.naturalWidth;
      c.height = img.naturalHeight;
      const ctx = c.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      const screen = document.querySelector('[data-testid=heatmap-cells]') as HTMLCanvasElement;
      const sctx = screen.getContext('2d')!;
      const n = Number(doc.querySelectorAll('[data-role=query-labels] text').length);
      return {
        svg: cells.map(([i, j]) => [...ctx.getImageData(Math.floor(tx + ((j + 0.5) * size) / n), Math.floor(ty + ((i + 0.5) * size) / n), 1, 1).data]),
        screen: cells.map(([i, j]) => [...sctx.getImageData(Math.floor(((j + 0.5) * screen.width) / n), Math.floor(((i + 0.5) * screen.height) / n), 1, 1).data]),
      };
    },
    { svg, cells },
  );
}

describe('figures: SVG, PNG and HTML of the shown head (issue 8)', () => {
  it('the SVG is valid XML with vector cells and labels, and its cells have the colours of the heatmap on screen', async () => {
    const { page, errors } = await openPage(env, '?v=1&head=3&lock=20,14');
    await painted(page);
    await expect.poll(() => page.locator('[data-testid=figure-summary]').textContent()).toMatch(/^synthetic example · head 3: 32 queries × 32 keys, .*Query 20 “/);
    const { name, bytes } = await saved(page, 'figure-svg');
    expect(name).toBe('qkscope-synthetic-example-head-3.svg');
    const svg = bytes.toString('utf8');
    const parsed = await page.evaluate((s) => {
      const doc = new DOMParser().parseFromString(s, 'image/svg+xml');
      return { error: doc.querySelector('parsererror')?.textContent ?? null, root: doc.documentElement.nodeName, rects: doc.querySelectorAll('[data-role=cells] rect[fill^="#"]').length, labels: doc.querySelectorAll('[data-role=key-labels] text').length };
    }, svg);
    expect(parsed.error).toBeNull();
    expect(parsed.root).toBe('svg');
    expect(parsed.rects).toBe((32 * 33) / 2 + 1); // one per causal cell, plus the grey background
    expect(parsed.labels).toBe(32);
    const probe: [number, number][] = [[0, 0], [5, 3], [20, 14], [31, 0], [31, 30], [12, 12]];
    const c = await cellColours(page, svg, probe);
    c.svg.forEach((px, n) => px.slice(0, 3).forEach((v, k) => expect(Math.abs(v - c.screen[n][k]), `cell ${probe[n]} channel ${k}`).toBeLessThanOrEqual(2)));
    expect(errors).toEqual([]);
    await page.close();
    const view = await env.context.newPage(); // how a person opening the file sees it
    await view.setContent(svg);
    await view.screenshot({ path: join(ARTIFACTS, 'figure-svg.png') });
    await view.close();
  });

  it('PNG at 1×, 2× and 4× has the figure size times the scale; the HTML opens offline and reads out exact values', async () => {
    const { page, errors } = await openPage(env, '?v=1&head=1');
    await painted(page);
    const svg = (await saved(page, 'figure-svg')).bytes.toString('utf8');
    const [w, h] = /width="(\d+)" height="(\d+)"/.exec(svg)!.slice(1).map(Number);
    for (const s of [1, 2, 4]) {
      const png = await saved(page, `figure-png-${s}`);
      expect(png.name).toBe(`qkscope-synthetic-example-head-1${s > 1 ? `@${s}x` : ''}.png`);
      expect([...png.bytes.subarray(1, 4)].map((b) => String.fromCharCode(b)).join('')).toBe('PNG');
      expect([png.bytes.readUInt32BE(16), png.bytes.readUInt32BE(20)]).toEqual([w * s, h * s]);
      writeFileSync(join(ARTIFACTS, `figure-export-${s}x.png`), png.bytes); // the export itself, to look at
    }
    const html = (await saved(page, 'figure-html')).bytes.toString('utf8');
    const off = await env.context.newPage();
    const requests: string[] = [];
    off.on('request', (r) => requests.push(r.url()));
    await off.setContent(html);
    const g = await off.locator('[data-role=cells]').boundingBox();
    await off.mouse.move(g!.x + g!.width * (4.5 / 32), g!.y + g!.height * (9.5 / 32));
    await expect.poll(() => off.locator('#qk-readout').textContent()).toMatch(/^query 9 “.*” → key 4 “.*”: 0\.\d+ \(attention weight/);
    expect(requests.filter((u) => !u.startsWith('data:') && u !== 'about:blank')).toEqual([]);
    await off.screenshot({ path: join(ARTIFACTS, 'figure-html.png') });
    await off.close();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('hostile token text is escaped in the SVG: it parses, and no element comes from the text', async () => {
    const text = '<img src=x onerror="window.__xss=1"> & <script>window.__xss=2</script> ]]> "q"';
    const { page, errors } = await openPage(env, `?v=1&text=${encodeURIComponent(text)}`);
    await painted(page);
    const svg = (await saved(page, 'figure-svg')).bytes.toString('utf8');
    const parsed = await page.evaluate((s) => {
      const doc = new DOMParser().parseFromString(s, 'image/svg+xml');
      return { error: doc.querySelector('parsererror')?.textContent ?? null, foreign: doc.querySelectorAll('img, script, foreignObject').length, labels: [...doc.querySelectorAll('[data-role=query-labels] text')].map((t) => t.textContent) };
    }, svg);
    expect(parsed.error).toBeNull();
    expect(parsed.foreign).toBe(0);
    expect(parsed.labels.join('')).toContain('<');
    const html = (await saved(page, 'figure-html')).bytes.toString('utf8');
    const off = await env.context.newPage();
    await off.setContent(html);
    expect(await off.evaluate(() => (window as unknown as { __xss?: number }).__xss ?? 0)).toBe(0);
    await off.close();
    expect(errors).toEqual([]);
    await page.close();
  });
});
