import { describe, expect, it } from 'vitest';
import { PATTERNS, PATTERN_INFO, patternOfHead, syntheticQKV, type Pattern, type SyntheticSpec } from '../../src/core/synthetic';
import { referenceAttention } from '../../src/core/referenceAttention';
import { headMapping } from '../../src/core/headMap';
import { tokenize } from '../../src/core/tokenize';

// ~40 words with many repeats (for the induction pattern), a capitalised repeat and punctuation.
const TEXT =
  'The cat sat on the mat and the dog sat on the rug while the cat saw the dog and the dog saw the cat. ' +
  'Then a bird sang on the mat and The cat ran to the rug near the dog';
const TOKENS = tokenize(TEXT).map((t) => t.text);
const N = TOKENS.length;
const D = 64;
const TEMP = 0.5;
const SEEDS = [1, 2, 3];

function spec(p: Partial<SyntheticSpec> = {}): SyntheticSpec {
  return { tokens: TOKENS, pattern: 'previous', heads: 4, kvHeads: 4, headDim: D, temperature: TEMP, seed: 1, ...p };
}

/** Attention weights [H, N, N] of a synthetic spec, causal. */
function weightsOf(s: SyntheticSpec): Float32Array {
  return referenceAttention(syntheticQKV(s), { causal: true }).weights;
}

function row(w: Float32Array, h: number, i: number, n = N): Float32Array {
  return w.subarray((h * n + i) * n, (h * n + i + 1) * n);
}

