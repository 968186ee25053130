import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { computeAttention, importTensors, exportTensors } from '../../src/index';
import { maxAbsDiff } from './goldens';
import type { ImportOutcome, ImportedSource } from '../../src/io/types';

// Files written by scripts/make_io_fixtures.py through scripts/qkscope_export.py, with attention
// computed by PyTorch (float64, then float32) in expected.json: independent of the app's code.
const DIR = join(process.cwd(), 'tests/fixtures/io');
const file = (n: string) => new Uint8Array(readFileSync(join(DIR, n)));
interface Expected {
  tokens: string[];
  L: number;
  H: number;
  Hkv: number;
  d: number;
  N: number;
  scale: number;
  layers: { weights: number[]; output: number[]; output_k_as_v: number[]; weights_f16: number[]; output_f16: number[] }[];
  encdec: { encoder_tokens: string[]; decoder_tokens: string[]; encoder: number[][]; decoder: number[][]; cross: number[][]; encoder_shape: number[]; decoder_shape: number[]; cross_shape: number[]; L: number };
}
const E = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as Expected;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function ready(o: ImportOutcome): ImportedSource {
  if (o.status !== 'ready') throw new Error(`expected a ready import, got a layout question for ${o.pending.shape}`);
  return o.source;
}

describe('Q/K/V dumps written by the Python exporter', () => {
  for (const [name, tol, which] of [
    ['qkv.safetensors', 1e-5, 'f32'],
    ['qkv.npz', 1e-5, 'f32'],
    ['qkv_f16.safetensors', 1e-5, 'f16'],
    ['qkv_no_v.safetensors', 1e-5, 'noV'],
  ] as const) {
    it(`${name}: attention computed from its Q/K on tfjs cpu matches PyTorch within ${tol}`, async () => {
      const s = ready(importTensors(file(name), name));
      expect(s.kind).toBe('qkv');
      expect(s.layers).toHaveLength(E.L);
      for (let l = 0; l < E.L; l++) {
        const layer = s.layers[l];
        expect(layer.queryTokens).toEqual(E.tokens);
        expect(layer.qkv!.q.shape).toEqual([E.H, E.N, E.d]);
        expect(layer.qkv!.k.shape).toEqual([E.Hkv, E.N, E.d]);
        expect(layer.causal).toBe(true);
        const { q, k, v } = layer.qkv!;
        const r = await computeAttention({ q, k, v: v ?? k }, { causal: layer.causal, scale: layer.scale, backend: 'cpu' });
        const exp = E.layers[l];
        expect(maxAbsDiff(r.weights, which === 'f16' ? exp.weights_f16 : exp.weights)).toBeLessThanOrEqual(tol);
        expect(maxAbsDiff(r.output, which === 'f16' ? exp.output_f16 : which === 'noV' ? exp.output_k_as_v : exp.output)).toBeLessThanOrEqual(tol);
      }
      if (which === 'noV') {
        expect(s.layers[0].scale).toBeNull(); // no scale in the metadata: 1/√d
        expect(s.notes.join(' ')).toMatch(/no v/);
      } else expect(s.layers[0].scale).toBeCloseTo(E.scale, 12);
      expect(s.notes.join(' ')).toMatch(/4 query heads read 2 KV heads/);
    });
  }

  it('keeps the pre-RoPE copies, and they differ from the rotated q/k except at position 0', () => {
    const s = ready(importTensors(file('qkv.safetensors'), 'qkv.safetensors'));
    const { q, qPre } = s.layers[0].qkv!;
    expect(qPre!.shape).toEqual(q.shape);
    // RoPE leaves position 0 unrotated (angle 0) and rotates the others.
    expect(maxAbsDiff(q.data.subarray(0, E.d), Array.from(qPre!.data.subarray(0, E.d)))).toBeLessThan(1e-6);
    expect(maxAbsDiff(q.data.subarray(E.d, 2 * E.d), Array.from(qPre!.data.subarray(E.d, 2 * E.d)))).toBeGreaterThan(1e-3);
  });
});

