import { describe, expect, it } from 'vitest';
import { importTensors, sniffFormat } from '../../src/io/importTensors';
import { exportTensors, safeJson } from '../../src/io/exportTensors';
import { parseNpy, writeNpy } from '../../src/io/npy';
import { parseSafetensorsHeader, readEntry, writeSafetensors } from '../../src/io/safetensors';
import { decode, toHalf } from '../../src/io/dtype';
import { ImportError } from '../../src/io/errors';
import { guessRoles, layoutOptions, softmaxRows } from '../../src/io/layout';
import type { ImportOutcome, ImportedSource } from '../../src/io/types';

const enc = (s: string) => new TextEncoder().encode(s);

/** Row-stochastic [H, N, N] weights with a causal mask, deterministic. */
function weights(H: number, N: number, causal = true): Float32Array {
  const w = new Float32Array(H * N * N);
  for (let h = 0; h < H; h++)
    for (let i = 0; i < N; i++) {
      let z = 0;
      for (let j = 0; j < N; j++) if (!causal || j <= i) z += w[(h * N + i) * N + j] = 1 + ((h * 7 + i * 3 + j * 5) % 11);
      for (let j = 0; j < N; j++) w[(h * N + i) * N + j] /= z;
    }
  return w;
}

function ready(o: ImportOutcome): ImportedSource {
  if (o.status !== 'ready') throw new Error(`expected a ready import, got ${o.status}`);
  return o.source;
}

function problem(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ImportError);
    return `${(e as ImportError).problem}: ${(e as Error).message}`;
  }
  throw new Error('expected an ImportError');
}

describe('npy', () => {
  it('round-trips float32 through writeNpy/parseNpy with the header padded to 64 bytes', () => {
    const data = Float32Array.from({ length: 24 }, (_, i) => i / 7 - 1);
    const b = writeNpy([2, 3, 4], data);
    const hlen = new DataView(b.buffer).getUint16(8, true);
    expect((10 + hlen) % 64).toBe(0);
    const a = parseNpy(b);
    expect(a.shape).toEqual([2, 3, 4]);
    expect(Array.from(a.data!)).toEqual(Array.from(data));
  });

  it('reads big-endian float64 and Fortran order as row-major float32', () => {
    const header = "{'descr': '>f8', 'fortran_order': True, 'shape': (2, 3), }";
    const pad = header.padEnd(128 - 10 - 1, ' ') + '\n';
    const b = new Uint8Array(128 + 6 * 8);
    b.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    new DataView(b.buffer).setUint16(8, pad.length, true);
    b.set(enc(pad), 10);
    // Column-major [[0,1,2],[3,4,5]] is 0,3,1,4,2,5.
    [0, 3, 1, 4, 2, 5].forEach((x, i) => new DataView(b.buffer).setFloat64(128 + i * 8, x, false));
    expect(Array.from(parseNpy(b).data!)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('names a shape that does not match the data length', () => {
    const b = writeNpy([4], new Float32Array(4));
    expect(problem(() => parseNpy(b.subarray(0, b.length - 4)))).toMatch(/^truncated: .*shape \[4\].*needs 16 bytes.*has 12/);
    expect(problem(() => parseNpy(enc('PK\u0003\u0004....')))).toMatch(/^magic:/);
  });
});

describe('dtypes', () => {
  it('decodes f16 and bf16 exactly for representable values', () => {
    const vals = [0, 1, -2, 0.5, 65504, 2 ** -24, -0.099975586];
    const u = new Uint16Array(vals.map(toHalf));
    const got = decode(new Uint8Array(u.buffer), 0, vals.length, 'f16');
    vals.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 6));
    const bf = new Uint16Array([0x3f80, 0xc000, 0x3f00]); // 1, -2, 0.5
    expect(Array.from(decode(new Uint8Array(bf.buffer), 0, 3, 'bf16'))).toEqual([1, -2, 0.5]);
  });
});

describe('safetensors', () => {
  it('writes an 8-byte aligned header and reads tensors and metadata back', () => {
    const a = { shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) };
    const b = writeSafetensors({ a, b: { shape: [1], data: Float32Array.from([9]) } }, { tokens: '["x"]' });
    const h = parseSafetensorsHeader(b);
    expect(h.dataStart % 8).toBe(0);
    expect(h.metadata.tokens).toBe('["x"]');
    expect(Array.from(readEntry(b, h.entries[0]).data)).toEqual([1, 2, 3, 4]);
    expect(readEntry(b, h.entries[1]).data[0]).toBe(9);
  });

  it('refuses offsets that do not match the shape, and a header past the end', () => {
    const b = writeSafetensors({ a: { shape: [2], data: new Float32Array(2) } });
    const json = new TextDecoder().decode(b.subarray(8, 8 + Number(new DataView(b.buffer).getBigUint64(0, true))));
    const bad = enc(json.replace('"shape":[2]', '"shape":[3]'));
    const f = new Uint8Array(8 + bad.length + 8);
    new DataView(f.buffer).setBigUint64(0, BigInt(bad.length), true);
    f.set(bad, 8);
    expect(problem(() => parseSafetensorsHeader(f))).toMatch(/^shape: .*\[3\] of F32 needs 12 bytes but data_offsets cover 8/);
    expect(problem(() => parseSafetensorsHeader(b.subarray(0, 20)))).toMatch(/^truncated:/);
  });
});

