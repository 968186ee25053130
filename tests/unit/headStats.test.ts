import { describe, expect, it } from 'vitest';
import { headStats } from '../../src/core/headStats';

const f32 = (...rows: number[][]) => new Float32Array(rows.flat());

describe('headStats', () => {
  it('gives entropy 0, distance 0 for one-hot rows on the diagonal', () => {
    const w = f32([1, 0, 0], [0, 1, 0], [0, 0, 1]);
    const s = headStats(w, 1, 3, 3);
    expect(s.entropy[0]).toBe(0);
    expect(s.distance[0]).toBe(0);
    expect(s.sinkMass[0]).toBeCloseTo(1 / 3, 6);
  });

  it('gives entropy ln n for rows uniform over n keys', () => {
    for (const n of [1, 2, 3, 4, 7, 16]) {
      const w = new Float32Array(n * n).fill(1 / n);
      const s = headStats(w, 1, n, n);
      expect(s.entropy[0]).toBeCloseTo(Math.log(n), 5);
      expect(s.sinkMass[0]).toBeCloseTo(1 / n, 6);
    }
  });

  it('averages entropy over rows of different widths (causal uniform)', () => {
    // row i is uniform over keys 0..i: entropies ln1, ln2, ln3, ln4
    const w = f32([1, 0, 0, 0], [0.5, 0.5, 0, 0], [1 / 3, 1 / 3, 1 / 3, 0], [0.25, 0.25, 0.25, 0.25]);
    const s = headStats(w, 1, 4, 4);
    expect(s.entropy[0]).toBeCloseTo((Math.log(1) + Math.log(2) + Math.log(3) + Math.log(4)) / 4, 6);
    // distance: row0 0; row1 0.5·1; row2 (2+1)/3 = 1; row3 (3+2+1)/4 = 1.5 → mean 0.75
    expect(s.distance[0]).toBeCloseTo((0 + 0.5 + 1 + 1.5) / 4, 6);
    // sink: 1, 0.5, 1/3, 0.25
    expect(s.sinkMass[0]).toBeCloseTo((1 + 0.5 + 1 / 3 + 0.25) / 4, 6);
  });

  it('computes a hand-worked 3×3 example', () => {
    const w = f32([1, 0, 0], [0.5, 0.5, 0], [0.2, 0.3, 0.5]);
    const s = headStats(w, 1, 3, 3);
    const e2 = -(0.2 * Math.log(0.2) + 0.3 * Math.log(0.3) + 0.5 * Math.log(0.5));
    expect(s.entropy[0]).toBeCloseTo((0 + Math.log(2) + e2) / 3, 6);
    // distance: row0 0; row1 0.5·|1−0| = 0.5; row2 0.2·2 + 0.3·1 = 0.7 → 1.2 / 3
    expect(s.distance[0]).toBeCloseTo(0.4, 6);
    expect(s.sinkMass[0]).toBeCloseTo((1 + 0.5 + 0.2) / 3, 6);
  });

  it('measures distance from the previous token and from the first token', () => {
    // previous-token head: each row i ≥ 1 puts all its mass on i − 1
    const prev = f32([1, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]);
    const p = headStats(prev, 1, 4, 4);
    expect(p.distance[0]).toBeCloseTo(3 / 4, 6); // 0, 1, 1, 1
    expect(p.entropy[0]).toBe(0);
    expect(p.sinkMass[0]).toBeCloseTo(2 / 4, 6);
    // sink head: every row on key 0
    const sink = f32([1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]);
    const k = headStats(sink, 1, 4, 4);
    expect(k.distance[0]).toBeCloseTo((0 + 1 + 2 + 3) / 4, 6);
    expect(k.sinkMass[0]).toBe(1);
  });

  it('aligns queries bottom-right when Nq < Nk', () => {
    // Nq = 2, Nk = 4: query i sits at key position i + 2
    const w = f32([0, 0, 1, 0], [1, 0, 0, 0]);
    const s = headStats(w, 1, 2, 4);
    expect(s.distance[0]).toBeCloseTo((0 + 3) / 2, 6);
    expect(s.sinkMass[0]).toBeCloseTo(0.5, 6);
    expect(s.entropy[0]).toBe(0);
  });

  it('counts the first sinkTokens keys as the sink, clamped to Nk', () => {
    const w = f32([0.5, 0.25, 0.25], [0.2, 0.3, 0.5]);
    expect(headStats(w, 1, 2, 3, 1).sinkMass[0]).toBeCloseTo((0.5 + 0.2) / 2, 6);
    expect(headStats(w, 1, 2, 3, 2).sinkMass[0]).toBeCloseTo((0.75 + 0.5) / 2, 6);
    expect(headStats(w, 1, 2, 3, 3).sinkMass[0]).toBeCloseTo(1, 6);
    expect(headStats(w, 1, 2, 3, 10).sinkMass[0]).toBeCloseTo(1, 6);
    expect(headStats(w, 1, 2, 3, 0).sinkMass[0]).toBe(0);
  });

  it('excludes rows with zero mass from the mean', () => {
    // row 0 is fully masked (all zeros): the means are over rows 1 and 2 only
    const w = f32([0, 0, 0], [0.5, 0.5, 0], [0, 0, 1]);
    const s = headStats(w, 1, 3, 3);
    expect(s.entropy[0]).toBeCloseTo(Math.log(2) / 2, 6);
    expect(s.distance[0]).toBeCloseTo((0.5 + 0) / 2, 6);
    expect(s.sinkMass[0]).toBeCloseTo((0.5 + 0) / 2, 6);
  });

  it('gives zeros (not NaN) for a head whose rows are all empty', () => {
    const w = f32([0, 0], [0, 0], [1, 0], [0.5, 0.5]); // head 0 empty, head 1 normal
    const s = headStats(w, 2, 2, 2);
    expect([s.entropy[0], s.distance[0], s.sinkMass[0]]).toEqual([0, 0, 0]);
    expect(s.entropy[1]).toBeCloseTo(Math.log(2) / 2, 6);
    expect(s.distance[1]).toBeCloseTo(0.5 / 2, 6);
    expect(s.sinkMass[1]).toBeCloseTo(0.75, 6);
  });

  it('keeps heads separate and returns one value per head', () => {
    const oneHot = [
      [1, 0],
      [0, 1],
    ];
    const uniform = [
      [0.5, 0.5],
      [0.5, 0.5],
    ];
    const w = f32(...oneHot, ...uniform, ...oneHot);
    const s = headStats(w, 3, 2, 2);
    expect(s.entropy).toBeInstanceOf(Float32Array);
    expect(s.entropy.length).toBe(3);
    expect(s.distance.length).toBe(3);
    expect(s.sinkMass.length).toBe(3);
    expect(s.entropy[0]).toBe(0);
    expect(s.entropy[1]).toBeCloseTo(Math.log(2), 6);
    expect(s.entropy[2]).toBe(0);
    // uniform non-causal: row0 0.5·1, row1 0.5·1 → 0.5
    expect(s.distance[1]).toBeCloseTo(0.5, 6);
    expect(s.sinkMass[1]).toBeCloseTo(0.5, 6);
    expect(s.sinkMass[0]).toBeCloseTo(0.5, 6);
  });
});
