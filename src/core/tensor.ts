/**
 * The tensor contract that crosses every layer boundary (DESIGN.md §3): a row-major
 * Float32Array with its shape. tfjs tensors never leave `compute/`.
 */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

/** Number of elements a shape describes. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

/** A human-readable shape, e.g. `[8, 12, 64]`. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Attention inputs: `q [H, Nq, d]`, `k [Hkv, Nk, d]`, `v [Hkv, Nk, dv]`. */
export interface QKV {
  q: Tensor;
  k: Tensor;
  v: Tensor;
}

/** Dimensions read off validated attention inputs. */
export interface AttentionDims {
  H: number;
  Hkv: number;
  Nq: number;
  Nk: number;
  d: number;
  dv: number;
  /** Group size `H / Hkv`. */
  g: number;
}

/** Shape error with a message naming what is wrong and what was expected. */
export class ShapeError extends Error {
  override name = 'ShapeError';
}

function check3(name: string, t: Tensor, expect: string): void {
  if (!t || !Array.isArray(t.shape) || !(t.data instanceof Float32Array)) {
    throw new ShapeError(`${name} must be { shape: number[], data: Float32Array } with shape ${expect}`);
  }
  if (t.shape.length !== 3 || t.shape.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new ShapeError(`${name} has shape ${fmtShape(t.shape)}; expected 3 positive integer dimensions ${expect}`);
  }
  if (t.data.length !== sizeOf(t.shape)) {
    throw new ShapeError(`${name} has ${t.data.length} values but shape ${fmtShape(t.shape)} needs ${sizeOf(t.shape)}`);
  }
}

/**
 * Validates `q, k, v` against DESIGN.md §3 and returns their dimensions.
 * Throws {@link ShapeError} naming the offending tensor and the expected shape.
 */
export function attentionDims({ q, k, v }: QKV): AttentionDims {
  check3('q', q, '[H, Nq, d]');
  check3('k', k, '[Hkv, Nk, d]');
  check3('v', v, '[Hkv, Nk, dv]');
  const [H, Nq, d] = q.shape;
  const [Hkv, Nk, dk] = k.shape;
  const [Hv, Nv, dv] = v.shape;
  if (dk !== d) throw new ShapeError(`k head dimension is ${dk} but q has ${d}; expected k [Hkv, Nk, ${d}]`);
  if (Hv !== Hkv || Nv !== Nk) {
    throw new ShapeError(`v has shape ${fmtShape(v.shape)}; expected [${Hkv}, ${Nk}, dv] to match k ${fmtShape(k.shape)}`);
  }
  if (H % Hkv !== 0) {
    throw new ShapeError(`q has ${H} heads and k has ${Hkv}; the number of query heads must be a multiple of the KV heads`);
  }
  return { H, Hkv, Nq, Nk, d, dv, g: H / Hkv };
}

