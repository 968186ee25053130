import { describe, expect, it } from 'vitest';
import { attentionSteps, headWindow } from '../../src/core/attentionSteps';
import { syntheticQKV } from '../../src/core/synthetic';
import { referenceAttention } from '../../src/core/referenceAttention';
import { tokenize } from '../../src/core/tokenize';
import { DEFAULT_TEXT } from '../../src/state/defaults';

describe('the step-through of one head (issue 8)', () => {
  const tokens = tokenize(DEFAULT_TEXT).map((t) => t.text);
  const x = syntheticQKV({ tokens, pattern: 'mixed', heads: 8, kvHeads: 4, headDim: 16, temperature: 1, seed: 7 });
  const N = tokens.length;

  it('with a causal mask, the window of the first 8 tokens has exactly the full sequence\'s weights and outputs on those rows', () => {
    const full = referenceAttention(x, { causal: true });
    for (const h of [0, 3, 7]) {
      const w = headWindow(x, tokens, h, 8, { causal: true, scale: null });
      expect(w.kvHead).toBe(Math.floor(h / 2));
      const s = attentionSteps(w);
      for (let i = 0; i < 8; i++)
        for (let j = 0; j < 8; j++) expect(Math.abs(s.weights[i * 8 + j] - full.weights[(h * N + i) * N + j]), `h${h} ${i},${j}`).toBeLessThan(1e-6);
      for (let i = 0; i < 8; i++) for (let c = 0; c < 16; c++) expect(Math.abs(s.output[i * 16 + c] - full.output[(h * N + i) * 16 + c])).toBeLessThan(1e-5);
    }
  });

  it('each step follows from the last: scaled = raw / √d, the mask hides later keys, rows sum to 1, masked cells weigh 0', () => {
    const w = headWindow(x, tokens, 2, 6, { causal: true, scale: null });
    const s = attentionSteps(w);
    for (let i = 0; i < 6; i++) {
      let sum = 0;
      for (let j = 0; j < 6; j++) {
        let dot = 0;
        for (let c = 0; c < 16; c++) dot += w.q[i * 16 + c] * w.k[j * 16 + c];
        expect(s.raw[i * 6 + j]).toBeCloseTo(dot, 4);
        expect(s.scaled[i * 6 + j]).toBeCloseTo(dot / 4, 4);
        expect(s.masked[i * 6 + j]).toBe(j > i ? -Infinity : s.scaled[i * 6 + j]);
        if (j > i) expect(s.weights[i * 6 + j]).toBe(0);
        sum += s.weights[i * 6 + j];
      }
      expect(sum).toBeCloseTo(1, 6);
    }
    // Without the mask every key counts, and the window is normalised over itself.
    const b = attentionSteps(headWindow(x, tokens, 2, 6, { causal: false, scale: 0.5 }));
    expect([...b.masked]).toEqual([...b.scaled]);
    expect(b.scaled[1]).toBeCloseTo(b.raw[1] * 0.5, 5);
    expect(() => headWindow(x, tokens, 8, 4, { causal: true, scale: null })).toThrow(/head 8 is not one of the 8 heads/);
  });
});