describe('attention files in the formats people already use', () => {
  const all = E.layers.map((l) => l.weights);
  const cases: [string, string, number][] = [
    ['attn_stack.npy', 'attention array (.npy)', E.L],
    ['attn_layers.npz', 'attention per layer (.npz)', E.L],
    ['attn.safetensors', 'attention per layer (.safetensors)', E.L],
    ['circuitsvis.json', 'CircuitsVis JSON', 1],
    ['bertviz.json', 'BertViz / Tensor2Tensor JSON', E.L],
    ['inspectus.json', 'Inspectus JSON', E.L],
    ['t2t.json', 'BertViz / Tensor2Tensor JSON', E.L],
  ];
  for (const [name, format, layers] of cases) {
    it(`${name} reads as ${format} with the PyTorch weights`, () => {
      const s = ready(importTensors(file(name), name));
      expect(s.format).toBe(format);
      expect(s.kind).toBe('attention');
      expect(s.layers).toHaveLength(layers);
      s.layers.forEach((layer, l) => {
        expect(layer.weights!.shape).toEqual([E.H, E.N, E.N]);
        expect(maxAbsDiff(layer.weights!.data, all[l])).toBeLessThanOrEqual(1e-7);
        expect(layer.causal).toBe(true);
        if (name !== 'attn_stack.npy') expect(layer.queryTokens).toEqual(E.tokens);
      });
    });
  }

  it('scores_layer0.npy (−∞ where masked) is detected as scores and softmaxed to the weights', () => {
    const s = ready(importTensors(file('scores_layer0.npy'), 'scores_layer0.npy'));
    expect(s.notes.join(' ')).toMatch(/read as scores/);
    expect(maxAbsDiff(s.layers[0].weights!.data, all[0])).toBeLessThanOrEqual(1e-6);
  });

  it('BertViz encoder-decoder: encoder, decoder and cross blocks with their own tokens', () => {
    const s = ready(importTensors(file('bertviz_encdec.json'), 'bertviz_encdec.json'));
    const x = E.encdec;
    expect(s.layers.map((l) => l.label)).toEqual([...Array.from({ length: x.L }, (_, l) => `encoder ${l}`), ...Array.from({ length: x.L }, (_, l) => `decoder ${l}`), ...Array.from({ length: x.L }, (_, l) => `cross ${l}`)]);
    const cross = s.layers[2 * x.L];
    expect(cross.weights!.shape).toEqual(x.cross_shape);
    expect(cross.queryTokens).toEqual(x.decoder_tokens);
    expect(cross.keyTokens).toEqual(x.encoder_tokens);
    expect(maxAbsDiff(cross.weights!.data, x.cross[0])).toBeLessThanOrEqual(1e-7);
    expect(s.layers[x.L].causal).toBe(true); // decoder self-attention
    expect(s.layers[0].causal).toBe(false); // encoder: bidirectional
  });

  it("Tensor2Tensor's visualisation JSON (inp_inp, out_out, inp_out) maps to encoder, decoder and cross", () => {
    const x = E.encdec;
    const split = (flat: number[], shape: number[]) => {
      const [H, q, k] = shape;
      return [Array.from({ length: H }, (_, h) => Array.from({ length: q }, (_, i) => flat.slice((h * q + i) * k, (h * q + i + 1) * k)))];
    };
    const part = (key: 'encoder' | 'decoder' | 'cross', shape: number[]) => x[key].map((f) => split(f, shape));
    const doc = {
      inp_inp: { att: part('encoder', x.encoder_shape), top_text: x.encoder_tokens, bot_text: x.encoder_tokens },
      out_out: { att: part('decoder', x.decoder_shape), top_text: x.decoder_tokens, bot_text: x.decoder_tokens },
      inp_out: { att: part('cross', x.cross_shape), top_text: x.encoder_tokens, bot_text: x.decoder_tokens },
    };
    const s = ready(importTensors(new TextEncoder().encode(JSON.stringify(doc)), 't2t-vis.json'));
    expect(s.format).toBe('Tensor2Tensor visualisation JSON');
    const cross = s.layers.find((l) => l.label === 'cross 1')!;
    expect(cross.keyTokens).toEqual(x.encoder_tokens);
    expect(maxAbsDiff(cross.weights!.data, x.cross[1])).toBeLessThanOrEqual(1e-7);
  });

  it('an exported view re-imports to the same maps and tokens, and exports again byte for byte', () => {
    const s = ready(importTensors(file('circuitsvis.json'), 'circuitsvis.json'));
    const l = s.layers[0];
    for (const fmt of ['circuitsvis', 'safetensors'] as const) {
      const a = exportTensors({ weights: l.weights!, queryTokens: l.queryTokens, keyTokens: l.keyTokens }, fmt);
      const back = ready(importTensors(a.bytes, a.filename)).layers[0];
      expect(back.queryTokens).toEqual(E.tokens);
      expect(Array.from(back.weights!.data)).toEqual(Array.from(l.weights!.data));
      const b = exportTensors({ weights: back.weights!, queryTokens: back.queryTokens, keyTokens: back.keyTokens }, fmt);
      expect(Buffer.from(b.bytes).equals(Buffer.from(a.bytes))).toBe(true);
    }
  });
});
