import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { importTensors } from '../../src/io/importTensors';
import { ImportError, type ImportProblem } from '../../src/io/errors';
import { writeNpy } from '../../src/io/npy';
import { writeSafetensors } from '../../src/io/safetensors';
import { mulberry32 } from '../../src/core/prng';
import { sizeOf } from '../../src/core/tensor';
import type { ImportedSource } from '../../src/io/types';

const DIR = join(process.cwd(), 'tests/fixtures/io');
const PROBLEMS: ImportProblem[] = ['magic', 'header', 'dtype', 'shape', 'values', 'cap', 'format', 'tokens', 'truncated'];
/** A hang guard, not a performance figure: each file must be accepted or refused well within it. */
const BOUND_MS = 3000;

/** What a source that the importer accepted must satisfy, whatever bytes it came from. */
function checkSource(s: ImportedSource): void {
  expect(s.layers.length).toBeGreaterThan(0);
  for (const l of s.layers) {
    if (l.weights) {
      const [H, Nq, Nk] = l.weights.shape;
      expect(l.weights.data.length).toBe(sizeOf(l.weights.shape));
      expect(l.queryTokens.length).toBe(Nq);
      expect(l.keyTokens.length).toBe(Nk);
      expect(H).toBeGreaterThan(0);
      for (const x of l.weights.data) if (!Number.isFinite(x)) throw new Error(`accepted a non-finite weight ${x} in ${l.label}`);
    } else {
      const { q, k, v } = l.qkv!;
      expect(q.shape[1]).toBe(k.shape[1]);
      expect(q.shape[0] % k.shape[0]).toBe(0);
      expect(l.queryTokens.length).toBe(q.shape[1]);
      if (v) expect(v.shape[0]).toBe(k.shape[0]);
      for (const t of [q, k, ...(v ? [v] : [])]) for (const x of t.data) if (!Number.isFinite(x)) throw new Error(`accepted a non-finite value ${x}`);
    }
  }
}

/** Runs one import; returns 'ok', or the ImportError's problem. Anything else fails the test. */
function attempt(bytes: Uint8Array, name: string, slow: string[]): string {
  const t0 = performance.now();
  try {
    const o = importTensors(bytes, name);
    const s = o.status === 'ready' ? o.source : o.finish(o.pending.guess);
    checkSource(s);
    return 'ok';
  } catch (e) {
    if (!(e instanceof ImportError)) throw new Error(`${name}: not an ImportError: ${(e as Error)?.stack ?? e}`);
    expect(PROBLEMS).toContain(e.problem);
    // Every refusal names the file it is about.
    expect(e.message).toContain(name);
    expect(e.message.length).toBeGreaterThan(name.length + 10);
    // The importer's last-resort wrapper turns a reader bug into a message; here it must not be needed.
    if (/could not be read:/.test(e.message)) throw new Error(`${name}: a reader failed without its own message: ${e.message}`);
    return e.problem;
  } finally {
    const ms = performance.now() - t0;
    if (ms > BOUND_MS) slow.push(`${name}: ${ms.toFixed(0)} ms`);
  }
}

/** Byte-level mutations: truncation, flipped bytes, overwritten header bytes, inserted and deleted runs. */
function mutate(src: Uint8Array, rand: () => number): Uint8Array {
  const r = Math.floor(rand() * 6);
  const at = (n: number) => Math.floor(rand() * n);
  switch (r) {
    case 0:
      return src.slice(0, at(src.length));
    case 1: {
      const b = src.slice();
      for (let i = 0, n = 1 + at(8); i < n; i++) b[at(b.length)] = at(256);
      return b;
    }
    case 2: {
      // The first 256 bytes hold every header: hit them hardest.
      const b = src.slice();
      for (let i = 0, n = 1 + at(4); i < n; i++) b[at(Math.min(256, b.length))] = [0, 0xff, 0x7b, 0x5b, 0x22, 0x2c, 0x39, 0x2d][at(8)];
      return b;
    }
    case 3: {
      const p = at(src.length);
      const ins = Uint8Array.from({ length: 1 + at(16) }, () => at(256));
      const b = new Uint8Array(src.length + ins.length);
      b.set(src.subarray(0, p));
      b.set(ins, p);
      b.set(src.subarray(p), p + ins.length);
      return b;
    }
    case 4: {
      const n = Math.min(src.length, 1 + at(32));
      const p = at(src.length - n + 1);
      const b = new Uint8Array(src.length - n);
      b.set(src.subarray(0, p));
      b.set(src.subarray(p + n), p);
      return b;
    }
    default: {
      // Large integers written over length fields (npy header length, safetensors u64, zip sizes).
      if (src.length < 12) return src.slice(0, at(src.length));
      const b = src.slice();
      const p = at(Math.min(64, b.length - 8));
      new DataView(b.buffer).setUint32(p, [0xffffffff, 0x7fffffff, 2 ** 20, 0][at(4)], true);
      return b;
    }
  }
}

