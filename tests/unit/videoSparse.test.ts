import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { thresholdScope, vmobaPartition, vmobaSelect, type Partition, type VmobaScope } from '../../src/methods/sparse/vmoba';
import { draftReorder, draftSelect, draftThreshold } from '../../src/methods/sparse/draft';
import { softVote, tokenSelect } from '../../src/methods/sparse/tokenselect';
import { ropeInvFreq, ropeRotate } from '../../src/core/rope';
import { runSparseMethod } from '../../src/index';
import { maxAbsDiff } from './goldens';
import { libraryParams } from './sparseGolden';

const golden = (name: string) => JSON.parse(readFileSync(join(import.meta.dirname, '..', 'golden', name), 'utf8'));
const tensors = (c: { H: number; Hkv: number; N: number; d: number; dv: number; q: number[]; k: number[]; v: number[] }) => ({
  q: { shape: [c.H, c.N, c.d], data: Float32Array.from(c.q) },
  k: { shape: [c.Hkv, c.N, c.d], data: Float32Array.from(c.k) },
  v: { shape: [c.Hkv, c.N, c.dv], data: Float32Array.from(c.v) },
});

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A library run of a golden case: weights, outputs (original order), dense reference and §0.7 metrics. */
async function expectLibraryRun(id: 'vmoba' | 'draft' | 'tokenselect', c: GoldenRun & { H: number; Hkv: number; N: number; d: number; dv: number; q: number[]; k: number[]; v: number[]; params: Record<string, unknown> }) {
  const run = await runSparseMethod(id, { ...tensors(c), causal: id === 'tokenselect' }, libraryParams(id, c.params));
  expect(maxAbsDiff(run.weights, c.weights)).toBeLessThanOrEqual(1e-5);
  expect(maxAbsDiff(run.output, c.output)).toBeLessThanOrEqual(1e-5);
  if (c.dense_weights) expect(maxAbsDiff(run.refWeights, c.dense_weights)).toBeLessThanOrEqual(1e-5);
  expect(maxAbsDiff(run.metrics.density, c.density)).toBeLessThanOrEqual(1e-6);
  expect(maxAbsDiff(run.metrics.recallMean, c.recall_mean)).toBeLessThanOrEqual(1e-5);
  expect(Math.abs(run.metrics.relFrob - c.rel_frob)).toBeLessThanOrEqual(1e-5 * Math.max(1, c.rel_frob));
  return run;
}
interface GoldenRun {
  weights: number[];
  output: number[];
  dense_weights: number[] | null;
  density: number[];
  recall_mean: number[];
  rel_frob: number;
}

