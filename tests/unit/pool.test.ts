import { describe, expect, it } from 'vitest';
import { maxPoolMaps } from '../../src/core/pool';
import { makeLayerGridStore } from '../../stories/LayerGrid.stories';

describe('max-pooled maps for the layer × head grid', () => {
  it("keeps each cell's peak: a 5 × 5 diagonal pooled to 2 × 2, and P = N is the map itself", () => {
    const N = 5;
    const w = new Float32Array(2 * N * N);
    for (let i = 0; i < N; i++) w[i * N + i] = i + 1; // head 0: diagonal 1..5
    w[N * N + 4 * N] = 9; // head 1: one peak at row 4, column 0
    // Rows and columns 0–2 go to cell 0, 3–4 to cell 1 (⌊i·P/N⌋).
    expect(Array.from(maxPoolMaps(w, 2, N, 2))).toEqual([3, 0, 0, 5, 0, 0, 9, 0]);
    expect(Array.from(maxPoolMaps(w, 2, N, N))).toEqual(Array.from(w));
  });

  it('the LayerGrid stories build a full grid (one pooled map per layer)', () => {
    const g = makeLayerGridStore(['previous', 'sink'], 8).getState().derived.layerGrid!;
    expect([g.L, g.H, g.P]).toEqual([2, 4, 8]);
    expect(g.maps.every((m) => m && m.length === 4 * 8 * 8)).toBe(true);
  });
});
