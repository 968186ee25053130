import * as tf from '@tensorflow/tfjs-core';
import { emptyStats, MapKernel, visibleKeys, type HeadInputs, type RowStats } from './kernel';

/**
 * One head's max-pooled attention map on a tfjs backend, for the long-context path:
 * - on `wasm` and `cpu`, a custom tfjs kernel ({@link POOLED_KERNEL}) registered for those
 *   backends runs QK Scope's WebAssembly SIMD kernel on the tensors' data;
 * - on `webgl` and `webgpu`, a tiled composite of tfjs ops: blocks of {@link ROW_BLOCK} query rows
 *   against tiles of {@link KEY_TILE} keys, an online max and sum across the tiles, then the
 *   weights of each tile max-pooled on the GPU. No texture is larger than 256 × 2048, so N may
 *   pass WebGL's 8192 texture limit. (Not fused into one shader: each tile is a few ops.)
 */
export const POOLED_KERNEL = 'QkPooledAttention';
export const ROW_BLOCK = 256;
export const KEY_TILE = 2048;

interface Attrs {
  f: number;
  causal: boolean;
  scale: number;
  window: number;
  sinks: number;
}

export interface PooledTf {
  map: Float32Array;
  P: number;
  Pc: number;
  stats: RowStats;
  /** `kernel`: the registered WebAssembly kernel; `tiled`: the tfjs ops. */
  path: 'kernel' | 'tiled';
}

let kernel: MapKernel | null = null;
const registered = new Set<string>();

/** Registers {@link POOLED_KERNEL} for the `wasm` and `cpu` backends (once). */
export function registerPooledKernel(): void {
  for (const backendName of ['wasm', 'cpu']) {
    if (registered.has(backendName)) continue;
    registered.add(backendName);
    tf.registerKernel({
      kernelName: POOLED_KERNEL,
      backendName,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { q, k } = inputs as { q: tf.TensorInfo; k: tf.TensorInfo };
        const a = attrs as unknown as Attrs;
        const b = backend as unknown as {
          readSync(id: object): Float32Array;
          makeOutput?(shape: number[], dtype: 'float32', offset?: number, values?: Float32Array): tf.TensorInfo;
          makeTensorInfo?(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
        };
        const [Nq, d] = q.shape;
        const Nk = k.shape[0];
        kernel ??= new MapKernel();
        const P = Math.ceil(Nq / a.f);
        const Pc = Math.ceil(Nk / a.f);
        const map = new Float32Array(P * Pc);
        const st = emptyStats(Nq);
        kernel.pooled({ q: b.readSync(q.dataId), k: b.readSync(k.dataId), Nq, Nk, d, scale: a.scale, causal: a.causal, window: a.window || undefined, sinks: a.sinks }, a.f, map, st);
        const stats = new Float32Array(5 * Nq);
        [st.max, st.sum, st.entropy, st.distance, st.sink].forEach((x, i) => stats.set(x, i * Nq));
        const out = (shape: number[], v: Float32Array) => (backendName === 'wasm' ? b.makeOutput!(shape, 'float32', undefined, v) : b.makeTensorInfo!(shape, 'float32', v));
        return [out([P, Pc], map), out([5, Nq], stats)];
      },
    });
  }
}

