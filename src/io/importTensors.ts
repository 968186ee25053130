import { fail, ImportError, IMPORT_CAPS } from './errors';
import { isNpy, parseNpy } from './npy';
import { isZip, parseNpz } from './npz';
import { isSafetensors, parseSafetensorsHeader, readEntry } from './safetensors';
import { fromArrays, fromJson } from './interpret';
import type { NdArray } from './npy';
import type { ImportOutcome } from './types';

export type { ImportOutcome } from './types';

/** The formats `importTensors` recognises, by content first and by file extension second. */
export type FileFormat = 'npy' | 'npz' | 'safetensors' | 'json';

/** Which reader a file needs: its magic bytes decide; the extension only breaks ties for text. */
export function sniffFormat(bytes: Uint8Array, filename: string): FileFormat {
  if (isNpy(bytes)) return 'npy';
  if (isZip(bytes)) return 'npz';
  if (isSafetensors(bytes)) return 'safetensors';
  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3; // UTF-8 byte-order mark
  while (i < bytes.length && i < 4096 && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  if (bytes[i] === 0x7b || bytes[i] === 0x5b) return 'json';
  const ext = /\.([a-z0-9]+)$/i.exec(filename)?.[1]?.toLowerCase();
  const expected = ext === 'npy' ? 'the .npy magic "\\x93NUMPY"' : ext === 'npz' ? 'a zip archive ("PK")' : ext === 'safetensors' ? 'an 8-byte header length followed by a JSON header' : ext === 'json' ? 'a JSON object or array' : null;
  if (bytes.length === 0) fail('truncated', `${filename} is empty`);
  fail('magic', expected ? `${filename} does not start with ${expected}` : `${filename} is not a recognised format: expected .npy, .npz, .safetensors or JSON (CircuitsVis, BertViz, Inspectus, Tensor2Tensor)`);
}

/**
 * Opens a tensor file from its bytes: `.npy`, `.npz`, `.safetensors`, or JSON in the shapes
 * CircuitsVis, BertViz (including encoder-decoder), Inspectus and Tensor2Tensor use, and
 * `qkscope-qkv` Q/K/V dumps (docs/import-formats.md). Returns the source ready to show, or an
 * array whose layout the user must confirm (`finish(layout)` completes it). Throws an
 * {@link ImportError} naming what is wrong and what was expected.
 */
export function importTensors(bytes: Uint8Array, filename: string): ImportOutcome {
  const name = filename || 'the file';
  if (bytes.length > IMPORT_CAPS.maxBytes) fail('cap', `${name} is ${bytes.length} bytes; the cap is ${IMPORT_CAPS.maxBytes}`);
  const base = { name, bytes: bytes.length };
  const o = guard(name, () => read(bytes, name, base));
  if (o.status === 'ready') return o;
  return { ...o, finish: (layout) => guard(name, () => o.finish(layout)) };
}

/**
 * Runs a reader step so that every failure reaches the user as an ImportError that names the
 * file: a reader bug (a RangeError on a corrupt file) still becomes a message, never a crash.
 */
function guard<T>(name: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ImportError) {
      if (e.message.includes(name)) throw e;
      throw new ImportError(e.problem, `${name}: ${e.message}`);
    }
    throw new ImportError('format', `${name} could not be read: ${(e as Error)?.message ?? String(e)}`);
  }
}

function read(bytes: Uint8Array, name: string, base: { name: string; bytes: number }): ImportOutcome {
  {
    switch (sniffFormat(bytes, name)) {
      case 'npy': {
        const a = parseNpy(bytes, name);
        return fromArrays(new Map([['attention', a]]), {}, base, '.npy');
      }
      case 'npz':
        return withNpzMeta(bytes, name, base);
      case 'safetensors': {
        const h = parseSafetensorsHeader(bytes, bytes.length, name);
        const arrays = new Map<string, NdArray>(h.entries.map((e) => [e.name, readEntry(bytes, e)]));
        return fromArrays(arrays, h.metadata, base, '.safetensors');
      }
      case 'json': {
        let text: string;
        try {
          text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
        } catch {
          fail('format', `${name} is not valid UTF-8 text`);
        }
        return fromJson(text, base);
      }
    }
  }
}

/** An `.npz` with its `metadata` entry (a 0-d string array holding JSON) read as the metadata. */
function withNpzMeta(bytes: Uint8Array, name: string, base: { name: string; bytes: number }): ImportOutcome {
  const arrays = parseNpz(bytes, name);
  let meta: Record<string, string> = {};
  const m = arrays.get('metadata');
  if (m) {
    if (!m.strings || m.strings.length !== 1) fail('header', `${name}: the "metadata" entry must be one string of JSON (np.array(json.dumps(meta)))`);
    let o: unknown;
    try {
      o = JSON.parse(m.strings[0]);
    } catch {
      fail('header', `${name}: the "metadata" entry is not JSON`);
    }
    if (!o || typeof o !== 'object' || Array.isArray(o)) fail('header', `${name}: the "metadata" entry must be a JSON object`);
    meta = Object.fromEntries(Object.entries(o as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  }
  return fromArrays(arrays, meta, base, '.npz');
}