/** Structure-level mutations of JSON documents: wrong types, ragged arrays, NaN, huge and empty shapes. */
function mutateJson(doc: unknown, rand: () => number): string {
  const copy = JSON.parse(JSON.stringify(doc)) as unknown;
  const arrays: unknown[][] = [];
  const objs: Record<string, unknown>[] = [];
  const walk = (x: unknown) => {
    if (Array.isArray(x)) {
      arrays.push(x);
      x.forEach(walk);
    } else if (x && typeof x === 'object') {
      objs.push(x as Record<string, unknown>);
      Object.values(x).forEach(walk);
    }
  };
  walk(copy);
  const pick = <T>(a: T[]) => a[Math.floor(rand() * a.length)];
  const r = Math.floor(rand() * 7);
  if (r === 0 && arrays.length) pick(arrays).pop();
  else if (r === 1 && arrays.length) {
    const a = pick(arrays);
    a[Math.floor(rand() * a.length)] = pick(['x', null, {}, true, 1e400, -1, [1, 2]]);
  } else if (r === 2 && objs.length) {
    const o = pick(objs);
    delete o[pick(Object.keys(o))];
  } else if (r === 3 && objs.length) {
    const o = pick(objs);
    o[pick(Object.keys(o))] = pick([[], 'a', 3, null, [[[]]], [['<script>alert(1)</script>']]]);
  } else if (r === 4 && arrays.length) pick(arrays).push(pick([0.5, [0.5], 'y']));
  else if (r === 5) return JSON.stringify(copy).replace(/0\.\d+/, 'NaN');
  else if (r === 6 && arrays.length) pick(arrays).length = 0;
  return JSON.stringify(copy);
}

const fixtures = readdirSync(DIR).filter((f) => f !== 'expected.json');

describe('fuzzed files', () => {
  it(`${fixtures.length} fixtures × 300 byte mutations: no crash, no hang, every refusal is an ImportError naming the file`, () => {
    const rand = mulberry32(20261128);
    const slow: string[] = [];
    const seen = new Map<string, number>();
    let n = 0;
    for (const f of fixtures) {
      const src = new Uint8Array(readFileSync(join(DIR, f)));
      for (let i = 0; i < 300; i++) {
        const out = attempt(mutate(src, rand), `${f}#${i}`, slow);
        seen.set(out, (seen.get(out) ?? 0) + 1);
        n++;
      }
    }
    expect(slow).toEqual([]);
    expect(n).toBeGreaterThanOrEqual(3900);
    // The mutations reach every kind of check, not one catch-all.
    for (const p of ['magic', 'header', 'truncated', 'shape', 'format']) expect(seen.get(p) ?? 0, `refusals of kind ${p}`).toBeGreaterThan(0);
  }, 120_000);

  it('JSON fixtures × 400 structural mutations each', () => {
    const rand = mulberry32(7);
    const slow: string[] = [];
    const seen = new Map<string, number>();
    for (const f of fixtures.filter((x) => x.endsWith('.json'))) {
      const doc = JSON.parse(readFileSync(join(DIR, f), 'utf8')) as unknown;
      for (let i = 0; i < 400; i++) {
        const out = attempt(new TextEncoder().encode(mutateJson(doc, rand)), `${f}~${i}`, slow);
        seen.set(out, (seen.get(out) ?? 0) + 1);
      }
    }
    expect(slow).toEqual([]);
    for (const p of ['shape', 'values', 'tokens', 'format']) expect(seen.get(p) ?? 0, `refusals of kind ${p}`).toBeGreaterThan(0);
  }, 120_000);
});