/** One head's pooled map and row stats on the active tfjs backend (see {@link POOLED_KERNEL}); `tiled` forces the ops path. */
export async function pooledTf(x: HeadInputs, f: number, opts: { tiled?: boolean; rowBlock?: number; keyTile?: number } = {}): Promise<PooledTf> {
  const be = tf.getBackend();
  if (!opts.tiled && (be === 'wasm' || be === 'cpu')) {
    registerPooledKernel();
    const q = tf.tensor2d(x.q, [x.Nq, x.d]);
    const k = tf.tensor2d(x.k, [x.Nk, x.d]);
    try {
      const attrs: Attrs = { f, causal: x.causal, scale: x.scale, window: x.window ?? 0, sinks: x.sinks ?? 0 };
      const [m, s] = tf.engine().runKernel(POOLED_KERNEL, { q, k }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
      const map = (await m.data()) as Float32Array;
      const sd = (await s.data()) as Float32Array;
      m.dispose();
      s.dispose();
      const N = x.Nq;
      const stats: RowStats = { max: sd.slice(0, N), sum: sd.slice(N, 2 * N), entropy: sd.slice(2 * N, 3 * N), distance: sd.slice(3 * N, 4 * N), sink: sd.slice(4 * N, 5 * N) };
      return { map, P: Math.ceil(x.Nq / f), Pc: Math.ceil(x.Nk / f), stats, path: 'kernel' };
    } finally {
      q.dispose();
      k.dispose();
    }
  }
  return tiled(x, f, opts.rowBlock ?? ROW_BLOCK, opts.keyTile ?? KEY_TILE);
}

/** The allowed-key mask of rows [r0, r0 + R) × keys [c0, c0 + C) as a boolean tensor. */
function allowedTile(x: HeadInputs, r0: number, R: number, c0: number, C: number): tf.Tensor2D | null {
  if (!x.causal) return null;
  const off = x.Nk - x.Nq;
  const i = tf.reshape(tf.range(r0 + off, r0 + off + R, 1, 'int32'), [R, 1]);
  const j = tf.reshape(tf.range(c0, c0 + C, 1, 'int32'), [1, C]);
  let ok = tf.lessEqual(j, i);
  if (x.window) {
    const inWin = tf.greater(j, tf.sub(i, x.window));
    ok = tf.logicalAnd(ok, x.sinks ? tf.logicalOr(inWin, tf.less(j, x.sinks)) : inWin);
  }
  return ok as tf.Tensor2D;
}

async function tiled(x: HeadInputs, f: number, rowBlock: number, keyTile: number): Promise<PooledTf> {
  const { Nq, Nk, d } = x;
  const P = Math.ceil(Nq / f);
  const Pc = Math.ceil(Nk / f);
  const map = new Float32Array(P * Pc).fill(-1);
  const stats = emptyStats(Nq);
  // Tiles are whole pooling cells: rows and keys per tile are multiples of f.
  const RB = Math.max(f, Math.floor(rowBlock / f) * f);
  const KT = Math.max(f, Math.floor(keyTile / f) * f);
  const q = tf.tensor2d(x.q, [Nq, d]);
  const k = tf.tensor2d(x.k, [Nk, d]);
  const NEG = -1e30;
  try {
    for (let r0 = 0; r0 < Nq; r0 += RB) {
      const R = Math.min(RB, Nq - r0);
      const kEnd = visibleKeys(r0 + R - 1, Nq, Nk, x.causal);
      const qb = tf.slice(q, [r0, 0], [R, d]);
      const scores = (c0: number, C: number) =>
        tf.tidy(() => {
          const s = tf.mul(tf.matMul(qb, tf.slice(k, [c0, 0], [C, d]), false, true), x.scale);
          const ok = allowedTile(x, r0, R, c0, C);
          return { s: ok ? tf.where(ok, s, tf.fill([R, C], NEG)) : s, ok: ok ?? undefined };
        });
      // Pass 1: the row max and sum over every tile (online: rescale the sum when the max grows).
      let m = tf.fill([R, 1], NEG) as tf.Tensor2D;
      let l = tf.zeros([R, 1]) as tf.Tensor2D;
      let sex = tf.zeros([R, 1]) as tf.Tensor2D;
      for (let c0 = 0; c0 < Math.max(1, kEnd); c0 += KT) {
        const C = Math.min(KT, Nk - c0);
        const { s, ok } = scores(c0, C) as { s: tf.Tensor2D; ok?: tf.Tensor2D };
        const [m2, l2, sex2] = tf.tidy(() => {
          const mt = tf.maximum(m, tf.max(s, 1, true));
          const e = tf.exp(tf.sub(s, mt));
          const live = ok ? tf.where(ok, e, tf.zerosLike(e)) : e;
          const a = tf.exp(tf.sub(m, mt));
          // Σe·(s − max) moves with the max: Σe'(s − m') = a·(Σe(s − m) + (m − m')·Σe).
          const sexNew = tf.add(tf.mul(a, tf.add(sex, tf.mul(tf.sub(m, mt), l))), tf.sum(tf.mul(live, tf.sub(s, mt)), 1, true));
          return [mt, tf.add(tf.mul(l, a), tf.sum(live, 1, true)), sexNew];
        });
        s.dispose();
        ok?.dispose();
        m.dispose();
        l.dispose();
        sex.dispose();
        [m, l, sex] = [m2 as tf.Tensor2D, l2 as tf.Tensor2D, sex2 as tf.Tensor2D];
      }
      const [md, ld, xd] = await Promise.all([m.data(), l.data(), sex.data()]);
      // Pass 2: each tile's weights, max-pooled f × f on the backend (masked cells −1), and the
      // row sums of weight × distance and the weight on key 0.
      const Rp = Math.ceil(R / f) * f;
      const dist = new Float64Array(R);
      let sink: Float32Array | null = null;
      for (let c0 = 0; c0 < Math.max(1, kEnd); c0 += KT) {
        const C = Math.min(KT, Nk - c0);
        const Cp = Math.ceil(C / f) * f;
        const { s, ok } = scores(c0, C) as { s: tf.Tensor2D; ok?: tf.Tensor2D };
        const [pooled, dsum, first] = tf.tidy(() => {
          const w0 = tf.div(tf.exp(tf.sub(s, m)), l);
          const w = ok ? tf.where(ok, w0, tf.zerosLike(w0)) : w0;
          const p = ok ? tf.where(ok, w0, tf.fill([R, C], -1)) : w0;
          const padded = tf.pad(p, [[0, Rp - R], [0, Cp - C]], -1);
          const qpos = tf.reshape(tf.range(r0 + Nk - Nq, r0 + Nk - Nq + R, 1, 'float32'), [R, 1]);
          const kpos = tf.reshape(tf.range(c0, c0 + C, 1, 'float32'), [1, C]);
          return [tf.maxPool(tf.reshape(padded, [1, Rp, Cp, 1]) as tf.Tensor4D, [f, f], [f, f], 'valid'), tf.sum(tf.mul(w, tf.abs(tf.sub(qpos, kpos))), 1), c0 === 0 ? tf.slice(w, [0, 0], [R, 1]) : tf.zeros([1])];
        });
        s.dispose();
        ok?.dispose();
        const [pd, dd, fd] = await Promise.all([pooled.data(), dsum.data(), first.data()]);
        pooled.dispose();
        dsum.dispose();
        first.dispose();
        const rows = Rp / f;
        const cols = Cp / f;
        for (let a = 0; a < rows && r0 / f + a < P; a++) map.set(pd.subarray(a * cols, a * cols + Math.min(cols, Pc - c0 / f)), (r0 / f + a) * Pc + c0 / f);
        for (let i = 0; i < R; i++) dist[i] += dd[i];
        if (c0 === 0) sink = fd as Float32Array;
      }
      for (let i = 0; i < R; i++) {
        stats.distance[r0 + i] = dist[i];
        stats.sink[r0 + i] = sink ? sink[i] : 0;
      }
      m.dispose();
      l.dispose();
      sex.dispose();
      qb.dispose();
      for (let i = 0; i < R; i++) {
        stats.max[r0 + i] = md[i];
        stats.sum[r0 + i] = visibleKeys(r0 + i, Nq, Nk, x.causal) > 0 ? ld[i] : 0;
        stats.entropy[r0 + i] = ld[i] > 0 ? Math.log(ld[i]) - xd[i] / ld[i] : 0;
      }
    }
  } finally {
    q.dispose();
    k.dispose();
  }
  return { map, P, Pc, stats, path: 'tiled' };
}
