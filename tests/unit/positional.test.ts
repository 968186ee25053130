import { beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { fileFromBytes, inspectCheckpoint, readWeights } from '../../src/models/checkpoint';
import { createModel, forward } from '../../src/compute/forward';
import { ropeDistanceCurve, ropeInvFreq, ropeRotate } from '../../src/core/rope';
import { referenceAttention } from '../../src/core/referenceAttention';
import type { Tensor } from '../../src/core/tensor';
import { applyRope, mergeLockQkv } from '../../src/methods/positional/qkTransforms';
import { syntheticQKV } from '../../src/core/synthetic';
import { tokenize } from '../../src/core/tokenize';
import { DEFAULT_TEXT } from '../../src/state/defaults';
import { McqaError, argmaxFirst, formatPrompt, locateOptions, parsePrompt, parseQuestionSet, qkReadout, qkScores } from '../../src/methods/positional/qkscore';
import { qkNorm } from '../../src/methods/positional/qknorm';
import { applyMergeLock, commutesWithRope, mat, mergeLockWarnings, sampleMergeLock, type Mat } from '../../src/methods/positional/mergelock';
import { maxAbsDiff } from './goldens';
import { runMethod } from '../../src/index';

// Written by scripts/make_qk_goldens.py (PyTorch, float64) from ALGORITHMS.md §11, §12.1, §12.2, §12.6.
const ROOT = join(import.meta.dirname, '..', '..');
// The golden file's nested JSON, read as documented in scripts/make_qk_goldens.py.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const G = JSON.parse(readFileSync(join(ROOT, 'tests', 'golden', 'qk.json'), 'utf8')) as Json;
const flat = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x as number]);
const maxAbs = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, x) => Math.max(a, Math.abs(x)), 0);

