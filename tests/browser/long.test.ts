import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { ARTIFACTS, openPage, startEnv, type Env } from './setup';
import { golden, maxAbsDiff } from '../unit/goldens';
import { writeSafetensors } from '../../src/io/safetensors';
import { mulberry32, gaussian } from '../../src/core/prng';

let env: Env;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => {
  await env?.close();
});

/** Waits until the long page has its shown head and every grid tile, and no job runs. */
async function settled(page: Page, timeout = 120_000): Promise<void> {
  await page.waitForFunction(
    () => {
      const s = (window as unknown as { __qkLong?: { store: { getState(): { view: unknown; grid: unknown[]; job: unknown; window: unknown; wantWindow: unknown } } } }).__qkLong?.store.getState();
      return !!s && !!s.view && s.grid.length > 0 && s.grid.every(Boolean) && !s.job && (!s.wantWindow || !!s.window);
    },
    null,
    { timeout, polling: 50 },
  );
}

type LongWin = Window & { __qkLong: { store: { getState(): Record<string, never> & { set(p: object): void } }; controller: { cancel(): void } } };

describe('the attention-map kernel in Chromium (issue 9)', () => {
  it('matches PyTorch on every golden case, with and without fused multiply-add', async () => {
    const { page } = await openPage(env, 'bench.html');
    await page.waitForFunction(() => 'qkLong' in window, null, { timeout: 60_000 });
    for (const variant of ['simd', 'fma'] as const) {
      for (const c of golden.cases) {
        const r = await page.evaluate(([c, v]) => (window as unknown as { qkLong: { goldenCase(c: unknown, v: string): { variant: string; weights: number[]; entropy: number[] } } }).qkLong.goldenCase(c, v), [c, variant] as const);
        expect(r.variant).toBe(variant);
        expect(maxAbsDiff(r.weights, c.weights), `${variant} ${c.name}`).toBeLessThan(3e-6);
        r.entropy.forEach((e, h) => expect(e).toBeCloseTo(c.stats.entropy[h], 4));
      }
    }
    await page.close();
  });
});

describe('the long path on tfjs backends (issue 9)', () => {
  it('WebGL and WebGPU tile past 8192 keys, WASM and CPU run the registered kernel; all match the WebAssembly kernel and leak no tensors', async () => {
    const { page } = await openPage(env, 'bench.html');
    await page.waitForFunction(() => 'qkLong' in window, null, { timeout: 60_000 });
    for (const backend of ['webgl', 'webgpu', 'wasm', 'cpu'] as const) {
      // 64 queries at the end of 8200 keys: every tile of the tiled path is at most 256 × 2048.
      const r = await page.evaluate((b) => (window as unknown as { qkLong: { tfPooled(b: string, nq: number, nk: number, d: number, f: number): Promise<Record<string, unknown>> } }).qkLong.tfPooled(b, 64, 8200, 16, 8), backend);
      expect(r.error, backend).toBeUndefined();
      expect(r.backend).toBe(backend);
      expect(r.path).toBe(backend === 'webgl' || backend === 'webgpu' ? 'tiled' : 'kernel');
      expect(r.maxDiff as number, backend).toBeLessThan(2e-6);
      expect(r.leaked).toBe(0);
    }
    await page.close();
  });
});

