import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { blockSparseAttention, type SparseSpec } from '../../src/compute/blockSparse';
import { mobaSelect } from '../../src/methods/sparse/moba';
import { G, run } from './sparseGolden';
import { allowedBy, emptySelection, type BlockSelection, type TokenRule } from '../../src/methods/sparse/selection';
import { referenceAttention } from '../../src/core/referenceAttention';
import { syntheticQKV } from '../../src/core/synthetic';
import { maxAbsDiff } from './goldens';

beforeAll(async () => {
  await tf.setBackend('cpu');
});


const specOf = (s: BlockSelection, rule: TokenRule | null, tile?: number): SparseSpec => ({ rowsPer: s.rowsPer, nRows: s.nRows, block: s.block, nkb: s.nkb, codes: s.codes, rule, tile });

describe('block-sparse kernel on the tfjs cpu backend', () => {
  for (const c of G.cases) {
    it(`${c.name}: weights and outputs match PyTorch within 1e-5, no tensor left behind`, async () => {
      const q = { shape: [c.H, c.N, c.d], data: Float32Array.from(c.q) };
      const v = { shape: [c.Hkv, c.N, c.dv], data: Float32Array.from(c.v) };
      const { sel, rule, attnK } = run(c);
      const before = tf.memory().numTensors;
      const r = await blockSparseAttention({ q, k: attnK, v }, { causal: true }, specOf(sel, rule), true);
      expect(tf.memory().numTensors).toBe(before);
      expect(maxAbsDiff(r.weights!, c.weights)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(r.output, c.output)).toBeLessThanOrEqual(1e-5);
      expect(r.computed).toBeGreaterThanOrEqual(r.pairs);
    });
  }

  it('per-query selections with small tiles compute fewer pairs than with block-sized tiles, same numbers', async () => {
    const tokens = Array.from({ length: 96 }, (_, i) => `w${i % 17}`);
    const x = syntheticQKV({ tokens, pattern: 'mixed', heads: 4, kvHeads: 2, headDim: 16, temperature: 1, seed: 5 });
    const { selection } = mobaSelect(x, { block: 16, topk: 3 });
    const big = await blockSparseAttention(x, { causal: true }, specOf(selection, null, 16), true);
    const small = await blockSparseAttention(x, { causal: true }, specOf(selection, null, 4), true);
    expect(small.pairs).toBe(big.pairs);
    expect(small.computed).toBeLessThan(big.computed);
    expect(maxAbsDiff(small.weights!, Array.from(big.weights!))).toBeLessThanOrEqual(1e-6);
    const ref = referenceAttention(x, { causal: true, allowed: allowedBy(selection, null, true) });
    expect(maxAbsDiff(big.output, Array.from(ref.output))).toBeLessThanOrEqual(1e-5);
  });

  it('a row with nothing selected gives zero weights and a zero output; bidirectional works', async () => {
    const tokens = Array.from({ length: 10 }, (_, i) => `t${i}`);
    const x = syntheticQKV({ tokens, pattern: 'random', heads: 2, kvHeads: 1, headDim: 4, temperature: 1, seed: 1 });
    const sel = emptySelection(2, 10, 10, 5, 4); // query rows in blocks of 5, key blocks of 4 (the last partial)
    // Head 0: rows 0–4 see key block 2 (keys 8, 9), rows 5–9 nothing. Head 1: everything.
    sel.codes[(0 * 2 + 0) * 3 + 2] = 1;
    sel.codes.fill(1, 2 * 3, 4 * 3);
    const r = await blockSparseAttention(x, { causal: false }, specOf(sel, null), true);
    const ref = referenceAttention(x, { causal: false, allowed: allowedBy(sel, null, false) });
    expect(maxAbsDiff(r.weights!, Array.from(ref.weights))).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(r.output, Array.from(ref.output))).toBeLessThanOrEqual(1e-6);
    expect(Array.from(r.output.subarray(5 * 4, 10 * 4)).every((v) => v === 0)).toBe(true);
    expect(r.weights![8]).toBeGreaterThan(0); // head 0, row 0 attends to key 8 (bidirectional)
    const dense = referenceAttention(x, { causal: false });
    expect(maxAbsDiff(r.weights!.subarray(100), Array.from(dense.weights.subarray(100)))).toBeLessThanOrEqual(1e-6);
  });

  it('block-level tiles sharing one mask (diagonal last, or none) match the reference, causal and not', async () => {
    // Whole tiles of 8 rows over blocks of 8: in each bucket the tiles share their mask when every
    // last block is the diagonal (or none is); a partial last block and a mixed bucket use per-tile masks.
    for (const N of [64, 61]) {
      const tokens = Array.from({ length: N }, (_, i) => `w${i % 13}`);
      const x = syntheticQKV({ tokens, pattern: 'mixed', heads: 3, kvHeads: 1, headDim: 8, temperature: 1, seed: 4 });
      for (const causal of [true, false]) {
        const sel = emptySelection(3, N, N, 8, 8);
        const nb = sel.nkb;
        for (let h = 0; h < 3; h++)
          for (let I = 0; I < nb; I++) {
            const row = (h * nb + I) * nb;
            sel.codes[row + (causal ? I : (I + h) % nb)] = h === 2 && I % 2 ? 0 : 1; // head 2: odd rows miss their diagonal
            if (I > 0) sel.codes[row + ((I * 5 + h) % I)] = 1;
            if (!causal) sel.codes[row + (I + 3) % nb] = 1;
          }
        const r = await blockSparseAttention(x, { causal }, specOf(sel, null), true);
        const ref = referenceAttention(x, { causal, allowed: allowedBy(sel, null, causal) });
        expect(maxAbsDiff(r.weights!, Array.from(ref.weights)), `N=${N} causal=${causal}`).toBeLessThanOrEqual(1e-6);
        expect(maxAbsDiff(r.output, Array.from(ref.output)), `N=${N} causal=${causal}`).toBeLessThanOrEqual(1e-5);
        let pairs = 0;
        const ok = allowedBy(sel, null, causal);
        for (let h = 0; h < 3; h++) for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) if (ok(h, i, j)) pairs++;
        expect(r.pairs).toBe(pairs);
      }
    }
  });

  it('refuses codes that do not fit the inputs, naming the geometry', async () => {
    const tokens = ['a', 'b', 'c'];
    const x = syntheticQKV({ tokens, pattern: 'random', heads: 1, kvHeads: 1, headDim: 2, temperature: 1, seed: 1 });
    await expect(blockSparseAttention(x, { causal: true }, { rowsPer: 1, nRows: 3, block: 2, nkb: 1, codes: new Uint8Array(3), rule: null }, false)).rejects.toThrow(/does not fit 3 queries × 3 keys/);
  });
});