// Goldens from scripts/make_vmoba_goldens.py (an independent PyTorch VMoBA, ALGORITHMS.md §5).
describe('VMoBA (§5) against the spec and the PyTorch goldens', () => {
  const G = golden('vmoba.json');

  it('partition test vectors: 1D identity, 2D (1, 2) → [0,1,4,5,2,3,6,7], 3D (1, 1, 2) identity', () => {
    expect(G.vectors.partition.length).toBe(3);
    for (const v of G.vectors.partition) {
      const ct = v.partition === '1d' ? v.ct : v.ct ?? 1;
      const { perm } = vmobaPartition({ T: v.T, Hp: v.Hp, Wp: v.Wp }, v.partition as Partition, ct, v.ch ?? 1, v.cw ?? 1);
      expect(Array.from(perm)).toEqual(v.perm);
    }
    expect(Array.from(vmobaPartition({ T: 2, Hp: 2, Wp: 2 }, '2d', 1, 1, 2).perm)).toEqual([0, 1, 4, 5, 2, 3, 6, 7]);
  });

  it('head_global threshold vector: τ = 0.25 adds exactly (chunk 0, query 4); τ = 0.9 adds (0,4), (2,1), (0,3)', () => {
    const gate = [
      [4, 3, 0, 1, 2, 0],
      [1, 0, 5, 4, 1, 0],
      [0, 2, 1, 0, 3, 5],
    ];
    const chunkOf = [0, 0, 1, 1, 2, 2];
    const flat: number[] = [];
    const self: boolean[] = [];
    for (let c = 0; c < 3; c++)
      for (let i = 0; i < 6; i++) {
        flat.push(gate[c][i]);
        self.push(chunkOf[i] === c);
      }
    const pick = (tau: number) => thresholdScope(flat, self, tau).chosen.map((e) => [Math.floor(e / 6), e % 6]);
    expect(pick(0.25)).toEqual([[0, 4]]);
    expect(pick(0.9)).toEqual([
      [0, 4],
      [2, 1],
      [0, 3],
    ]);
    for (const v of G.vectors.head_global) expect(pick(v.tau)).toEqual(v.extras);
    const r = thresholdScope(flat, self, 0.9);
    [0.0625, 0.125, 0.15625].forEach((x, m) => expect(r.ratios[m]).toBeCloseTo(x, 5));
  });

  for (const c of G.cases) {
    it(`${c.name}: permutation, gates, the selection exactly, attention within 1e-5 and the metrics`, async () => {
      const x = tensors(c);
      const p = c.params;
      const grid = { T: p.T, Hp: p.Hp, Wp: p.Wp };
      const partition = p.partition as Partition;
      const r = vmobaSelect(x, { grid, partition, ct: p.ct ?? 1, ch: p.ch ?? 1, cw: p.cw ?? 1, mode: p.mode, topk: p.topk ?? 1, scope: (p.scope ?? 'query_head') as VmobaScope, tau: p.tau ?? 0 });
      expect(Array.from(r.perm)).toEqual(c.perm);
      expect(r.block).toBe(c.block);
      expect(r.nchunks).toBe(c.nchunks);
      expect(maxAbsDiff(r.gate, c.gate)).toBeLessThanOrEqual(1e-4);
      const rows = Array.from({ length: c.H }, (_, h) =>
        Array.from({ length: c.N }, (_, i) => Array.from(r.selection.codes.subarray((h * c.N + i) * r.nchunks, (h * c.N + i + 1) * r.nchunks), (v, ch) => (ch === Math.floor(i / r.block) ? 's' : v ? 'x' : '.')).join('')),
      );
      expect(rows).toEqual(c.selected);
      expect(r.denseFallback).toBe(c.dense_fallback);
      // The library run: the same selection through the block-sparse kernel, in the original order.
      await expectLibraryRun('vmoba', c);
    });
  }

  it('a grid that does not match the input says so; the causal mask is refused with the reason', async () => {
    const c = G.cases[0];
    const x = tensors(c);
    await expect(runSparseMethod('vmoba', { ...x, causal: false }, { frames: 3, height: 4, width: 4 })).rejects.toThrow(/grid 3 × 4 × 4 holds 48 tokens; this input has 64/);
    await expect(runSparseMethod('vmoba', { ...x, causal: true }, { frames: 4, height: 4, width: 4 })).rejects.toThrow(/switch the causal mask off/);
    await expect(runSparseMethod('vmoba', { ...x, causal: false }, { frames: 4, height: 4, width: 4, partition: '2d', ch: 3 })).rejects.toThrow(/must divide the grid height 4/);
  });
});

// Goldens from scripts/make_draft_goldens.py (an independent PyTorch DraftAttention, §9).
describe('DraftAttention (§9) against the spec and the PyTorch goldens', () => {
  const G = golden('draft.json');

  it('threshold vector: 10 distinct values, σ = 0.8 → k = 8 → 3 entries kept, not 2 (Quirk R1)', () => {
    const t = draftThreshold(G.vectors.threshold.values, 0.8);
    expect(Array.from(t.keep).reduce((a, b) => a + b, 0)).toBe(3);
    expect([...t.keep].flatMap((v, i) => (v ? [i] : []))).toEqual(G.vectors.threshold.kept);
    expect(draftThreshold([1, 2, 3], 0).keep).toEqual(Uint8Array.from([1, 1, 1]));
    expect(draftThreshold([1, 2, 3], 1).keep).toEqual(Uint8Array.from([0, 0, 0]));
  });

  it('reorder vector: one frame 2 × 4, pool 2 × 2 → [0,1,4,5,2,3,6,7]', () => {
    expect(Array.from(draftReorder({ T: 1, Hp: 2, Wp: 4 }, 2, 2, 8))).toEqual([0, 1, 4, 5, 2, 3, 6, 7]);
    expect(Array.from(draftReorder({ T: 1, Hp: 2, Wp: 4 }, 2, 2, 10))).toEqual([0, 1, 4, 5, 2, 3, 6, 7, 8, 9]); // text keeps its place
  });

  for (const c of G.cases) {
    it(`${c.name}: draft map, kept cells and block mask exactly, attention within 1e-5, metrics`, async () => {
      const x = tensors(c);
      const p = c.params;
      const grid = { T: p.F, Hp: p.h, Wp: p.w };
      const r = draftSelect(x, { grid, ph: p.ph, pw: p.pw, sparsity: p.sparsity });
      expect(Array.from(r.perm)).toEqual(c.perm);
      expect(r.S).toBe(c.S);
      expect(maxAbsDiff(r.draft, c.draft)).toBeLessThanOrEqual(1e-6);
      const keep = Array.from({ length: c.H }, (_, h) => Array.from({ length: c.S }, (_, a) => Array.from(r.keep.subarray((h * c.S + a) * c.S, (h * c.S + a + 1) * c.S)).join('')));
      expect(keep).toEqual(c.keep);
      const nb = r.selection.nkb;
      expect(nb).toBe(c.nblocks);
      const blocks = Array.from({ length: c.H }, (_, h) => Array.from({ length: nb }, (_, a) => Array.from(r.selection.codes.subarray((h * nb + a) * nb, (h * nb + a + 1) * nb), (v) => (v ? '1' : '0')).join('')));
      expect(blocks).toEqual(c.block_mask);
      const run = await expectLibraryRun('draft', c);
      expect(maxAbsDiff(run.draftCorr!, c.draft_corr)).toBeLessThanOrEqual(1e-4);
    });
  }
});

