/**
 * The memory plan of a long-context layer: what the foundation's dense path would hold, what the
 * tiled path holds instead, and how far the maps' resolution is reduced to fit a budget.
 */
export interface LongPlanInput {
  Nq: number;
  Nk: number;
  H: number;
  Hkv: number;
  d: number;
  /** Worker threads, each with its own copy of Q and K and a block of scores. */
  workers: number;
  /** Bytes the maps and inputs may take (see {@link memoryBudget}). */
  budget: number;
  /** Largest side of the shown head's base map (its pyramid's finest level). Default 1024. */
  viewSide?: number;
  /** Side of each head's tile in the grid. Default 256. */
  gridSide?: number;
  /** Largest visible side (cells) at which the heatmap computes the exact weights of its window (1.5× that with its margin). Default 1024. */
  exactSide?: number;
}

export interface LongPlan {
  /** Scores and weights `[H, Nq, Nk]` as float32: what the dense path reads back. */
  denseBytes: number;
  /** Q and K in the page plus a copy per worker. */
  inputBytes: number;
  /** Pool factor and size of the shown head's base map, and its bytes (values and RGBA). */
  fView: number;
  view: [number, number];
  viewBytes: number;
  /** Pool factor and size of each grid tile, and the bytes of all H tiles (values and RGBA). */
  fGrid: number;
  grid: [number, number];
  gridBytes: number;
  /** Per worker: packed keys and one block of 32 rows of scores. */
  kernelBytes: number;
  /** The exact window of a zoomed-in heatmap (values and RGBA), 0 when the map is exact already. */
  windowBytes: number;
  totalBytes: number;
  budget: number;
  /** `tiled`: as planned; `reduced`: the grid or view resolution was lowered to fit the budget; `over`: even the smallest plan does not fit. */
  status: 'tiled' | 'reduced' | 'over';
  /** Sentences for the user. */
  lines: string[];
}

/** Bytes as text: 1.5 GiB, 24 MiB, 512 KiB. */
export function fmtBytes(b: number): string {
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toFixed(1)} GiB`;
  if (b >= 2 ** 20) return `${(b / 2 ** 20).toFixed(b >= 10 * 2 ** 20 ? 0 : 1)} MiB`;
  return `${Math.max(1, Math.round(b / 1024))} KiB`;
}

/**
 * A memory budget from what the browser says of the machine: a quarter of `deviceMemory`
 * (GiB; Chrome rounds it and caps it at 8), between 256 MiB and 2 GiB; 1 GiB when unknown.
 */
export function memoryBudget(deviceMemoryGiB: number | undefined): number {
  if (!deviceMemoryGiB || !Number.isFinite(deviceMemoryGiB)) return 2 ** 30;
  return Math.min(2 ** 31, Math.max(2 ** 28, (deviceMemoryGiB * 2 ** 30) / 4));
}

const side = (n: number, f: number) => Math.ceil(n / f);

/** Plans the pool factors of the shown map and the grid so that the whole stays within the budget. */
export function planLong(x: LongPlanInput): LongPlan {
  const { Nq, Nk, H, Hkv, d, workers, budget } = x;
  const N = Math.max(Nq, Nk);
  const denseBytes = 2 * 4 * H * Nq * Nk;
  const inputBytes = (1 + workers) * 4 * (H * Nq + Hkv * Nk) * d;
  const kernelBytes = workers * 4 * (Math.ceil(Nk / 8) * 8 * (d + 32) + 32 * d);
  // Values (f32) and colours (RGBA) of a map.
  const mapBytes = (f: number) => side(Nq, f) * side(Nk, f) * 8;
  let fView = Math.max(1, Math.ceil(N / (x.viewSide ?? 1024)));
  let fGrid = Math.max(fView, Math.ceil(N / (x.gridSide ?? 256)));
  fGrid = Math.ceil(fGrid / fView) * fView; // a grid cell is whole view cells, so the shown head's tile pools from its map
  const exactSide = Math.min(N, Math.ceil(1.5 * (x.exactSide ?? 1024)));
  const windowBytes = () => (fView > 1 ? exactSide * exactSide * 8 : 0);
  const total = () => inputBytes + kernelBytes + mapBytes(fView) + H * mapBytes(fGrid) + windowBytes();
  let status: LongPlan['status'] = 'tiled';
  const lines: string[] = [];
  while (total() > budget && fGrid < N) {
    fGrid *= 2;
    status = 'reduced';
  }
  while (total() > budget && fView < N) {
    fView *= 2;
    fGrid = Math.max(fGrid, fView);
    status = 'reduced';
  }
  if (total() > budget) status = 'over';
  const totalBytes = total();
  lines.push(
    `The dense path would hold the scores and weights of ${H} heads, 2 × ${H} × ${Nq} × ${Nk} floats: ${fmtBytes(denseBytes)}${denseBytes > budget ? `, more than the budget of ${fmtBytes(budget)}` : ''}.`,
    `Computed in tiles instead: blocks of 32 query rows against their keys, never a whole map. Kept: Q and K (${fmtBytes(inputBytes)} with the ${workers} workers' copies), the shown head at ${side(Nq, fView)} × ${side(Nk, fView)}${fView > 1 ? ` (max-pooled ${fView} × ${fView})` : ' (exact)'} and ${H} grid tiles at ${side(Nq, fGrid)} × ${side(Nk, fGrid)}${windowBytes() ? `, and when zoomed in the exact weights of up to ${exactSide} × ${exactSide} cells` : ''}: ${fmtBytes(totalBytes)} in all.`,
  );
  if (status === 'reduced') lines.push(`To fit ${fmtBytes(budget)}, the ${fView > Math.ceil(N / (x.viewSide ?? 1024)) ? 'heatmap and the grid are' : 'grid is'} shown at reduced resolution.`);
  if (status === 'over') lines.push(`Even at the lowest resolution this needs ${fmtBytes(totalBytes)}, more than the budget of ${fmtBytes(budget)}: use fewer tokens or heads.`);
  return { denseBytes, inputBytes, windowBytes: windowBytes(), fView, view: [side(Nq, fView), side(Nk, fView)], viewBytes: mapBytes(fView), fGrid, grid: [side(Nq, fGrid), side(Nk, fGrid)], gridBytes: H * mapBytes(fGrid), kernelBytes, totalBytes, budget, status, lines };
}

/** Max-pools a `[P, Pc]` map by `m` (−1 stays masked unless a cell is live). */
export function poolBy(map: Float32Array, P: number, Pc: number, m: number): { map: Float32Array; P: number; Pc: number } {
  const Q = Math.ceil(P / m);
  const Qc = Math.ceil(Pc / m);
  const out = new Float32Array(Q * Qc).fill(-1);
  for (let R = 0; R < P; R++) {
    const o = Math.floor(R / m) * Qc;
    for (let C = 0; C < Pc; C++) {
      const v = map[R * Pc + C];
      const k = o + Math.floor(C / m);
      if (v > out[k]) out[k] = v;
    }
  }
  return { map: out, P: Q, Pc: Qc };
}
