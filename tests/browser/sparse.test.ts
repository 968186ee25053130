import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { ARTIFACTS, openPage, painted, startEnv, type Env } from './setup';
import { runSparseMethod } from '../../src/index';
import { gridTokens, syntheticQKV } from '../../src/core/synthetic';
import { tokenize } from '../../src/core/tokenize';
import { DEFAULT_TEXT } from '../../src/state/defaults';
import type { Page } from 'playwright-core';

let env: Env;
beforeAll(async () => {
  await tf.setBackend('cpu');
  env = await startEnv();
});
afterAll(async () => env?.close());

const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

/** Waits for the sparse panel to show `label`. */
async function sparseShown(page: Page, label: string) {
  await page.waitForFunction((l) => document.querySelector('.sparse h2')?.textContent?.includes(l) && !!document.querySelector('[data-testid=sparse-table]'), label, { timeout: 60_000 });
}

/** The numbers of the sparse table: density (%), mass kept and minimum, per head. */
async function table(page: Page): Promise<number[][]> {
  return page.$$eval('[data-testid=sparse-table] tbody tr', (rows) => rows.map((r) => Array.from(r.querySelectorAll('td.num'), (td) => parseFloat(td.textContent!))));
}

describe('sparse attention in Chromium', () => {
  it('a MoBA link shows the block grid, the panel and numbers equal to the library run in Node', async () => {
    const { page, errors } = await openPage(env, '?v=1&h=8&kv=4&pattern=mixed&method=moba&mp.block=4&mp.topk=2&head=5&lock=20,5');
    await painted(page);
    await sparseShown(page, 'MoBA');
    // The same source and method, computed here by the library on tfjs cpu.
    const tokens = tokenize(DEFAULT_TEXT).map((t) => t.text);
    const x = syntheticQKV({ tokens, pattern: 'mixed', heads: 8, kvHeads: 4, headDim: 32, temperature: 1, seed: 7 });
    const want = await runSparseMethod('moba', { ...x, causal: true }, { block: 4, topk: 2 });
    const rows = await table(page);
    expect(rows).toHaveLength(8);
    rows.forEach(([density, kept, min], h) => {
      expect(density).toBeCloseTo(100 * want.metrics.density[h], 1);
      expect(kept).toBeCloseTo(want.metrics.recallMean[h], 3);
      expect(min).toBeCloseTo(want.metrics.recallMin[h], 3);
    });
    expect(Number(await page.locator('[data-testid=sparse-relfrob] .big').textContent())).toBeCloseTo(want.metrics.relFrob, 2);
    expect(await page.locator('[data-testid=reason-legend]').textContent()).toMatch(/forced \(own block\).*top-k/);
    // The gate of the locked query: its own block forced, one more chosen.
    expect(await page.locator('[data-testid=gate-row] .gate-bar').count()).toBe(Math.ceil(tokens.length / 4));
    const titles = await page.$$eval('[data-testid=gate-row] .gate-bar', (b) => b.map((x) => x.getAttribute('title')));
    expect(titles.filter((t) => /— forced/.test(t!))).toEqual(['key block 5: own — forced']);
    expect(titles.filter((t) => /— topk/.test(t!))).toHaveLength(1);
    // Hovering a cell tells whether its key block was selected and why, with the gate score.
    const box = (await page.locator('[data-testid=heatmap-overlay]').boundingBox())!;
    const cell = box.width / tokens.length;
    await page.mouse.move(box.x + 20.5 * cell, box.y + 20.5 * cell);
    await expect.poll(() => page.locator('.tooltip').textContent()).toMatch(/key block 5: selected \(forced\), gate \+∞ \(own block\)/);
    await shot(page, 'sparse-moba');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the synthetic video with VMoBA: the partition on the token grid, linked to the heatmap, numbers equal to the library run', async () => {
    const { page, errors } = await openPage(env, '?v=1&video=4x8x8&h=4&kv=2&causal=0&method=vmoba&mp.partition=2d&mp.scope=query_head&head=1');
    await painted(page);
    await sparseShown(page, 'VMoBA');
    const grid = { T: 4, Hp: 8, Wp: 8 };
    const x = syntheticQKV({ tokens: gridTokens(grid), pattern: 'mixed', heads: 4, kvHeads: 2, headDim: 32, temperature: 1, seed: 7, grid });
    const want = await runSparseMethod('vmoba', { ...x, causal: false, grid }, { partition: '2d', scope: 'query_head' });
    const rows = await table(page);
    rows.forEach(([density, kept], h) => {
      expect(density).toBeCloseTo(100 * want.metrics.density[h], 1);
      expect(kept).toBeCloseTo(want.metrics.recallMean[h], 3);
    });
    // The 2D partition (4 × 4 patches across all frames) drawn on the grid: 4 colours, 256 patches.
    expect(await page.locator('[data-testid=video-grid]').textContent()).toMatch(/4 × 8 × 8 coloured by 2D partition: 4 chunks of 64 tokens/);
    const fills = await page.$$eval('[data-testid=video-grid] svg rect[fill^="hsl"]', (r) => r.map((x) => x.getAttribute('fill')));
    expect(fills).toHaveLength(256);
    expect(new Set(fills).size).toBe(4);
    // Frame 0 row 0 column 0 and frame 3 row 3 column 3 share a chunk (the top-left patch in every frame).
    expect(fills[0]).toBe(fills[3 * 64 + 3 * 8 + 3]);
    expect(fills[0]).not.toBe(fills[4]);
    // Hovering a patch makes it the query: the token strip and the heatmap follow; its skipped patches dim.
    await page.locator('[data-testid=video-grid] svg rect[fill^="hsl"]').nth(100).hover();
    await expect.poll(() => page.locator('[data-testid=video-grid]').textContent()).toMatch(/Query “f1 r4 c4” \(outlined black\) attends to \d+ of 256 tokens in head 1/);
    const dimmed = await page.$$eval('[data-testid=video-grid] svg rect[fill^="hsl"]', (r) => r.filter((x) => x.getAttribute('opacity') === '0.12').length);
    const inv = new Int32Array(256);
    Array.from(want.perm!).forEach((t, p) => (inv[t] = p));
    let skipped = 0;
    for (let j = 0; j < 256; j++) if (!want.selection.codes[(1 * 256 + inv[100]) * want.selection.nkb + Math.floor(inv[j] / want.selection.block)]) skipped++;
    expect(dimmed).toBe(skipped);
    expect(await page.locator('[data-testid=vmoba-detail]').textContent()).toMatch(/Threshold τ = 0.25 over the scope "query_head"/);
    await shot(page, 'sparse-vmoba-video');
    // DraftAttention on the same grid: the draft map, θ and the draft-vs-true correlation.
    await page.selectOption('select:near(:text("Method"))', 'draft');
    await sparseShown(page, 'DraftAttention');
    const wantD = await runSparseMethod('draft', { ...x, causal: false, grid }, {});
    expect(Number(await page.locator('[data-testid=draft-corr]').textContent())).toBeCloseTo(wantD.draftCorr![1], 3);
    expect(await page.locator('[data-testid=draft-detail]').textContent()).toMatch(/over 16 cells; σ = 0.9 keeps \d+ of 256 cell pairs/);
    await shot(page, 'sparse-draft-video');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('TokenSelect on text: per-head criticality, the summed votes and the kept tokens', async () => {
    const { page, errors } = await openPage(env, '?v=1&h=8&kv=4&pattern=mixed&method=tokenselect&mp.nLocal=4&mp.topk=6&lock=40');
    await painted(page);
    await sparseShown(page, 'TokenSelect');
    const tokens = tokenize(DEFAULT_TEXT).map((t) => t.text);
    const x = syntheticQKV({ tokens, pattern: 'mixed', heads: 8, kvHeads: 4, headDim: 32, temperature: 1, seed: 7 });
    const want = await runSparseMethod('tokenselect', { ...x, causal: true }, { nLocal: 4, topk: 6 });
    const sel = want.tokenselect!.chunks[0].selected;
    expect(await page.locator('[data-testid=tokenselect-detail]').textContent()).toMatch(/the 6 tokens with the most votes are kept with the 1 sink and 4 recent tokens/);
    const kept = await page.$$eval('.kept-token', (k) => k.map((x) => Number(x.getAttribute('title')!.replace('token ', ''))));
    const N = tokens.length;
    expect(kept).toEqual([0, ...sel, ...Array.from({ length: 4 }, (_, i) => N - 4 + i)]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('switching to the difference and to dense redraws; the link keeps the method and its parameters', async () => {
    const { page, errors } = await openPage(env, '?v=1&h=4&kv=4&pattern=local&method=window&mp.window=6&mp.sinks=2&mp.block=4');
    await painted(page);
    await sparseShown(page, 'Sliding window');
    for (const name of ['difference', 'dense']) {
      const before = Number(await page.locator('[data-testid=heatmap-cells]').getAttribute('data-painted'));
      await page.getByRole('radio', { name, exact: true }).click();
      await painted(page, before + 1);
    }
    expect(await page.locator('.legend').first().textContent()).toMatch(/dense: attention weight/);
    await page.waitForFunction(() => location.search.includes('method=window') && location.search.includes('mp.window=6') && location.search.includes('cmp=reference'));
    expect(await page.locator('[data-testid=reason-legend]').textContent()).toMatch(/local window.*sink/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('FlexPrefill, SparseD and ThinK each show their own panel', async () => {
    const cases: [string, string, RegExp][] = [
      ['?v=1&h=4&kv=2&pattern=mixed&method=flexprefill&mp.block=4&mp.divisor=b', 'flex-detail', /Head 0: (query-aware|vertical-slash) — JS distance/],
      ['?v=1&h=4&kv=4&pattern=block&causal=0&method=sparsed', 'sparsed-detail', /dense for steps 0–25, the pattern computed at step 26, then this mask for 101 sparse steps/],
      ['?v=1&h=4&kv=2&d=16&pattern=random&method=think&mp.lambda=0.5', 'think-detail', /Key channels pruned per head \(λ = 0.5: 8 of 16\).*Key cache saved/],
    ];
    for (const [link, id, re] of cases) {
      const { page, errors } = await openPage(env, link);
      await painted(page);
      await page.waitForSelector(`[data-testid=${id}]`, { timeout: 60_000 });
      expect(await page.locator(`[data-testid=${id}]`).textContent()).toMatch(re);
      await shot(page, `sparse-${id}`);
      expect(errors).toEqual([]);
      await page.close();
    }
  });

  it('two methods side by side: both maps, one table, and the second method in the link', async () => {
    const { page, errors } = await openPage(env, '?v=1&h=8&kv=4&pattern=mixed&method=moba&mp.block=4&mp.topk=2&head=5');
    await painted(page);
    await sparseShown(page, 'MoBA');
    await page.getByLabel('Side by side with', { exact: true }).selectOption('window');
    await page.waitForSelector('[data-testid=sbs-table]', { timeout: 60_000 });
    await page.waitForFunction(() => location.search.includes('vs=window'));
    const cells = await page.$$eval('[data-testid=sbs-table] tbody tr', (rows) => rows.map((r) => Array.from(r.querySelectorAll('td'), (td) => td.textContent)));
    expect(cells[0][0]).toBe('density, head 5');
    // The MoBA column repeats the main table's numbers for head 5; the window's differ.
    const main = await table(page);
    expect(parseFloat(cells[0][1]!)).toBeCloseTo(main[5][0], 1);
    expect(cells[0][2]).not.toBe(cells[0][1]);
    expect(await page.locator('.side-by-side canvas.mini-map[data-painted]').count()).toBe(2);
    await shot(page, 'sparse-side-by-side');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('MoBA without the causal mask says why and keeps the dense attention on screen', async () => {
    const { page, errors } = await openPage(env, '?v=1&h=4&kv=4&method=moba&causal=0');
    await painted(page);
    await page.waitForSelector('[data-testid=error]');
    expect(await page.locator('[data-testid=error]').textContent()).toMatch(/Could not apply MoBA.*causal prefill.*Showing the source's attention/);
    expect(await page.locator('.sparse').count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });
});