// Goldens from scripts/make_tokenselect_goldens.py (an independent PyTorch TokenSelect, §10).
describe('TokenSelect (§10) against the spec and the PyTorch goldens', () => {
  const G = golden('tokenselect.json');

  it('voting vector: S = [0.84571, 0.23073, 0.46178, 0.46178]; k = 2 selects {0, 2} (the tie goes to the lower index)', () => {
    const { votes, soft } = softVote(Float32Array.from([2, 0, 0, 0, 0, 0, 1, 1]), 2, 4);
    expect(Array.from(soft.subarray(0, 4)).map((x) => +x.toFixed(5))).toEqual([0.71123, 0.09626, 0.09626, 0.09626]);
    expect(Array.from(votes).map((x) => +x.toFixed(5))).toEqual([0.84571, 0.23073, 0.46178, 0.46178]);
    const q = { shape: [2, 6, 1], data: new Float32Array(12) };
    const k = { shape: [2, 6, 1], data: new Float32Array(12) };
    // One chunk of 6, n_init 1, n_local 1: candidates 1..4; raw dot products z = q̃ · k give the vector.
    q.data.fill(1);
    [2, 0, 0, 0].forEach((z, j) => (k.data[1 + j] = z));
    [0, 0, 1, 1].forEach((z, j) => (k.data[6 + 1 + j] = z));
    const r = tokenSelect({ q, k }, { nInit: 1, nLocal: 1, topk: 2, chunk: 6, rotate: false, base: 10000, kernel: 0, mapping: 'contiguous' });
    expect(r.chunks[0].selected).toEqual([1, 3]); // candidates 0 and 2, offset by n_init
  });

  it('RoPE vectors (§12.1): [1, 0] at position 1 turns by one radian', () => {
    const out = new Float32Array(2);
    ropeRotate([1, 0], 0, 2, 1, ropeInvFreq(2, 10000), out);
    expect(out[0]).toBeCloseTo(0.540302, 6);
    expect(out[1]).toBeCloseTo(0.841471, 6);
  });

  for (const c of G.cases) {
    it(`${c.name}: fingerprints, votes and the selection exactly, attention within 1e-5, metrics`, async () => {
      const x = tensors(c);
      const p = c.params;
      const params = { nInit: p.n_init, nLocal: p.n_local, topk: p.topk, chunk: p.chunk, rotate: p.rotate, base: p.base, kernel: p.kernel, mapping: p.mapping === 'modulo' ? ('interleaved' as const) : ('contiguous' as const) };
      const r = tokenSelect(x, params);
      expect(r.chunks.length).toBe(c.chunks.length);
      c.chunks.forEach((g: { start: number; end: number; selecting: boolean; votes: number[] | null; selected: number[] | null; overhead: number }, i: number) => {
        const ch = r.chunks[i];
        expect([ch.start, ch.end, ch.selecting]).toEqual([g.start, g.end, g.selecting]);
        if (g.selecting) {
          expect(maxAbsDiff(ch.votes!, g.votes!)).toBeLessThanOrEqual(1e-5);
          expect(ch.selected).toEqual(g.selected);
          expect(ch.overhead).toBe(g.overhead);
        }
      });
      await expectLibraryRun('tokenselect', c);
    });
  }
});
