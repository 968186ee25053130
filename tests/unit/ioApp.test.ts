import { describe, expect, it } from 'vitest';
import { readBlob, readStream } from '../../src/io/read';
import { decodeState, encodeState } from '../../src/state/urlCodec';
import { createQkStore, headCount, importedLayer, sourceShape } from '../../src/state/store';
import { DEFAULT_INPUTS } from '../../src/state/defaults';
import { importTensors } from '../../src/io/importTensors';
import { writeSafetensors } from '../../src/io/safetensors';
import { writeNpy } from '../../src/io/npy';
import { IMPORT_CAPS } from '../../src/io/errors';
import type { ImportedSource } from '../../src/io/types';

describe('reading files', () => {
  it('streams a file over 50 MB in chunks, reporting rising progress up to its size', async () => {
    const size = IMPORT_CAPS.streamAbove + 3 * 2 ** 20;
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i += 4096) bytes[i] = (i / 4096) & 0xff;
    const calls: number[] = [];
    const got = await readBlob(new Blob([bytes]), (read, total) => {
      expect(total).toBe(size);
      calls.push(read);
    });
    expect(calls.length).toBeGreaterThan(2);
    expect(calls).toEqual([...calls].sort((a, b) => a - b));
    expect(calls[calls.length - 1]).toBe(size);
    expect(got.length).toBe(size);
    expect(got[4096 * 7]).toBe(7);
  });

  it('reads a stream of unknown length by joining its chunks', async () => {
    const chunks = [new Uint8Array([1, 2]), new Uint8Array([3]), new Uint8Array([4, 5, 6])];
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        chunks.forEach((x) => c.enqueue(x));
        c.close();
      },
    });
    const seen: [number, number][] = [];
    expect(Array.from(await readStream(stream, 0, (r, t) => seen.push([r, t])))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(seen).toEqual([
      [2, 0],
      [3, 0],
      [6, 0],
    ]);
  });

  it('refuses a stream that is longer than it said', async () => {
    const stream = new Blob([new Uint8Array(10)]).stream();
    await expect(readStream(stream, 4, () => undefined)).rejects.toThrow(/grew while it was read/);
  });
});

describe('links to files', () => {
  it('round-trips src, layer and the pre-RoPE switch', () => {
    const inputs = { ...DEFAULT_INPUTS, source: { ...DEFAULT_INPUTS.source, kind: 'imported' as const, url: 'data/my dump.safetensors', layer: 3, positions: 'preRope' as const } };
    const d = decodeState(encodeState({ inputs, locked: null }));
    expect(d.messages).toEqual([]);
    expect(d.inputs.source).toMatchObject({ kind: 'imported', url: 'data/my dump.safetensors', layer: 3, positions: 'preRope' });
  });

  it('refuses other schemes and explains', () => {
    for (const bad of ['javascript:alert(1)', 'data:text/plain,x', 'file:///etc/passwd']) {
      const d = decodeState(`?src=${encodeURIComponent(bad)}`);
      expect(d.inputs.source.kind).toBe('synthetic');
      expect(d.inputs.source.url).toBeNull();
      expect(d.messages.join(' ')).toMatch(/is not a same-origin file URL/);
    }
    expect(decodeState('?src=https%3A%2F%2Fexample.org%2Fa.npy').inputs.source.url).toBe('https://example.org/a.npy'); // refused later, at fetch, as another origin
  });
});

describe('the store with an opened file', () => {
  const ready = (b: Uint8Array, name: string): ImportedSource => {
    const o = importTensors(b, name);
    if (o.status !== 'ready') throw new Error('not ready');
    return o.source;
  };
  const qkv = ready(
    writeSafetensors(
      { 'layers.0.q': { shape: [6, 3, 4], data: new Float32Array(72) }, 'layers.0.k': { shape: [2, 3, 4], data: new Float32Array(24) }, 'layers.1.q': { shape: [6, 3, 4], data: new Float32Array(72) }, 'layers.1.k': { shape: [2, 3, 4], data: new Float32Array(24) } },
      { causal: 'false', scale: '0.25' },
    ),
    'd.safetensors',
  );
  const weights = ready(writeNpy([3, 2, 2], new Float32Array([1, 0, 0.5, 0.5, 1, 0, 0.5, 0.5, 1, 0, 0.5, 0.5])), 'w.npy');

  it('takes the dump’s causal rule, scale and head counts, and keeps the method', () => {
    const s = createQkStore({ method: { id: 'gqa', params: {} }, view: { ...DEFAULT_INPUTS.view, head: 5 } });
    s.getState().setImported(qkv);
    const st = s.getState();
    expect(st.source.kind).toBe('imported');
    expect(st.compute).toMatchObject({ causal: false, scale: 0.25 });
    expect(st.method.id).toBe('gqa');
    expect(st.view.head).toBe(0);
    expect(sourceShape(st)).toEqual({ H: 6, Hkv: 2, d: 4, dv: 4 });
    st.setView({ head: 99 });
    expect(s.getState().view.head).toBe(5); // clamped to the file's 6 heads, not the synthetic 8
    s.getState().setSource({ layer: 1 });
    expect(importedLayer(s.getState())?.label).toBe('layer 1');
  });

  it('switches a method off for a file of weights only, and back to synthetic keeps the file', () => {
    const s = createQkStore({ method: { id: 'gqa', params: {} } });
    s.getState().setImported(weights);
    expect(s.getState().method.id).toBe('mha');
    expect(headCount(s.getState())).toBe(3);
    s.getState().setSource({ kind: 'synthetic' });
    expect(importedLayer(s.getState())).toBeNull();
    expect(headCount(s.getState())).toBe(DEFAULT_INPUTS.source.heads);
    expect(s.getState().imported).toBe(weights);
  });
});

describe('reading without a BYOB stream', () => {
  it('falls back to 8 MiB slices when the blob stream cannot be read into a given buffer', async () => {
    const size = IMPORT_CAPS.streamAbove + 2 ** 20;
    const real = new Blob([new Uint8Array(size).fill(3)]);
    // A blob whose stream is a plain (non-byte) stream: getReader({ mode: 'byob' }) throws.
    const plain = { size, stream: () => new ReadableStream<Uint8Array>(), slice: (a: number, b: number) => real.slice(a, b) } as unknown as Blob;
    const calls: number[] = [];
    const got = await readBlob(plain, (r) => calls.push(r));
    expect(got.length).toBe(size);
    expect(got[size - 1]).toBe(3);
    expect(calls).toEqual([8, 16, 24, 32, 40, 48].map((m) => m * 2 ** 20).concat([size]));
  });
});