describe('long-context page at 8192 tokens (issue 9)', () => {
  it('shows the head and the grid, its memory plan, zooms to exact cells, and hovers exact values', async () => {
    const { page, errors } = await openPage(env, '?long=8192&head=3');
    await page.setViewportSize({ width: 1440, height: 1100 });
    await settled(page);
    const info = await page.evaluate(() => {
      const s = (window as unknown as LongWin).__qkLong.store.getState() as unknown as { view: { f: number; P: number; map: Float32Array; head: number }; grid: { P: number; map: Float32Array }[]; plan: { denseBytes: number; totalBytes: number; budget: number }; inputs: { N: number; H: number } };
      const held = s.view.map.byteLength + s.grid.reduce((a, g) => a + g.map.byteLength, 0);
      return { N: s.inputs.N, H: s.inputs.H, head: s.view.head, f: s.view.f, P: s.view.P, gridP: s.grid.map((g) => g.P), held, plan: s.plan };
    });
    expect(info).toMatchObject({ N: 8192, H: 8, head: 3, f: 8, P: 1024 });
    expect(info.gridP).toEqual(Array(8).fill(256));
    // The maps held are the visible ones: 1024² for the shown head and 256² per grid tile, not [8, 8192, 8192].
    expect(info.held).toBe(4 * (1024 * 1024 + 8 * 256 * 256));
    expect(info.plan.denseBytes).toBe(2 * 4 * 8 * 8192 * 8192);
    expect(info.plan.totalBytes).toBeLessThan(info.plan.budget);
    await expect(page.textContent('[data-testid=long-plan]')).resolves.toMatch(/dense path would hold .* 4\.0 GiB/);
    await page.screenshot({ path: join(ARTIFACTS, 'long-8192.png') });

    // Peaks survive pooling: a pooled cell is the largest exact weight of its 8 × 8 block
    // (computed here by a plain loop over Q and K, in double precision).
    const peaks = await page.evaluate(() => {
      const s = (window as unknown as LongWin).__qkLong.store.getState() as unknown as { view: { map: Float32Array; Pc: number; f: number; head: number }; inputs: { q: Float32Array; k: Float32Array; N: number; d: number; kvOf: number[]; scale: number } };
      const { q, k, N, d, kvOf, scale } = s.inputs;
      const h = s.view.head;
      const row = (i: number) => {
        const sc = new Float64Array(i + 1);
        let m = -Infinity;
        for (let j = 0; j <= i; j++) {
          let x = 0;
          for (let t = 0; t < d; t++) x += q[(h * N + i) * d + t] * k[(kvOf[h] * N + j) * d + t];
          sc[j] = x * scale;
          m = Math.max(m, sc[j]);
        }
        let l = 0;
        for (let j = 0; j <= i; j++) l += Math.exp(sc[j] - m);
        return Array.from(sc, (x) => Math.exp(x - m) / l);
      };
      const out: number[] = [];
      for (const [R, C] of [[700, 3], [900, 450], [1023, 1023], [5, 5]]) {
        let best = -1;
        for (let i = R * 8; i < R * 8 + 8; i++) {
          const w = row(i);
          for (let j = C * 8; j < Math.min(i + 1, C * 8 + 8); j++) best = Math.max(best, w[j]);
        }
        out.push(Math.abs(best - s.view.map[R * s.view.Pc + C]));
      }
      return out;
    });
    for (const e of peaks) expect(e).toBeLessThan(2e-6);

    // Zoom in 32×: 256 cells a side, where the page computes the window's exact weights.
    for (let i = 0; i < 5; i++) await page.click('.long-heatmap button[aria-label="zoom in"]');
    await page.waitForFunction(() => /exact weights/.test(document.querySelector('.long-heatmap .legend')?.textContent ?? ''), null, { timeout: 60_000 });
    const box = (await page.locator('[data-testid=long-overlay]').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.61, box.y + box.height * 0.73);
    await page.waitForSelector('[data-testid=long-tip]:not([hidden])');
    const tip = (await page.textContent('[data-testid=long-tip]'))!;
    const m = /query (\d+) .* key (\d+) .*weight ([-\d.e]+)/s.exec(tip);
    expect(m, tip).not.toBeNull();
    const [i, j, shown] = [Number(m![1]), Number(m![2]), Number(m![3])];
    const want = await page.evaluate(([i, j]) => {
      const s = (window as unknown as LongWin).__qkLong.store.getState() as unknown as { view: { head: number }; window: { r0: number; c0: number; c1: number; data: Float32Array }; inputs: { q: Float32Array; k: Float32Array; N: number; d: number; kvOf: number[]; scale: number } };
      const { q, k, N, d, kvOf, scale } = s.inputs;
      const h = s.view.head;
      const sc = new Float64Array(i + 1);
      for (let jj = 0; jj <= i; jj++) {
        let x = 0;
        for (let t = 0; t < d; t++) x += q[(h * N + i) * d + t] * k[(kvOf[h] * N + jj) * d + t];
        sc[jj] = x * scale;
      }
      const mx = Math.max(...sc);
      const l = sc.reduce((a, x) => a + Math.exp(x - mx), 0);
      const w = s.window;
      return { exact: j <= i ? Math.exp(sc[j] - mx) / l : 0, cell: w.data[(i - w.r0) * (w.c1 - w.c0) + (j - w.c0)] };
    }, [i, j] as const);
    expect(Math.abs(shown - want.exact)).toBeLessThan(1e-5 * Math.max(1, want.exact) + 5e-6);
    if (j <= i) expect(Math.abs(want.cell - want.exact)).toBeLessThan(2e-6);
    await page.screenshot({ path: join(ARTIFACTS, 'long-zoom.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('cancels a computation and keeps what was on screen; the next change computes again', async () => {
    const { page, errors } = await openPage(env, '?long=8192');
    await settled(page);
    await page.evaluate(() => ((window as unknown as { before: unknown }).before = ((window as unknown as LongWin).__qkLong.store.getState() as unknown as { view: unknown }).view));
    await page.selectOption('select:below(:text("Pattern"))', 'induction');
    await page.waitForSelector('[data-testid=long-cancel]');
    await page.click('[data-testid=long-cancel]');
    await page.waitForSelector('[data-testid=long-job]', { state: 'detached' });
    await expect(page.textContent('[role=status].notice')).resolves.toMatch(/Cancelled/);
    // The very map object that was on screen is still there.
    await expect(page.evaluate(() => ((window as unknown as LongWin).__qkLong.store.getState() as unknown as { view: unknown }).view === (window as unknown as { before: unknown }).before)).resolves.toBe(true);
    await page.click('[data-testid=long-tile-2]');
    await settled(page);
    const s = await page.evaluate(() => {
      const st = (window as unknown as LongWin).__qkLong.store.getState() as unknown as { view: { head: number }; source: { pattern: string }; error: string | null };
      return { head: st.view.head, pattern: st.source.pattern, error: st.error };
    });
    expect(s).toEqual({ head: 2, pattern: 'induction', error: null });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('computes on a tfjs backend when asked (WebGL, tiled) with the same map as the kernel', async () => {
    const { page, errors } = await openPage(env, '?long=1024&head=1');
    await settled(page);
    // The maps stay in the page (a million numbers through the test protocol take seconds).
    await page.evaluate(() => ((window as unknown as { kernelMap: Float32Array }).kernelMap = ((window as unknown as LongWin).__qkLong.store.getState() as unknown as { view: { map: Float32Array } }).view.map));
    await page.selectOption('select:below(:text("Compute on"))', 'webgl');
    // The shown head is computed first (the grid follows; software WebGL is slow, so the test stops there).
    await page.waitForFunction(() => /"webgl"\]$/.test(((window as unknown as LongWin).__qkLong.store.getState() as unknown as { view: { key: string } }).view.key), null, { timeout: 120_000, polling: 100 });
    // Stop the grid's software-WebGL work (it would slow the next steps and tests).
    await page.evaluate(() => (window as unknown as LongWin).__qkLong.controller.cancel());
    await expect(page.textContent('[data-testid=long-status]')).resolves.toMatch(/tfjs webgl/);
    const diff = await page.evaluate(() => {
      const a = ((window as unknown as LongWin).__qkLong.store.getState() as unknown as { view: { map: Float32Array } }).view.map;
      const b = (window as unknown as { kernelMap: Float32Array }).kernelMap;
      return a.length === b.length ? a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0) : Infinity;
    });
    expect(diff).toBeLessThan(2e-6);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('opens a 10000-token Q/K dump, and refuses a weights file with a message while the maps stay', async () => {
    const { page, errors } = await openPage(env, '?long=1024');
    await settled(page);
    const N = 10_000, H = 2, d = 16;
    const g = gaussian(mulberry32(11));
    const q = Float32Array.from({ length: H * N * d }, () => g());
    const k = Float32Array.from({ length: H * N * d }, () => g());
    const dump = writeSafetensors({ q: { shape: [H, N, d], data: q }, k: { shape: [H, N, d], data: k } });
    const input = page.locator('input[aria-label="open a Q/K dump"]');
    await input.setInputFiles({ name: 'attn.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(writeSafetensors({ attn: { shape: [2, 6, 6], data: new Float32Array(72).fill(1 / 6) } })) });
    await page.waitForSelector('[role=alert]');
    await expect(page.textContent('[role=alert]')).resolves.toMatch(/attention weights; the long-context view computes maps from a Q\/K dump/);
    await expect(page.textContent('[data-testid=long-status]')).resolves.toMatch(/^1024 tokens/);
    await input.setInputFiles({ name: 'long.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(dump) });
    await page.waitForFunction(() => /^10000 tokens · 2 heads/.test(document.querySelector('[data-testid=long-status]')?.textContent ?? ''), null, { timeout: 60_000 });
    await settled(page);
    const f = await page.evaluate(() => ((window as unknown as LongWin).__qkLong.store.getState() as unknown as { view: { f: number; P: number } }).view);
    expect([f.f, f.P]).toEqual([10, 1000]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
