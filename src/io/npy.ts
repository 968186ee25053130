import { decode, ITEM_SIZE, type DType } from './dtype';
import { fail, IMPORT_CAPS } from './errors';
import { fmtShape, sizeOf } from '../core/tensor';

/** A decoded array: numbers become float32; numpy string arrays (`<U`, `|S`) become strings. */
export type NdArray = { shape: number[]; data: Float32Array; strings?: undefined } | { shape: number[]; strings: string[]; data?: undefined };

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Whether bytes start with the .npy magic string. */
export function isNpy(b: Uint8Array): boolean {
  return b.length >= 6 && MAGIC.every((m, i) => b[i] === m);
}

const NUMERIC: Record<string, DType> = {
  f2: 'f16', f4: 'f32', f8: 'f64', i1: 'i8', u1: 'u8', i2: 'i16', u2: 'u16', i4: 'i32', u4: 'u32', i8: 'i64', u8: 'u64', b1: 'bool',
};

/** Parses the header dict `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` strictly. */
function parseHeader(h: string, name: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]{1,16})['"]/.exec(h)?.[1];
  const fo = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(h)?.[1];
  const sh = /['"]shape['"]\s*:\s*\(([^)]{0,200})\)/.exec(h)?.[1];
  if (!h.trimStart().startsWith('{') || descr === undefined || fo === undefined || sh === undefined) {
    fail('header', `${name}: the .npy header is not a dict with 'descr', 'fortran_order' and 'shape' (read: ${JSON.stringify(h.slice(0, 80))})`);
  }
  const parts = sh.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const shape = parts.map((p) => (/^\d{1,12}L?$/.test(p) ? parseInt(p, 10) : NaN));
  if (shape.some((s) => !Number.isSafeInteger(s))) fail('header', `${name}: the .npy shape (${sh.slice(0, 60)}) is not a tuple of non-negative whole numbers`);
  return { descr, fortran: fo === 'True', shape };
}

/** Converts a Fortran-ordered (column-major) array to row-major. */
function fromFortran(data: Float32Array, shape: number[]): Float32Array {
  const n = data.length;
  const out = new Float32Array(n);
  const r = shape.length;
  const idx = new Array<number>(r).fill(0);
  // Walk the output in row-major order; the Fortran offset of (i0..ir-1) is Σ i_k · Π_{m<k} s_m.
  const fstride = shape.map((_, k) => shape.slice(0, k).reduce((a, b) => a * b, 1));
  for (let o = 0; o < n; o++) {
    let f = 0;
    for (let k = 0; k < r; k++) f += idx[k] * fstride[k];
    out[o] = data[f];
    for (let k = r - 1; k >= 0; k--) {
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

/** Validates a shape against the caps, naming the array. */
export function checkShape(shape: number[], name: string): number {
  if (shape.length > IMPORT_CAPS.maxRank) fail('cap', `${name} has ${shape.length} dimensions ${fmtShape(shape)}; at most ${IMPORT_CAPS.maxRank} are supported`);
  const n = sizeOf(shape);
  if (n > IMPORT_CAPS.maxElements) fail('cap', `${name} ${fmtShape(shape)} has ${n.toLocaleString('en')} values; the cap is ${IMPORT_CAPS.maxElements.toLocaleString('en')} (2 GiB of float32)`);
  return n;
}

/**
 * Reads a NumPy `.npy` file (format versions 1–3): numeric dtypes of either byte order, C or
 * Fortran order, and unicode/byte string arrays (for token lists). Throws an `ImportError`
 * naming the problem: wrong magic, bad header, unsupported dtype, or data length that does not
 * match the shape.
 */
export function parseNpy(bytes: Uint8Array, name = 'the .npy file'): NdArray {
  if (!isNpy(bytes)) fail('magic', `${name} does not start with the .npy magic "\\x93NUMPY"`);
  if (bytes.length < 10) fail('truncated', `${name} ends inside the .npy preamble (${bytes.length} bytes)`);
  const major = bytes[6];
  if (major < 1 || major > 3) fail('header', `${name} is .npy format version ${major}.${bytes[7]}; versions 1, 2 and 3 are supported`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pre = major === 1 ? 10 : 12;
  if (bytes.length < pre) fail('truncated', `${name} ends inside the .npy preamble`);
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  if (hlen > IMPORT_CAPS.maxHeaderBytes) fail('cap', `${name}: the .npy header claims ${hlen} bytes`);
  if (pre + hlen > bytes.length) fail('truncated', `${name}: the .npy header claims ${hlen} bytes but the file ends after ${bytes.length - pre}`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(pre, pre + hlen));
  const { descr, fortran, shape } = parseHeader(header, name);
  const count = checkShape(shape, name);
  const start = pre + hlen;
  const order = descr[0];
  const code = descr.slice(1);
  if (!'<>|='.includes(order)) fail('dtype', `${name}: dtype '${descr}' has no byte-order mark; expected e.g. '<f4'`);
  const little = order !== '>';
  const str = /^([US])(\d{1,6})$/.exec(code);
  if (str) {
    const width = parseInt(str[2], 10);
    const unit = str[1] === 'U' ? 4 : 1;
    const need = count * width * unit;
    if (bytes.length - start !== need) fail(bytes.length - start < need ? 'truncated' : 'shape', `${name}: shape ${fmtShape(shape)} of '${descr}' needs ${need} bytes of data but the file has ${bytes.length - start}`);
    if (count > IMPORT_CAPS.maxTokens * 16) fail('cap', `${name}: ${count} strings is more than the cap`);
    const strings: string[] = [];
    const sv = new DataView(bytes.buffer, bytes.byteOffset + start, need);
    for (let i = 0; i < count; i++) {
      let s = '';
      for (let c = 0; c < width; c++) {
        const cp = unit === 4 ? sv.getUint32((i * width + c) * 4, little) : sv.getUint8(i * width + c);
        if (cp === 0) break;
        s += cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
      }
      strings.push(s);
    }
    return { shape, strings };
  }
  const dtype = NUMERIC[code];
  if (!dtype) fail('dtype', `${name}: dtype '${descr}' is not supported; expected a float (f2, f4, f8), integer or bool array`);
  const need = count * ITEM_SIZE[dtype];
  if (bytes.length - start !== need) fail(bytes.length - start < need ? 'truncated' : 'shape', `${name}: shape ${fmtShape(shape)} of '${descr}' needs ${need} bytes of data but the file has ${bytes.length - start}`);
  let data = decode(bytes, start, count, dtype, little);
  if (fortran && shape.length > 1) data = fromFortran(data, shape);
  return { shape, data };
}

/** Writes a float32 array as a version-1 `.npy` file (C order, little-endian). */
export function writeNpy(shape: readonly number[], data: Float32Array): Uint8Array {
  if (sizeOf(shape) !== data.length) throw new Error(`writeNpy: shape ${fmtShape(shape)} needs ${sizeOf(shape)} values, got ${data.length}`);
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${tuple}, }`;
  // Magic (6) + version (2) + length (2) + header + '\n' is padded with spaces to a multiple of 64.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total + data.length * 4);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  new Uint8Array(out.buffer, total).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return out;
}
