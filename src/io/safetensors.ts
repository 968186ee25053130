import { decode, ITEM_SIZE, type DType } from './dtype';
import { fail, IMPORT_CAPS } from './errors';
import { checkShape } from './npy';
import { fmtShape, sizeOf, type Tensor } from '../core/tensor';

const DTYPES: Record<string, DType> = {
  F64: 'f64', F32: 'f32', F16: 'f16', BF16: 'bf16', I64: 'i64', I32: 'i32', I16: 'i16', I8: 'i8', U64: 'u64', U32: 'u32', U16: 'u16', U8: 'u8', BOOL: 'bool',
};

/** One entry of a safetensors header, before its data is decoded. */
export interface SafetensorsEntry {
  name: string;
  dtype: DType;
  shape: number[];
  /** Byte range of the data, relative to the start of the file. */
  begin: number;
  end: number;
}

/** A parsed safetensors header: its entries in file order and the string metadata. */
export interface SafetensorsHeader {
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  /** Where the data starts (8 + header length). */
  dataStart: number;
}

/** Whether the bytes look like a safetensors file (a plausible length, then a JSON object). */
export function isSafetensors(b: Uint8Array): boolean {
  if (b.length < 10) return false;
  const n = Number(new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true));
  return n > 1 && n < 2 ** 40 && b[8] === 0x7b; // '{'
}

/**
 * Parses and validates a safetensors header (https://github.com/huggingface/safetensors):
 * an 8-byte little-endian length, then a JSON object of `{dtype, shape, data_offsets}` per
 * tensor and an optional `__metadata__` of strings. Every range must lie inside the file and
 * match its shape and dtype. Only the first `8 + length` bytes are needed, so a checkpoint
 * loader can read the header of a large file before reading any tensor.
 */
export function parseSafetensorsHeader(bytes: Uint8Array, fileSize = bytes.length, name = 'the .safetensors file'): SafetensorsHeader {
  if (bytes.length < 8) fail('truncated', `${name} is ${bytes.length} bytes; a safetensors file starts with an 8-byte header length`);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (n > IMPORT_CAPS.maxHeaderBytes) fail('cap', `${name}: the header claims ${n} bytes; the cap is ${IMPORT_CAPS.maxHeaderBytes}`);
  if (8 + n > fileSize || 8 + n > bytes.length) fail('truncated', `${name}: the header claims ${n} bytes but only ${Math.max(0, Math.min(fileSize, bytes.length) - 8)} follow`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    fail('header', `${name}: the header is not valid UTF-8 JSON (${(e as Error).message.slice(0, 80)})`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) fail('header', `${name}: the header must be a JSON object of tensors`);
  const dataStart = 8 + n;
  const dataSize = fileSize - dataStart;
  const entries: SafetensorsEntry[] = [];
  let metadata: Record<string, string> = {};
  const keys = Object.keys(json);
  if (keys.length > IMPORT_CAPS.maxEntries) fail('cap', `${name} lists ${keys.length} tensors; the cap is ${IMPORT_CAPS.maxEntries}`);
  for (const key of keys) {
    const v = (json as Record<string, unknown>)[key];
    if (key === '__metadata__') {
      if (!v || typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) fail('header', `${name}: __metadata__ must be an object of strings`);
      metadata = v as Record<string, string>;
      continue;
    }
    const t = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const label = `${name}, tensor "${key.slice(0, 80)}"`;
    if (!t || typeof t !== 'object') fail('header', `${label}: expected {dtype, shape, data_offsets}`);
    const dtype = typeof t.dtype === 'string' ? DTYPES[t.dtype] : undefined;
    if (!dtype) fail('dtype', `${label}: dtype ${JSON.stringify(t.dtype)?.slice(0, 20)} is not supported; expected F32, F16, BF16, F64 or an integer type`);
    if (!Array.isArray(t.shape) || t.shape.some((s) => !Number.isSafeInteger(s) || s < 0)) fail('header', `${label}: shape must be a list of non-negative whole numbers`);
    const shape = t.shape as number[];
    checkShape(shape, label);
    const off = t.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || off.some((x) => !Number.isSafeInteger(x) || x < 0) || off[1] < off[0]) fail('header', `${label}: data_offsets must be [begin, end] with 0 ≤ begin ≤ end`);
    const [b, e] = off as number[];
    if (e > dataSize) fail('truncated', `${label}: its data ends at byte ${e} of the data section but the file has only ${dataSize}`);
    const need = sizeOf(shape) * ITEM_SIZE[dtype];
    if (e - b !== need) fail('shape', `${label}: shape ${fmtShape(shape)} of ${t.dtype} needs ${need} bytes but data_offsets cover ${e - b}`);
    entries.push({ name: key, dtype, shape, begin: dataStart + b, end: dataStart + e });
  }
  entries.sort((a, b) => a.begin - b.begin);
  return { entries, metadata, dataStart };
}

/** Decodes one entry to float32 (a view when it is aligned little-endian F32). */
export function readEntry(bytes: Uint8Array, e: SafetensorsEntry): Tensor {
  return { shape: e.shape, data: decode(bytes, e.begin, sizeOf(e.shape), e.dtype) };
}

/** Writes float32 tensors and string metadata as a safetensors file (header padded to 8 bytes). */
export function writeSafetensors(tensors: Record<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let at = 0;
  const names = Object.keys(tensors);
  for (const k of names) {
    const t = tensors[k];
    if (t.data.length !== sizeOf(t.shape)) throw new Error(`writeSafetensors: ${k} has ${t.data.length} values for shape ${fmtShape(t.shape)}`);
    header[k] = { dtype: 'F32', shape: t.shape, data_offsets: [at, at + t.data.length * 4] };
    at += t.data.length * 4;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let hb = enc.encode(json);
  const pad = (8 - (hb.length % 8)) % 8;
  if (pad) hb = enc.encode((json += ' '.repeat(pad)));
  const out = new Uint8Array(8 + hb.length + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let o = 8 + hb.length;
  for (const k of names) {
    const d = tensors[k].data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), o);
    o += d.byteLength;
  }
  return out;
}

/**
 * The first part of a safetensors file for tensors laid out one after another in `entries`
 * order: the 8-byte header length and the JSON header (padded with spaces to 8 bytes). The data
 * (`dataBytes` long, each tensor at its `offsets` entry) follows it.
 */
export function safetensorsHeader(entries: { name: string; dtype: 'F16' | 'BF16' | 'F32'; shape: number[] }[]): { header: Uint8Array; dataBytes: number; offsets: number[] } {
  const header: Record<string, unknown> = {};
  const offsets: number[] = [];
  let at = 0;
  for (const e of entries) {
    const n = e.shape.reduce((a, b) => a * b, 1) * (e.dtype === 'F32' ? 4 : 2);
    offsets.push(at);
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [at, at + n] };
    at += n;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  return { header: out, dataBytes: at, offsets };
}