async function loadFixture(dir: string) {
  const files = readdirSync(join(ROOT, dir)).map((n) => fileFromBytes(n, new Uint8Array(readFileSync(join(ROOT, dir, n)))));
  const info = await inspectCheckpoint(files);
  return { info, weights: await readWeights(info) };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('QK-score and Attention Score (§11)', () => {
  it('the spec vector: S_QK = [0.5, 2, −1, 0] picks B', () => {
    const t = G.qkscore.spec_test;
    // One head, five tokens: the option keys at 0..3, the query at 4.
    const q: Tensor = { shape: [1, 5, 2], data: Float32Array.from([0, 0, 0, 0, 0, 0, 0, 0, ...t.q]) };
    const k: Tensor = { shape: [1, 5, 2], data: Float32Array.from([...t.k.flat(), 0, 0]) };
    const s = qkScores(q, k, 4, [0, 1, 2, 3])[0];
    expect(s).toEqual(t.S_QK);
    expect(argmaxFirst(s)).toBe(t.pred);
    expect(argmaxFirst([1, 3, 3, 0])).toBe(1);
  });

  for (const m of G.qkscore.models as Json[]) {
    it(`${m.name}: per layer and head, S_QK (pre-RoPE${m.S_QK_rope ? ' and post-RoPE' : ''}) and S_Att against PyTorch, with the same picks, and the letter logits`, async () => {
      const { info, weights } = await loadFixture(m.dir);
      const model = createModel(info.config, weights);
      try {
        const r = await forward(model, G.qkscore.ids);
        const at = { pN: G.qkscore.p_N, positions: G.qkscore.positions, exact: [true, true, true, true] };
        const layers = r.layers.map((l) => l!);
        const pre = qkReadout(layers, at);
        const scale = Math.max(maxAbs(flat(m.S_QK)), 1);
        expect(maxAbsDiff(Float64Array.from(pre.flatMap((l) => l.qk.flat())), flat(m.S_QK))).toBeLessThanOrEqual(1e-4 * scale);
        expect(maxAbsDiff(Float64Array.from(pre.flatMap((l) => l.att.flat())), flat(m.S_Att))).toBeLessThanOrEqual(1e-5);
        expect(pre.map((l) => l.pickQk)).toEqual(m.pred_QK);
        expect(pre.map((l) => l.pickAtt)).toEqual(m.pred_Att);
        if (m.S_QK_rope) {
          const post = qkReadout(layers, at, { postRope: true });
          expect(maxAbsDiff(Float64Array.from(post.flatMap((l) => l.qk.flat())), flat(m.S_QK_rope))).toBeLessThanOrEqual(1e-4 * scale);
          expect(post.map((l) => l.pickQk)).toEqual(m.pred_QK_rope);
        }
        const V = info.config.vocab;
        const row = r.logits!.data.subarray(G.qkscore.p_N * V, (G.qkscore.p_N + 1) * V);
        const letters = (G.qkscore.letter_ids as number[]).map((id) => row[id]);
        expect(maxAbsDiff(Float64Array.from(letters), m.letter_logits)).toBeLessThanOrEqual(1e-4);
        expect(argmaxFirst(letters)).toBe(m.letter_argmax);
      } finally {
        model.dispose();
      }
    });
  }

  it('finds p_N and the option line ends on a tokenization, flags a newline merged into a token, and refuses a prompt without options', () => {
    const prompt = formatPrompt({ context: 'Ann likes tea.', question: 'What does Ann like?', options: ['milk', 'tea', 'juice', 'water'] });
    expect(prompt).toBe('Context: Ann likes tea.\nQuestion: What does Ann like?\nOptions:\nA. milk\nB. tea\nC. juice\nD. water\nAnswer:');
    // The prompt reads back as its question (without the answer, which a prompt does not hold).
    expect(parsePrompt(prompt)).toEqual({ context: 'Ann likes tea.', question: 'What does Ann like?', options: ['milk', 'tea', 'juice', 'water'] });
    expect(parsePrompt(formatPrompt({ question: 'Q?', options: ['a', 'b', 'c', 'd'], answer: 'B' }))).toEqual({ question: 'Q?', options: ['a', 'b', 'c', 'd'] });
    expect(parsePrompt(`${prompt} B`)).toBeNull();
    expect(parsePrompt('When Mary and John went to the store')).toBeNull();
    const tokens = prompt.split(/(\n| )/).filter(Boolean);
    const at = locateOptions(tokens);
    expect(at.pN).toBe(tokens.length - 1);
    expect(at.positions.map((p) => tokens[p])).toEqual(['\n', '\n', '\n', '\n']);
    expect(at.positions.map((p) => tokens[p - 1])).toEqual(['milk', 'tea', 'juice', 'water']);
    expect(at.exact).toEqual([true, true, true, true]);
    // A tokenizer that glues the newline to the next line's letter: that token is used, and flagged.
    const merged = ['Options:', '\nA', '.', ' x', '\nB', '.', ' y', '\nC', '.', ' z', '\nD', '.', ' w', '\nAnswer', ':'];
    const m = locateOptions(merged);
    expect(m.positions).toEqual([4, 7, 10, 13]);
    expect(m.exact).toEqual([false, false, false, false]);
    expect(() => locateOptions(['Question:', ' why', '?'])).toThrow(McqaError);
    expect(() => locateOptions(['A. a\n', 'B. b\n', 'C. c\n', 'D. d\n'])).toThrow(/needs a last token after them/);
  });

  it('question sets: JSON and CSV read alike; bad ones are refused with the question and what was expected', () => {
    const json = JSON.stringify({ format: 'qkscope-mcqa-1', questions: [{ context: 'Ann likes tea.', question: 'What does Ann like?', options: ['milk', 'tea', 'juice', 'water'], answer: 'B' }] });
    const csv = 'context,question,A,B,C,D,answer\n"Ann likes tea.","What does Ann like?",milk,tea,juice,water,b\n';
    expect(parseQuestionSet(csv, 'q.csv')).toEqual(parseQuestionSet(json, 'q.json'));
    expect(parseQuestionSet('question,A,B,C,D\n"Say ""hi""?",1,2,3,4\n')[0]).toEqual({ context: undefined, question: 'Say "hi"?', options: ['1', '2', '3', '4'], answer: undefined });
    expect(() => parseQuestionSet('{"questions": [{"question": "q", "options": ["a", "b", "c"], "answer": "A"}]}', 'x.json')).toThrow(/x\.json: question 1: "options" must be a list of 4 texts/);
    expect(() => parseQuestionSet('[{"question": "q", "options": ["a", "b", "c", "d"], "answer": "E"}]', 'x.json')).toThrow(/"answer" must be A, B, C or D/);
    expect(() => parseQuestionSet('[{"question": "two\\nlines", "options": ["a", "b", "c", "d"]}]', 'x.json')).toThrow(/"question" must be one line/);
    expect(() => parseQuestionSet('context,question,A,B\nx,y,1,2\n', 'x.csv')).toThrow(/missing: c, d/);
    expect(() => parseQuestionSet('{"questions": [', 'x.json')).toThrow(/x\.json: is not valid JSON/);
  });
});

describe('RoPE (§12.1) in both layouts, against the Hugging Face formulation', () => {
  it('inv_freq and rotated vectors for θ = 100, 10⁴, 5·10⁵ at positions 0, 1, 5, 37', () => {
    const R = G.rope;
    for (const b of R.bases) {
      const inv = ropeInvFreq(R.D, b.theta);
      expect(maxAbsDiff(inv, b.inv_freq)).toBeLessThanOrEqual(1e-6);
      for (const layout of ['half', 'interleaved'] as const) {
        R.positions.forEach((pos: number, i: number) => {
          const out = new Float32Array(R.D);
          ropeRotate(R.x, 0, R.D, pos, inv, out, 0, layout);
          expect(maxAbsDiff(out, b[layout][i]), `θ=${b.theta} ${layout} position ${pos}`).toBeLessThanOrEqual(2e-5);
        });
      }
    }
    const s = R.spec_tests.single;
    const out = new Float32Array(2);
    ropeRotate(s.q, 0, 2, 1, Float32Array.from([1]), out);
    expect(maxAbsDiff(out, s.expected)).toBeLessThanOrEqual(1e-6);
  });

  it('the score of a fixed q and k against their distance, with and without RoPE', () => {
    const T = G.rope.relative_table;
    const d = T.d;
    const rot = (x: number[], pos: number, theta: number, layout: 'half' | 'interleaved') => {
      const o = new Float32Array(d);
      ropeRotate(x, 0, d, pos, ropeInvFreq(d, theta), o, 0, layout);
      return o;
    };
    const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, x, i) => s + x * b[i], 0);
    expect(maxAbsDiff(Float64Array.from(T.deltas.map(() => dot(T.q, T.k))), T.no_rope)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(ropeDistanceCurve(T.q, T.k, d, null, 63), T.no_rope)).toBeLessThanOrEqual(1e-5);
    for (const b of T.by_theta) {
      for (const layout of ['half', 'interleaved'] as const) {
        // Positions up to 63 in float32: angle errors of a few ulps of 63 rad.
        const got = Float64Array.from(T.deltas.map((D: number) => dot(rot(T.q, T.m, b.theta, layout), rot(T.k, T.m - D, b.theta, layout))));
        expect(maxAbsDiff(got, b[layout]), `θ=${b.theta} ${layout}`).toBeLessThanOrEqual(1e-4 * Math.max(1, maxAbs(b[layout])));
        // The explorer's curve rotates only k, by −Δ: the same scores.
        expect(maxAbsDiff(ropeDistanceCurve(T.q, T.k, d, b.theta, 63, layout), b[layout]), `curve θ=${b.theta} ${layout}`).toBeLessThanOrEqual(1e-4 * Math.max(1, maxAbs(b[layout])));
      }
    }
  });
});