describe('each kind of bad file gets a message that names the problem and what was expected', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const st = (header: object, data = 0) => {
    const h = enc(JSON.stringify(header));
    const b = new Uint8Array(8 + h.length + data);
    new DataView(b.buffer).setBigUint64(0, BigInt(h.length), true);
    b.set(h, 8);
    return b;
  };
  const npyWith = (header: string, dataBytes: number) => {
    const pad = header.padEnd(117, ' ') + '\n';
    const b = new Uint8Array(128 + dataBytes);
    b.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    new DataView(b.buffer).setUint16(8, pad.length, true);
    b.set(enc(pad), 10);
    return b;
  };
  const cases: [string, () => Uint8Array, string, ImportProblem, RegExp][] = [
    ['wrong magic', () => enc('GIF89a....'), 'x.npy', 'magic', /does not start with the \.npy magic/],
    ['npy header that is not a dict', () => npyWith("['descr', '<f4']", 0), 'h.npy', 'header', /not a dict with 'descr', 'fortran_order' and 'shape'/],
    ['npy complex dtype', () => npyWith("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", 16), 'c.npy', 'dtype', /dtype '<c8' is not supported; expected a float/],
    ['npy shape vs data length', () => npyWith("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 3), }", 40), 's.npy', 'shape', /shape \[3, 3\] of '<f4' needs 36 bytes of data but the file has 40/],
    ['npy dimensions over the cap', () => npyWith("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000), }", 0), 'big.npy', 'cap', /10,000,000,000 values; the cap is/],
    ['NaN in weights', () => writeNpy([2, 2], Float32Array.from([1, 0, NaN, 1])), 'nan.npy', 'values', /NaN at \[1, 0\]/],
    ['+Inf in scores', () => writeNpy([2, 2], Float32Array.from([1, 0, Infinity, 1])), 'inf.npy', 'values', /\+Infinity at \[1, 0\]/],
    ['safetensors F8 dtype', () => st({ a: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }, 2), 'f8.safetensors', 'dtype', /dtype "F8_E4M3" is not supported; expected F32, F16, BF16/],
    ['safetensors offsets past the end', () => st({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 8), 'e.safetensors', 'truncated', /ends at byte 16 of the data section but the file has only 8/],
    ['safetensors header that is not JSON', () => { const b = st({ a: 1 }); b[9] = 0x21; return b; }, 'j.safetensors', 'header', /header is not valid UTF-8 JSON/],
    ['Q/K/V head counts that do not divide', () => writeSafetensors({ 'layers.0.q': { shape: [3, 4, 2], data: new Float32Array(24) }, 'layers.0.k': { shape: [2, 4, 2], data: new Float32Array(16) } }), 'g.safetensors', 'shape', /q has 3 heads and k has 2; the query heads must be a multiple of the KV heads/],
    ['Q/K/V token count', () => writeSafetensors({ q: { shape: [1, 3, 2], data: new Float32Array(6) }, k: { shape: [1, 3, 2], data: new Float32Array(6) } }, { tokens: '["a"]' }), 't.safetensors', 'tokens', /the file has 1 tokens but layer 0 has 3/],
    ['ragged JSON', () => enc(JSON.stringify({ tokens: ['a', 'b'], attention: [[[1, 0], [0.5]]] })), 'r.json', 'shape', /attention\[0\]\[1\] has 1 entries; expected 2 like the first/],
    ['JSON without attention', () => enc(JSON.stringify({ tokens: ['a'] })), 'n.json', 'format', /no attention found; expected a key "attention"/],
    ['token axis over the display cap', () => writeNpy([1, 5000], new Float32Array(5000).fill(1 / 5000)), 'wide.npy', 'cap', /1 × 5000 tokens; the views show at most 4096/],
    ['damaged zip', () => { const b = new Uint8Array(64); b.set([0x50, 0x4b, 3, 4]); return b; }, 'z.npz', 'format', /damaged zip archive/],
  ];
  for (const [what, make, name, problem, re] of cases) {
    it(what, () => {
      let err: unknown;
      try {
        const o = importTensors(make(), name);
        if (o.status === 'confirm') o.finish(o.pending.guess);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ImportError);
      expect((err as ImportError).problem).toBe(problem);
      expect((err as Error).message).toMatch(re);
      expect((err as Error).message).toContain(name);
    });
  }
});
