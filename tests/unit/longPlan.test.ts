import { describe, expect, it } from 'vitest';
import { fmtBytes, memoryBudget, planLong, poolBy } from '../../src/core/longPlan';
import { longText } from '../../src/core/longText';
import { tokenize } from '../../src/core/tokenize';
import { mulberry32 } from '../../src/core/prng';

describe('the long-context memory plan', () => {
  it('at 8192 tokens and 8 heads: the dense 4 GiB against a tiled plan of about 120 MiB', () => {
    const p = planLong({ Nq: 8192, Nk: 8192, H: 8, Hkv: 8, d: 64, workers: 2, budget: 2 ** 31 });
    expect(p.denseBytes).toBe(2 * 4 * 8 * 8192 * 8192);
    expect([p.fView, ...p.view, p.fGrid, ...p.grid]).toEqual([8, 1024, 1024, 32, 256, 256]);
    expect(p.status).toBe('tiled');
    expect(p.inputBytes).toBe(3 * 4 * 2 * 8 * 8192 * 64);
    expect(p.viewBytes).toBe(1024 * 1024 * 8);
    expect(p.gridBytes).toBe(8 * 256 * 256 * 8);
    expect(p.windowBytes).toBe(1536 * 1536 * 8);
    expect(p.totalBytes).toBe(p.inputBytes + p.kernelBytes + p.viewBytes + p.gridBytes + p.windowBytes);
    expect(p.lines.join(' ')).toMatch(/2 × 8 × 8192 × 8192 floats: 4\.0 GiB, more than the budget of 2\.0 GiB/);
  });

  it('lowers the grid, then the heatmap, to fit a small budget, and says when nothing fits', () => {
    const base = { Nq: 8192, Nk: 8192, H: 8, Hkv: 8, d: 64, workers: 2 };
    const a = planLong({ ...base, budget: 2 ** 31 });
    const b = planLong({ ...base, budget: a.totalBytes - 1 });
    expect(b.status).toBe('reduced');
    expect(b.fGrid).toBeGreaterThan(a.fGrid);
    expect(b.totalBytes).toBeLessThanOrEqual(a.totalBytes - 1);
    expect(b.lines.join(' ')).toMatch(/grid is shown at reduced resolution/);
    const c = planLong({ ...base, budget: 2 ** 20 });
    expect(c.status).toBe('over');
    expect(c.lines.at(-1)).toMatch(/more than the budget of 1\.0 MiB: use fewer tokens or heads/);
    // A short sequence is exact: no pooling, no window.
    const d = planLong({ ...base, Nq: 600, Nk: 600, budget: 2 ** 30 });
    expect([d.fView, d.windowBytes]).toEqual([1, 0]);
  });

  it('takes a budget from the device memory, and formats bytes', () => {
    expect(memoryBudget(8)).toBe(2 ** 31);
    expect(memoryBudget(4)).toBe(2 ** 30);
    expect(memoryBudget(0.5)).toBe(2 ** 28);
    expect(memoryBudget(undefined)).toBe(2 ** 30);
    expect([fmtBytes(1.5 * 2 ** 30), fmtBytes(24 * 2 ** 20), fmtBytes(2.5 * 2 ** 20), fmtBytes(512 * 1024)]).toEqual(['1.5 GiB', '24 MiB', '2.5 MiB', '512 KiB']);
  });
});

describe('poolBy', () => {
  it('is the max of every block, masked (−1) only where the whole block is', () => {
    const rnd = mulberry32(3);
    const P = 37, Pc = 29;
    const m = Float32Array.from({ length: P * Pc }, (_, i) => (Math.floor(i / Pc) < i % Pc ? -1 : rnd()));
    for (const k of [1, 2, 4, 5]) {
      const r = poolBy(m, P, Pc, k);
      expect([r.P, r.Pc]).toEqual([Math.ceil(P / k), Math.ceil(Pc / k)]);
      for (let R = 0; R < r.P; R++)
        for (let C = 0; C < r.Pc; C++) {
          let want = -1;
          for (let i = R * k; i < Math.min(P, R * k + k); i++) for (let j = C * k; j < Math.min(Pc, C * k + k); j++) want = Math.max(want, m[i * Pc + j]);
          expect(r.map[R * r.Pc + C]).toBe(want);
        }
    }
  });
});

describe('the built-in long text', () => {
  it('has at least the asked tokens, repeats names and places at every distance, and is seeded', () => {
    const t = longText(8192, 1);
    const toks = tokenize(t).map((x) => x.text);
    expect(toks.length).toBeGreaterThanOrEqual(8192);
    expect(toks.length).toBeLessThan(8192 + 17);
    expect(toks.slice(0, 2)).toEqual(['When', toks[1]]);
    expect(longText(8192, 1)).toBe(t);
    expect(longText(8192, 2)).not.toBe(t);
    expect(new Set(toks).size).toBeLessThan(60);
  });
});