describe('QK-norm (§12.2)', () => {
  it('the spec vector, the normalised q and k, and the attention before and after, as PyTorch', () => {
    const Q = G.qknorm;
    expect(maxAbsDiff(qkNorm({ shape: [4], data: Float32Array.from(Q.spec_test.x) }).data, Q.spec_test.out)).toBeLessThanOrEqual(1e-6);
    const q: Tensor = { shape: [Q.H, Q.N, Q.d], data: Float32Array.from(flat(Q.q)) };
    const k: Tensor = { shape: [Q.H, Q.N, Q.d], data: Float32Array.from(flat(Q.k)) };
    const qn = qkNorm(q);
    const kn = qkNorm(k);
    expect(maxAbsDiff(qn.data, flat(Q.q_ln))).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(kn.data, flat(Q.k_ln))).toBeLessThanOrEqual(1e-5);
    const before = referenceAttention({ q, k, v: k }, { causal: true });
    const after = referenceAttention({ q: qn, k: kn, v: kn }, { causal: true });
    expect(maxAbsDiff(before.weights, flat(Q.weights_before))).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(after.weights, flat(Q.weights_after))).toBeLessThanOrEqual(1e-5);
    const finite = (xs: Float32Array) => Array.from(xs).filter(Number.isFinite);
    expect(Math.max(...finite(after.scores).map(Math.abs))).toBeLessThanOrEqual(Q.sqrt_d + 1e-4);
    expect(Math.abs(Math.max(...finite(after.scores).map(Math.abs)) - Q.max_abs_logit_after)).toBeLessThanOrEqual(1e-4);
    expect(Math.abs(Math.max(...finite(before.scores).map(Math.abs)) - Q.max_abs_logit_before)).toBeLessThanOrEqual(1e-3);
  });

  it("runMethod('rope'): rows at positions 0, 1, 5, 37 are PyTorch's rotated vectors in both layouts and three bases, and the maps are the attention of the rotated q and k", async () => {
    const R = G.rope;
    const D = R.D as number;
    const N = 38;
    const x: Tensor = { shape: [1, N, D], data: new Float32Array(N * D) };
    for (let i = 0; i < N; i++) x.data.set(R.x, i * D);
    for (const b of R.bases as { theta: number; half: number[][]; interleaved: number[][] }[])
      for (const layout of ['half', 'interleaved'] as const) {
        const y = applyRope(x, b.theta, layout);
        (R.positions as number[]).forEach((pos, n) => expect(maxAbsDiff(y.data.subarray(pos * D, (pos + 1) * D), b[layout][n]), `θ ${b.theta} ${layout} at ${pos}`).toBeLessThanOrEqual(1e-5));
      }
    const src = syntheticQKV({ tokens: tokenize(DEFAULT_TEXT).map((t) => t.text), pattern: 'mixed', heads: 4, kvHeads: 2, headDim: 16, temperature: 1, seed: 3 });
    const r = await runMethod('rope', { ...src, causal: true }, { base: '500', layout: 'interleaved' });
    const want = referenceAttention({ q: applyRope(src.q, 500, 'interleaved'), k: applyRope(src.k, 500, 'interleaved'), v: src.v }, { causal: true });
    expect(maxAbsDiff(r.weights, want.weights)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(r.refWeights, referenceAttention(src, { causal: true }).weights)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(r.weights, r.refWeights)).toBeGreaterThan(0.05); // positions change the maps
  });

  it("runMethod('mergelock'): q, k and v change completely, the attention maps stay within 1e-5, the outputs are the source's times B", async () => {
    const src = syntheticQKV({ tokens: tokenize(DEFAULT_TEXT).map((t) => t.text), pattern: 'mixed', heads: 8, kvHeads: 4, headDim: 8, temperature: 1, seed: 5 });
    for (const kind of ['general', 'orthogonal', 'rope-commuting'] as const) {
      const r = await runMethod('mergelock', { ...src, causal: true }, { seed: 7, kind });
      expect(maxAbsDiff(r.weights, r.refWeights), kind).toBeLessThanOrEqual(1e-5);
      const locked = mergeLockQkv(src.q, src.k, src.v, 7, kind);
      const big = Math.max(...Array.from(src.q.data, Math.abs));
      expect(maxAbsDiff(locked.q.data, Array.from(src.q.data)) / big, kind).toBeGreaterThan(0.3);
      // Outputs: the reference's, each head's rows times its group's B.
      const ref = referenceAttention(src, { causal: true });
      const [H, N, d] = src.q.shape;
      const want = new Float32Array(ref.output.length);
      for (let h = 0; h < H; h++) {
        const B = locked.B[Math.floor(h / 2)].a;
        for (let i = 0; i < N; i++) for (let c = 0; c < d; c++) for (let t = 0; t < d; t++) want[(h * N + i) * d + c] += ref.output[(h * N + i) * d + t] * B[t * d + c];
      }
      expect(maxAbsDiff(r.output, Array.from(want)), kind).toBeLessThanOrEqual(1e-3 * Math.max(...Array.from(want, Math.abs)));
    }
  });

  it("runMethod('qknorm'): the method's maps are PyTorch's after, the reference's before, and the histograms' extremes are the logit bounds", async () => {
    const Q = G.qknorm;
    const q: Tensor = { shape: [Q.H, Q.N, Q.d], data: Float32Array.from(flat(Q.q)) };
    const k: Tensor = { shape: [Q.H, Q.N, Q.d], data: Float32Array.from(flat(Q.k)) };
    const r = await runMethod('qknorm', { q, k, v: k, causal: true });
    expect(maxAbsDiff(r.weights, flat(Q.weights_after))).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(r.refWeights, flat(Q.weights_before))).toBeLessThanOrEqual(1e-5);
    const h = r.detail.qkNorm!;
    expect(h.maxBefore).toBeCloseTo(Q.max_abs_logit_before, 3);
    expect(h.maxAfter).toBeCloseTo(Q.max_abs_logit_after, 4);
    expect(h.sqrtD).toBeCloseTo(Q.sqrt_d, 6);
    // Every causal pair of both heads is counted once in each histogram.
    const pairs = Q.H * ((Q.N * (Q.N + 1)) / 2);
    expect(h.before.reduce((a: number, x: number) => a + x, 0)).toBe(pairs);
    expect(h.after.reduce((a: number, x: number) => a + x, 0)).toBe(pairs);
    expect(r.mapping).toEqual([0, 1]);
  });
});

