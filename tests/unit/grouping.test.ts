import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { runMethod } from '../../src/index';
import type { QKV } from '../../src/core/tensor';
import { maxAbsDiff } from './goldens';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

interface GroupingCase {
  name: string;
  method: string;
  params: Record<string, number | string>;
  causal: boolean;
  H: number;
  Hs: number;
  N: number;
  d: number;
  dv: number;
  steps: { q: number[]; k: number[]; v: number[] }[];
  expectError: boolean;
  expect: null | {
    kvHeads: number;
    queryHeads: number;
    allocation: number[];
    mapping: number[];
    slotOf: number[];
    norms: number[] | null;
    weights: number[];
    output: number[];
    refWeights: number[];
    refOutput: number[];
    outputClean: number[] | null;
    noise: number[] | null;
    relFrob: number;
    cosine: number[];
    kvBytes: number;
    kvBytesRef: number;
    flops: number;
    flopsRef: number;
    timeline: null | { m: number[]; w: number[] | null; a: number[]; c: number[]; draws: number }[];
  };
}

/** Goldens written by scripts/make_grouping_goldens.py (PyTorch). */
const golden: { cases: GroupingCase[] } = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'golden', 'grouping.json'), 'utf8'));

function qkvOf(c: GroupingCase, s: GroupingCase['steps'][number]): QKV {
  return {
    q: { shape: [c.H, c.N, c.d], data: Float32Array.from(s.q) },
    k: { shape: [c.Hs, c.N, c.d], data: Float32Array.from(s.k) },
    v: { shape: [c.Hs, c.N, c.dv], data: Float32Array.from(s.v) },
  };
}

describe('grouping methods on the tfjs cpu backend against PyTorch goldens', () => {
  it('has the cases the issue asks for', () => {
    const names = golden.cases.map((c) => c.name).join('\n');
    for (const m of ['mha', 'mqa', 'gqa', 'kdgqa', 'dgqa', 'pgqa', 'sqa']) expect(golden.cases.some((c) => c.method === m)).toBe(true);
    expect(names).toMatch(/half-to-even/);
    expect(names).toMatch(/equal norms/);
    expect(names).toMatch(/G=1/);
    expect(golden.cases.filter((c) => c.expectError).length).toBeGreaterThanOrEqual(2);
    // Some DGQA step fired a random fix-up, so the seeded generator is exercised.
    expect(golden.cases.some((c) => c.expect?.timeline?.some((t) => t.draws > 0))).toBe(true);
  });

  for (const c of golden.cases) {
    it(c.name, async () => {
      const steps = c.steps.map((s) => qkvOf(c, s));
      const input = { ...steps[c.method === 'dgqa' ? 0 : 0], causal: c.causal, steps: c.method === 'dgqa' ? steps : undefined };
      if (c.expectError) {
        await expect(runMethod(c.method, input, c.params, { backend: 'cpu' })).rejects.toThrow(/must|divide|cannot/);
        return;
      }
      const e = c.expect!;
      const before = tf.memory().numTensors;
      const r = await runMethod(c.method, input, c.params, { backend: 'cpu' });
      expect(tf.memory().numTensors).toBe(before);
      // Allocations match exactly.
      expect(r.kvHeads).toBe(e.kvHeads);
      expect(r.queryHeads).toBe(e.queryHeads);
      expect(r.allocation).toEqual(e.allocation);
      expect(r.mapping).toEqual(e.mapping);
      expect(r.slotOf).toEqual(e.slotOf);
      if (e.norms) expect(maxAbsDiff(Float32Array.from(r.detail.norms!), e.norms)).toBeLessThanOrEqual(1e-5 * Math.max(...e.norms));
      if (e.timeline) {
        const t = r.detail.timeline!;
        expect(t.length).toBe(e.timeline.length);
        e.timeline.forEach((s, i) => {
          expect(t[i].a).toEqual(s.a);
          expect(t[i].draws).toBe(s.draws);
          expect(maxAbsDiff(Float32Array.from(t[i].m), s.m)).toBeLessThanOrEqual(1e-5 * Math.max(...s.m));
          expect(maxAbsDiff(Float32Array.from(t[i].c), s.c)).toBeLessThanOrEqual(1e-5 * Math.max(1, ...s.c));
          if (s.w === null) expect(t[i].w).toBeNull();
          else expect(maxAbsDiff(Float32Array.from(t[i].w!), s.w)).toBeLessThanOrEqual(1e-5 * Math.max(1, ...s.w));
        });
      }
      // Weights and outputs within 1e-5 on the CPU backend.
      expect(maxAbsDiff(r.weights, e.weights)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(r.output, e.output)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(r.refWeights, e.refWeights)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(r.refOutput, e.refOutput)).toBeLessThanOrEqual(1e-5);
      if (e.noise) {
        expect(maxAbsDiff(r.detail.pgqa!.noise, e.noise)).toBeLessThanOrEqual(1e-5);
        expect(maxAbsDiff(r.detail.pgqa!.clean, e.outputClean!)).toBeLessThanOrEqual(1e-5);
      }
      expect(Math.abs(r.metrics.relFrob - e.relFrob)).toBeLessThanOrEqual(1e-5 * Math.max(1, e.relFrob));
      expect(maxAbsDiff(r.metrics.cosine, e.cosine)).toBeLessThanOrEqual(1e-5);
      expect(r.metrics.kvBytes).toBe(e.kvBytes);
      expect(r.metrics.kvBytesRef).toBe(e.kvBytesRef);
      expect(r.metrics.flops).toBe(e.flops);
      expect(r.metrics.flopsRef).toBe(e.flopsRef);
    });
  }
});