describe('importTensors', () => {
  const N = 5;
  const H = 2;
  const w = weights(H, N);
  const tokens = ['<script>alert(1)</script>', 'b', 'c', 'd', 'e'];

  it('reads CircuitsVis JSON and detects the causal mask', () => {
    const att = Array.from({ length: H }, (_, h) => Array.from({ length: N }, (_, i) => Array.from(w.subarray((h * N + i) * N, (h * N + i + 1) * N))));
    const s = ready(importTensors(enc(JSON.stringify({ tokens, attention: att })), 'cv.json'));
    expect(s.format).toBe('CircuitsVis JSON');
    expect(s.layers).toHaveLength(1);
    expect(s.layers[0].weights!.shape).toEqual([H, N, N]);
    expect(s.layers[0].causal).toBe(true);
    expect(s.layers[0].queryTokens[0]).toBe('<script>alert(1)</script>');
    expect(Array.from(s.layers[0].weights!.data)).toEqual(Array.from(w));
  });

  it('asks to confirm a 4-D array whose first axes could be layers or heads, and applies the choice', () => {
    const L = 3;
    const all = new Float32Array(L * H * N * N);
    for (let l = 0; l < L; l++) all.set(w, l * H * N * N);
    const o = importTensors(writeNpy([L, H, N, N], all), 'a.npy');
    expect(o.status).toBe('confirm');
    if (o.status !== 'confirm') return;
    expect(o.pending.guess.roles).toEqual(['layer', 'head', 'query', 'key']);
    expect(o.pending.options).toHaveLength(6);
    expect(o.pending.guess.values).toBe('weights');
    const asLayers = o.finish(o.pending.guess);
    expect(asLayers.layers).toHaveLength(3);
    const swapped = o.finish({ roles: ['head', 'layer', 'query', 'key'], batchIndex: 0, values: 'weights' });
    expect(swapped.layers).toHaveLength(H);
    expect(swapped.layers[0].weights!.shape).toEqual([L, N, N]);
    // Head 1 of "layer" 0 under the swapped reading is layer 1 head 0 of the original.
    expect(Array.from(swapped.layers[0].weights!.data.subarray(N * N, 2 * N * N))).toEqual(Array.from(w.subarray(0, N * N)));
    expect(swapped.layers[0].queryTokens[0]).toBe('#0');
  });

  it('softmaxes scores (with −∞ for masked keys) and refuses NaN naming its index', () => {
    const sc = new Float32Array([0, -Infinity, 1, 2]);
    const s = ready(importTensors(writeNpy([2, 2], sc), 's.npy'));
    expect(s.notes.join(' ')).toMatch(/scores/);
    const got = s.layers[0].weights!.data;
    expect(got[0]).toBe(1);
    expect(got[1]).toBe(0);
    expect(got[3]).toBeCloseTo(Math.exp(1) / (1 + Math.exp(1)), 6);
    expect(problem(() => importTensors(writeNpy([2, 2], new Float32Array([0.5, 0.5, NaN, 1])), 'n.npy'))).toMatch(/^values: .*NaN at \[1, 0\]/);
  });

  it('names a token count that does not match the attention', () => {
    expect(problem(() => importTensors(enc(JSON.stringify({ tokens: ['a'], attention: [[[1, 0], [0, 1]]] })), 't.json'))).toMatch(/^tokens: .*1 tokens but the attention is 2 queries × 2 keys/);
  });

  it('round-trips exports: safetensors and CircuitsVis JSON re-import to the same maps and tokens', () => {
    for (const fmt of ['safetensors', 'circuitsvis'] as const) {
      const f = exportTensors({ weights: { shape: [H, N, N], data: w }, queryTokens: tokens, keyTokens: tokens, basename: 'layer 0' }, fmt);
      expect(new TextDecoder('latin1').decode(f.bytes)).not.toContain('<script');
      const s = ready(importTensors(f.bytes, f.filename));
      expect(s.layers[0].queryTokens).toEqual(tokens);
      expect(Array.from(s.layers[0].weights!.data)).toEqual(Array.from(w));
    }
    const npy = exportTensors({ weights: { shape: [H, N, N], data: w }, queryTokens: tokens, keyTokens: tokens }, 'npy');
    expect(npy.note).toMatch(/tokens are not in it/);
    expect(Array.from(ready(importTensors(npy.bytes, npy.filename)).layers[0].weights!.data)).toEqual(Array.from(w));
  });

  it('keeps query and key tokens apart for cross-attention exports', () => {
    const x = softmaxRows(Float32Array.from({ length: 2 * 3 }, (_, i) => i % 4), 3);
    const f = exportTensors({ weights: { shape: [1, 2, 3], data: x }, queryTokens: ['q0', 'q1'], keyTokens: ['k0', 'k1', 'k2'] }, 'safetensors');
    const s = ready(importTensors(f.bytes, f.filename));
    expect(s.layers[0].queryTokens).toEqual(['q0', 'q1']);
    expect(s.layers[0].keyTokens).toEqual(['k0', 'k1', 'k2']);
  });

  it('sniffs by content, and names the expected format for an unknown file', () => {
    expect(sniffFormat(enc('  \n{"a":1}'), 'x.txt')).toBe('json');
    expect(problem(() => importTensors(enc('hello'), 'x.npy'))).toMatch(/^magic: x.npy does not start with the .npy magic/);
    expect(problem(() => importTensors(enc('hello'), 'x.bin'))).toMatch(/expected .npy, .npz, .safetensors or JSON/);
  });

  it('escapes markup in exported JSON while staying valid JSON', () => {
    const s = safeJson({ t: '</script><svg onload=x>&' });
    expect(s).not.toMatch(/[<>&]/);
    expect(JSON.parse(s).t).toBe('</script><svg onload=x>&');
  });
});

describe('layout guesses', () => {
  it('reads Hugging Face, Inspectus and Tensor2Tensor shapes', () => {
    expect(guessRoles([1, 12, 9, 9])).toMatchObject({ roles: ['batch', 'head', 'query', 'key'], ambiguous: false });
    expect(guessRoles([12, 12, 9, 9])).toMatchObject({ roles: ['layer', 'head', 'query', 'key'], ambiguous: true });
    expect(guessRoles([6, 1, 8, 9, 9])).toMatchObject({ roles: ['layer', 'batch', 'head', 'query', 'key'], ambiguous: false });
    expect(layoutOptions([2, 3, 4, 4, 4])).toHaveLength(6);
    expect(() => layoutOptions([2, 2, 2, 2, 2, 2])).toThrow(/2 to 5 dimensions/);
  });
});