describe('MergeLock (§12.6): locked weights look different, attention and outputs do not', () => {
  const keysOf = (m: Json, which: 'A' | 'A_noncommuting') => ({
    A: m.layers.map((l: Json) => l.groups.map((g: Json) => mat(m.hd, g[which]) as Mat)),
    B: m.layers.map((l: Json) => l.groups.map((g: Json) => mat(m.hd, g.B) as Mat)),
  });

  for (const m of G.mergelock.models as Json[]) {
    it(`${m.name}: with PyTorch's matrices the locked tensors equal PyTorch's, and the forward pass is unchanged within 1e-4`, async () => {
      const { info, weights } = await loadFixture(m.dir);
      const keys = keysOf(m, 'A');
      expect(mergeLockWarnings(info.config, keys)).toEqual([]);
      const locked = applyMergeLock(info.config, weights, keys);
      for (const [name, want] of Object.entries(m.transformed as Record<string, unknown>)) {
        const w = flat(want);
        expect(maxAbsDiff(locked.get(name)!.data, w), name).toBeLessThanOrEqual(1e-5 * Math.max(1, maxAbs(w)));
        expect(maxAbsDiff(weights.get(name)!.data, w), `${name} changed`).toBeGreaterThan(0.5 * maxAbs(weights.get(name)!.data));
      }
      const a = createModel(info.config, weights);
      const b = createModel(info.config, locked);
      try {
        const ra = await forward(a, G.mergelock.ids);
        const rb = await forward(b, G.mergelock.ids);
        ra.layers.forEach((la, l) => {
          expect(maxAbsDiff(rb.layers[l]!.weights.data, la!.weights.data), `layer ${l} weights`).toBeLessThanOrEqual(1e-4);
          expect(maxAbsDiff(rb.layers[l]!.hiddenOut.data, la!.hiddenOut.data)).toBeLessThanOrEqual(1e-4 * maxAbs(la!.hiddenOut.data));
        });
        expect(maxAbsDiff(rb.logits!.data, ra.logits!.data)).toBeLessThanOrEqual(1e-4 * maxAbs(ra.logits!.data));
        if (m.noncommuting) {
          // A that does not commute with RoPE: warned about, and the attention really changes.
          const bad = keysOf(m, 'A_noncommuting');
          expect(mergeLockWarnings(info.config, bad)[0]).toMatch(/does not commute with the RoPE rotations/);
          const c = createModel(info.config, applyMergeLock(info.config, weights, bad));
          try {
            const rc = await forward(c, G.mergelock.ids);
            expect(maxAbsDiff(rc.layers[0]!.weights.data, ra.layers[0]!.weights.data)).toBeGreaterThan(0.1);
          } finally {
            c.dispose();
          }
        }
      } finally {
        a.dispose();
        b.dispose();
      }
    });
  }

  it('seeded keys of our own: RoPE-commuting A keeps a Llama model; a general A is warned about; an orthogonal A is orthogonal', async () => {
    const { info, weights } = await loadFixture('tests/fixtures/models/llama-tiny');
    const keys = sampleMergeLock(info.config, 11, 'rope-commuting');
    expect(keys.A.flat().every((x) => commutesWithRope(x, 'half'))).toBe(true);
    expect(mergeLockWarnings(info.config, keys)).toEqual([]);
    const a = createModel(info.config, weights);
    const b = createModel(info.config, applyMergeLock(info.config, weights, keys));
    try {
      const [ra, rb] = [await forward(a, G.mergelock.ids), await forward(b, G.mergelock.ids)];
      expect(maxAbsDiff(rb.logits!.data, ra.logits!.data)).toBeLessThanOrEqual(1e-4 * maxAbs(ra.logits!.data));
    } finally {
      a.dispose();
      b.dispose();
    }
    expect(mergeLockWarnings(info.config, sampleMergeLock(info.config, 11, 'general'))).toHaveLength(1);
    expect(mergeLockWarnings(info.config, sampleMergeLock(info.config, 11, 'general'), { qkNorm: true })).toHaveLength(2);
    expect(mergeLockWarnings({ family: 'gpt2' }, sampleMergeLock(info.config, 11, 'orthogonal'), { qkNorm: true })).toEqual([]);
  });
});
