import { fail } from './errors';

/** Element types the readers decode; everything becomes float32 (DESIGN.md §3). */
export type DType = 'f16' | 'bf16' | 'f32' | 'f64' | 'i8' | 'u8' | 'i16' | 'u16' | 'i32' | 'u32' | 'i64' | 'u64' | 'bool';

export const ITEM_SIZE: Record<DType, number> = { f16: 2, bf16: 2, f32: 4, f64: 8, i8: 1, u8: 1, i16: 2, u16: 2, i32: 4, u32: 4, i64: 8, u64: 8, bool: 1 };

const F16_TABLE = (() => {
  const t = new Float32Array(65536);
  for (let u = 0; u < 65536; u++) {
    const s = u & 0x8000 ? -1 : 1;
    const e = (u >> 10) & 0x1f;
    const f = u & 0x3ff;
    t[u] = e === 0 ? s * 2 ** -14 * (f / 1024) : e === 31 ? (f ? NaN : s * Infinity) : s * 2 ** (e - 15) * (1 + f / 1024);
  }
  return t;
})();

const LITTLE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Decodes `count` values of `dtype` starting at byte `offset` of `bytes` into float32. Little-endian
 * float32 at an aligned offset is returned as a view, without copying (a 150 MB dump is not
 * copied twice); anything else is converted into a new array.
 */
export function decode(bytes: Uint8Array, offset: number, count: number, dtype: DType, littleEndian = true): Float32Array {
  const size = ITEM_SIZE[dtype];
  if (offset + count * size > bytes.length) fail('truncated', `the data needs ${count * size} bytes from byte ${offset} but the file has only ${Math.max(0, bytes.length - offset)} there`);
  const at = bytes.byteOffset + offset;
  if (dtype === 'f32' && littleEndian === LITTLE && at % 4 === 0) return new Float32Array(bytes.buffer, at, count);
  const dv = new DataView(bytes.buffer, at, count * size);
  const out = new Float32Array(count);
  const le = littleEndian;
  switch (dtype) {
    case 'f32':
      if (le === LITTLE) out.set(new Float32Array(bytes.slice(offset, offset + count * 4).buffer));
      else for (let i = 0; i < count; i++) out[i] = dv.getFloat32(i * 4, le);
      break;
    case 'f64':
      for (let i = 0; i < count; i++) out[i] = dv.getFloat64(i * 8, le);
      break;
    case 'f16':
      for (let i = 0; i < count; i++) out[i] = F16_TABLE[dv.getUint16(i * 2, le)];
      break;
    case 'bf16': {
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) u[i] = dv.getUint16(i * 2, le) << 16;
      break;
    }
    case 'i8':
      for (let i = 0; i < count; i++) out[i] = dv.getInt8(i);
      break;
    case 'u8':
    case 'bool':
      for (let i = 0; i < count; i++) out[i] = dv.getUint8(i);
      break;
    case 'i16':
      for (let i = 0; i < count; i++) out[i] = dv.getInt16(i * 2, le);
      break;
    case 'u16':
      for (let i = 0; i < count; i++) out[i] = dv.getUint16(i * 2, le);
      break;
    case 'i32':
      for (let i = 0; i < count; i++) out[i] = dv.getInt32(i * 4, le);
      break;
    case 'u32':
      for (let i = 0; i < count; i++) out[i] = dv.getUint32(i * 4, le);
      break;
    case 'i64':
      for (let i = 0; i < count; i++) out[i] = Number(dv.getBigInt64(i * 8, le));
      break;
    case 'u64':
      for (let i = 0; i < count; i++) out[i] = Number(dv.getBigUint64(i * 8, le));
      break;
  }
  return out;
}

/** Float32 → IEEE half (round to nearest even), for the exporters' tests and writers. */
export function toHalf(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (rem > mid || (rem === mid && half & 1) ? half + 1 : half);
  }
  const rem = mant & 0x1fff;
  mant >>= 13;
  if (rem > 0x1000 || (rem === 0x1000 && mant & 1)) {
    mant++;
    if (mant === 0x400) {
      mant = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | mant;
}