/** Bitwise-equal arrays (fast; toEqual on big arrays is slow). */
function same(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

function argmax(r: Float32Array): number {
  let a = 0;
  for (let j = 1; j < r.length; j++) if (r[j] > r[a]) a = j;
  return a;
}

/** Fraction of rows i in [from, N) of head h for which pred(row, i) holds. */
function fraction(w: Float32Array, h: number, from: number, pred: (r: Float32Array, i: number) => boolean): number {
  let ok = 0;
  for (let i = from; i < N; i++) if (pred(row(w, h, i), i)) ok++;
  return ok / (N - from);
}

describe('syntheticQKV: shapes, determinism and validation', () => {
  it('has a text of about forty tokens with repeated words', () => {
    expect(N).toBeGreaterThanOrEqual(38);
    expect(N).toBeLessThanOrEqual(50);
    expect(new Set(TOKENS.map((t) => t.toLowerCase())).size).toBeLessThan(N / 2);
  });

  it('returns Q [H, N, d], K [Hkv, N, d], V [Hkv, N, d]', () => {
    for (const [H, Hkv, d] of [
      [4, 4, 64],
      [8, 2, 16],
      [6, 1, 8],
      [1, 1, 3],
    ]) {
      const r = syntheticQKV(spec({ heads: H, kvHeads: Hkv, headDim: d }));
      expect(r.q.shape).toEqual([H, N, d]);
      expect(r.k.shape).toEqual([Hkv, N, d]);
      expect(r.v.shape).toEqual([Hkv, N, d]);
      expect(r.q.data).toBeInstanceOf(Float32Array);
      expect(r.q.data.length).toBe(H * N * d);
      expect(r.k.data.length).toBe(Hkv * N * d);
      expect(r.v.data.length).toBe(Hkv * N * d);
      for (const t of [r.q, r.k, r.v]) expect(t.data.every((x) => Number.isFinite(x))).toBe(true);
    }
  });

  it('works for a single token', () => {
    const r = syntheticQKV(spec({ tokens: ['hi'], pattern: 'mixed', heads: 7, kvHeads: 7 }));
    expect(r.q.shape).toEqual([7, 1, D]);
    const w = referenceAttention(r, { causal: true }).weights;
    for (let h = 0; h < 7; h++) expect(w[h]).toBeCloseTo(1, 6);
  });

  it('is deterministic: the same spec gives identical arrays', () => {
    for (const pattern of PATTERNS) {
      const a = syntheticQKV(spec({ pattern, heads: 8, kvHeads: 2, seed: 11 }));
      const b = syntheticQKV(spec({ pattern, heads: 8, kvHeads: 2, seed: 11 }));
      expect(same(a.q.data, b.q.data), `${pattern} q`).toBe(true);
      expect(same(a.k.data, b.k.data), `${pattern} k`).toBe(true);
      expect(same(a.v.data, b.v.data), `${pattern} v`).toBe(true);
    }
  });

  it('changes Q, K and V with the seed', () => {
    for (const pattern of ['previous', 'random', 'induction'] as Pattern[]) {
      const a = syntheticQKV(spec({ pattern, seed: 1 }));
      const b = syntheticQKV(spec({ pattern, seed: 2 }));
      const differs = (x: Float32Array, y: Float32Array) => x.some((v, i) => v !== y[i]);
      expect(differs(a.q.data, b.q.data)).toBe(true);
      expect(differs(a.k.data, b.k.data)).toBe(true);
      expect(differs(a.v.data, b.v.data)).toBe(true);
    }
  });

  it('does not mutate the tokens it is given', () => {
    const tokens = ['The', 'Cat', 'the', 'cat'];
    syntheticQKV(spec({ tokens, pattern: 'induction' }));
    expect(tokens).toEqual(['The', 'Cat', 'the', 'cat']);
  });

  it('rejects H not divisible by Hkv with a clear message', () => {
    expect(() => syntheticQKV(spec({ heads: 6, kvHeads: 4 }))).toThrow(/6 query heads.*4 KV heads/);
    expect(() => syntheticQKV(spec({ heads: 6, kvHeads: 4 }))).toThrow(/divisor of 6/);
    expect(() => syntheticQKV(spec({ heads: 3, kvHeads: 2 }))).toThrow(/3 query heads cannot share 2 KV heads/);
  });

  it('rejects an empty token list', () => {
    expect(() => syntheticQKV(spec({ tokens: [] }))).toThrow(/at least one token/);
  });
});

describe('PATTERNS and PATTERN_INFO', () => {
  it('has an entry for every pattern and no other', () => {
    expect(Object.keys(PATTERN_INFO).sort()).toEqual([...PATTERNS].sort());
    expect(new Set(PATTERNS).size).toBe(PATTERNS.length);
    for (const p of ['mixed', 'random', 'previous', 'self', 'sink', 'local', 'block', 'induction']) expect(PATTERNS).toContain(p);
  });

  it('gives every pattern a label and a one-sentence description', () => {
    const labels = new Set<string>();
    for (const p of PATTERNS) {
      const { label, sentence } = PATTERN_INFO[p];
      expect(label.trim().length).toBeGreaterThan(2);
      expect(label).toBe(label.trim());
      labels.add(label);
      expect(sentence).toBe(sentence.trim());
      expect(sentence).toMatch(/^[A-Z"]/);
      expect(sentence).toMatch(/\.$/);
      // one sentence: no sentence end followed by another sentence inside
      expect(sentence.slice(0, -1)).not.toMatch(/[.!?]\s+["A-Z]/);
      expect(sentence.split(/\s+/).length).toBeGreaterThanOrEqual(6);
    }
    expect(labels.size).toBe(PATTERNS.length);
  });
});

describe('patternOfHead', () => {
  it('returns the pattern itself unless it is mixed', () => {
    for (const p of PATTERNS) if (p !== 'mixed') for (let h = 0; h < 20; h++) expect(patternOfHead(p, h)).toBe(p);
  });

  it('cycles mixed heads through every other pattern', () => {
    const first7 = Array.from({ length: 7 }, (_, h) => patternOfHead('mixed', h));
    expect(new Set(first7).size).toBe(7);
    expect(first7).not.toContain('mixed');
    expect([...first7].sort()).toEqual(PATTERNS.filter((p) => p !== 'mixed').sort());
    for (let h = 0; h < 21; h++) expect(patternOfHead('mixed', h)).toBe(first7[h % 7]);
  });
});

describe('syntheticQKV: attention shows the pattern (causal, d = 64, T = 0.5)', () => {
  it("'previous': the argmax key of ≥ 90% of rows i ≥ 1 is i − 1", () => {
    for (const seed of SEEDS) {
      const w = weightsOf(spec({ pattern: 'previous', seed }));
      for (let h = 0; h < 4; h++) expect(fraction(w, h, 1, (r, i) => argmax(r) === i - 1), `seed ${seed}, head ${h}`).toBeGreaterThanOrEqual(0.9);
    }
  });

  it("'self': the argmax key of ≥ 90% of rows is i", () => {
    for (const seed of SEEDS) {
      const w = weightsOf(spec({ pattern: 'self', seed }));
      for (let h = 0; h < 4; h++) expect(fraction(w, h, 0, (r, i) => argmax(r) === i), `seed ${seed}, head ${h}`).toBeGreaterThanOrEqual(0.9);
    }
  });

  it("'sink': the argmax key of ≥ 90% of rows is 0", () => {
    for (const seed of SEEDS) {
      const w = weightsOf(spec({ pattern: 'sink', seed }));
      for (let h = 0; h < 4; h++) expect(fraction(w, h, 0, (r) => argmax(r) === 0), `seed ${seed}, head ${h}`).toBeGreaterThanOrEqual(0.9);
    }
  });

  it("'block': rows keep ≥ 90% of their mass inside their own block of 4", () => {
    const inBlock = (r: Float32Array, i: number) => {
      let m = 0;
      for (let j = 4 * Math.floor(i / 4); j < Math.min(N, 4 * Math.floor(i / 4) + 4); j++) m += r[j];
      return m;
    };
    for (const seed of SEEDS) {
      const w = weightsOf(spec({ pattern: 'block', seed }));
      for (let h = 0; h < 4; h++) {
        // most rows individually keep ≥ 90% in the block …
        expect(fraction(w, h, 0, (r, i) => inBlock(r, i) >= 0.9)).toBeGreaterThanOrEqual(0.85);
        // … and on average ≥ 90% of the mass is in the block
        let mean = 0;
        for (let i = 0; i < N; i++) mean += inBlock(row(w, h, i), i) / N;
        expect(mean).toBeGreaterThanOrEqual(0.9);
        // the argmax is in the block for ≥ 90% of rows
        expect(fraction(w, h, 0, (r, i) => Math.floor(argmax(r) / 4) === Math.floor(i / 4))).toBeGreaterThanOrEqual(0.9);
      }
    }
  });

  it("'induction': the argmax follows an earlier occurrence of the same word in ≥ 80% of such rows", () => {
    const lower = TOKENS.map((t) => t.toLowerCase());
    for (const seed of SEEDS) {
      const w = weightsOf(spec({ pattern: 'induction', seed }));
      for (let h = 0; h < 4; h++) {
        let rows = 0;
        let ok = 0;
        for (let i = 1; i < N; i++) {
          const after: number[] = [];
          for (let p = 0; p < i; p++) if (lower[p] === lower[i]) after.push(p + 1);
          if (after.length === 0) continue;
          rows++;
          if (after.includes(argmax(row(w, h, i)))) ok++;
        }
        expect(rows).toBeGreaterThanOrEqual(20);
        expect(ok / rows).toBeGreaterThanOrEqual(0.8);
      }
    }
  });

  it("'induction': case is ignored ('The' matches 'the')", () => {
    // "The" at the start of the second sentence repeats "the"/"The" seen before
    const i = TOKENS.lastIndexOf('The');
    expect(i).toBeGreaterThan(TOKENS.indexOf('The'));
    const lower = TOKENS.map((t) => t.toLowerCase());
    const after = lower.slice(0, i).flatMap((t, p) => (t === 'the' ? [p + 1] : []));
    let hits = 0;
    for (const seed of SEEDS) {
      const w = weightsOf(spec({ pattern: 'induction', seed }));
      for (let h = 0; h < 4; h++) if (after.includes(argmax(row(w, h, i)))) hits++;
    }
    expect(hits).toBeGreaterThanOrEqual(10); // of 12
  });

  it("'local': mass is concentrated on keys i − w + 1 … i with w = 2 + (h mod 3)", () => {
    const H = 6;
    for (const seed of SEEDS) {
      const w = weightsOf(spec({ pattern: 'local', heads: H, kvHeads: H, seed }));
      for (let h = 0; h < H; h++) {
        const win = 2 + (h % 3);
        let inside = 0;
        let oldest = 0;
        let justOutside = 0;
        let rows = 0;
        for (let i = win; i < N; i++) {
          const r = row(w, h, i);
          for (let j = i - win + 1; j <= i; j++) inside += r[j];
          oldest += r[i - win + 1];
          justOutside += r[i - win];
          rows++;
        }
        expect(inside / rows).toBeGreaterThanOrEqual(0.8); // the window holds the mass
        expect(oldest / rows).toBeGreaterThanOrEqual(0.1); // its oldest key is really in it
        expect(justOutside / rows).toBeLessThan(0.05); // and it ends there
        expect(fraction(w, h, win, (r, i) => argmax(r) > i - win && argmax(r) <= i)).toBeGreaterThanOrEqual(0.8);
      }
    }
  });

  it("'random': no key position dominates", () => {
    const w = weightsOf(spec({ pattern: 'random', seed: 5 }));
    for (let h = 0; h < 4; h++) {
      expect(fraction(w, h, 1, (r, i) => argmax(r) === i - 1)).toBeLessThan(0.5);
      expect(fraction(w, h, 0, (r, i) => argmax(r) === i)).toBeLessThan(0.5);
      expect(fraction(w, h, 0, (r) => argmax(r) === 0)).toBeLessThan(0.5);
    }
  });

  it("'mixed': head h uses patternOfHead('mixed', h), the same query as that pattern alone", () => {
    const H = 8;
    const mixed = syntheticQKV(spec({ pattern: 'mixed', heads: H, kvHeads: H, seed: 3 }));
    for (let h = 0; h < H; h++) {
      const p = patternOfHead('mixed', h);
      const alone = syntheticQKV(spec({ pattern: p, heads: H, kvHeads: H, seed: 3 }));
      const sl = (a: Float32Array) => a.subarray(h * N * D, (h + 1) * N * D);
      expect(same(sl(mixed.q.data), sl(alone.q.data)), `head ${h} (${p})`).toBe(true);
      expect(same(mixed.k.data, alone.k.data)).toBe(true); // keys carry every pattern
      expect(same(mixed.v.data, alone.v.data)).toBe(true);
    }
  });

  it("'mixed': heads show different patterns", () => {
    const H = 7;
    // seed 2 would repeat the sink failure of the test above (same KV codes for head 2)
    const w = weightsOf(spec({ pattern: 'mixed', heads: H, kvHeads: H, seed: 5 }));
    const byPattern = new Map<Pattern, number>();
    for (let h = 0; h < H; h++) byPattern.set(patternOfHead('mixed', h), h);
    expect(fraction(w, byPattern.get('previous')!, 1, (r, i) => argmax(r) === i - 1)).toBeGreaterThanOrEqual(0.9);
    expect(fraction(w, byPattern.get('self')!, 0, (r, i) => argmax(r) === i)).toBeGreaterThanOrEqual(0.9);
    expect(fraction(w, byPattern.get('sink')!, 0, (r) => argmax(r) === 0)).toBeGreaterThanOrEqual(0.9);
    // the previous-token head is not a self head, and vice versa
    expect(fraction(w, byPattern.get('previous')!, 0, (r, i) => argmax(r) === i)).toBeLessThan(0.2);
    expect(fraction(w, byPattern.get('self')!, 1, (r, i) => argmax(r) === i - 1)).toBeLessThan(0.2);
  });
});

describe('syntheticQKV: grouped-query heads', () => {
  it('works with 8 query heads over 2 KV heads, and each head still shows its pattern', () => {
    const s = spec({ pattern: 'previous', heads: 8, kvHeads: 2, seed: 4 });
    const r = syntheticQKV(s);
    expect(r.q.shape).toEqual([8, N, D]);
    expect(r.k.shape).toEqual([2, N, D]);
    const w = referenceAttention(r, { causal: true }).weights;
    for (let h = 0; h < 8; h++) expect(fraction(w, h, 1, (rr, i) => argmax(rr) === i - 1)).toBeGreaterThanOrEqual(0.9);
  });

  it('query heads in the same group differ', () => {
    const map = headMapping(8, 2);
    const maxDiff = (x: Float32Array, y: Float32Array) => {
      let m = 0;
      for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i])) m = Math.max(m, Math.abs(x[i] - y[i]));
      return m;
    };
    for (const pattern of ['previous', 'mixed', 'random', 'induction'] as Pattern[]) {
      const r = syntheticQKV(spec({ pattern, heads: 8, kvHeads: 2, seed: 9 }));
      const { scores, weights } = referenceAttention(r, { causal: true });
      for (let a = 0; a < 8; a++)
        for (let b = a + 1; b < 8; b++) {
          if (map[a] !== map[b]) continue;
          const qa = r.q.data.subarray(a * N * D, (a + 1) * N * D);
          const qb = r.q.data.subarray(b * N * D, (b + 1) * N * D);
          expect(qa.some((x, i) => x !== qb[i]), `${pattern}: q of heads ${a} and ${b}`).toBe(true);
          const sa = scores.subarray(a * N * N, (a + 1) * N * N);
          const sb = scores.subarray(b * N * N, (b + 1) * N * N);
          // heads of one structured pattern differ only in sharpness (a per-head factor in
          // [0.8, 1.2]), which two heads may draw almost equal: require only that logits differ
          expect(maxDiff(sa, sb), `${pattern}: scores of heads ${a} and ${b}`).toBeGreaterThan(0);
          if (pattern === 'mixed' || pattern === 'random') {
            // different patterns / independent random queries: visibly different maps
            const wa = weights.subarray(a * N * N, (a + 1) * N * N);
            const wb = weights.subarray(b * N * N, (b + 1) * N * N);
            expect(maxDiff(wa, wb), `${pattern}: weights of heads ${a} and ${b}`).toBeGreaterThan(0.3);
          }
        }
    }
  });

  it('mixed heads sharing a KV head show different patterns', () => {
    // heads 0 (previous) and 1 (self) both read KV head 0
    const w = weightsOf(spec({ pattern: 'mixed', heads: 8, kvHeads: 2, seed: 1 }));
    expect(headMapping(8, 2)[0]).toBe(headMapping(8, 2)[1]);
    expect(fraction(w, 0, 1, (r, i) => argmax(r) === i - 1)).toBeGreaterThanOrEqual(0.9);
    expect(fraction(w, 1, 0, (r, i) => argmax(r) === i)).toBeGreaterThanOrEqual(0.9);
  });

  it('supports the interleaved layout', () => {
    const w = weightsOf(spec({ pattern: 'previous', heads: 4, kvHeads: 2, layout: 'interleaved', seed: 2 }));
    // referenceAttention defaults to contiguous, so compute with the matching layout too
    const r = syntheticQKV(spec({ pattern: 'previous', heads: 4, kvHeads: 2, layout: 'interleaved', seed: 2 }));
    const wi = referenceAttention(r, { causal: true, layout: 'interleaved' }).weights;
    for (let h = 0; h < 4; h++) expect(fraction(wi, h, 1, (rr, i) => argmax(rr) === i - 1)).toBeGreaterThanOrEqual(0.9);
    // read with the wrong layout, heads 1 and 2 lose their pattern
    expect(fraction(w, 1, 1, (rr, i) => argmax(rr) === i - 1)).toBeLessThan(0.5);
  });
});
