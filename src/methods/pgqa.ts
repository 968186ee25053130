/** Mean and unbiased (n − 1) standard deviation of `x[o, o + L)`. */
export function meanStd(x: Float32Array, o: number, L: number): { mean: number; std: number } {
  let s = 0;
  for (let i = o; i < o + L; i++) s += x[i];
  const mean = s / L;
  let v = 0;
  for (let i = o; i < o + L; i++) v += (x[i] - mean) ** 2;
  return { mean, std: L > 1 ? Math.sqrt(v / (L - 1)) : 0 };
}

/**
 * PGQA's perturbation (ALGORITHMS.md §2.3, Quirk K5: the code subtracts the noise from the head
 * **outputs**; the maps are untouched). For each group γ of s = H/G heads, in order: draw
 * R ∈ [0,1)^{s × N·dv} row-major from `rand`, zero its diagonal, standardise each row (unbiased
 * std; 0 → 1), rescale it to the row's output mean and std, and subtract. Returns O' and Ñ.
 */
export function pgqaPerturb(output: Float32Array, H: number, G: number, N: number, dv: number, rand: () => number): { out: Float32Array; noise: Float32Array } {
  const s = H / G;
  const L = N * dv;
  const out = new Float32Array(output.length);
  const noise = new Float32Array(output.length);
  const R = new Float32Array(L);
  for (let g = 0; g < G; g++) {
    // All of the group's draws come first (R is drawn as one s × L matrix), then each row is used.
    const rows: Float32Array[] = [];
    for (let i = 0; i < s; i++) {
      const row = new Float32Array(L);
      for (let j = 0; j < L; j++) row[j] = rand();
      if (i < L) row[i] = 0;
      rows.push(row);
    }
    for (let i = 0; i < s; i++) {
      R.set(rows[i]);
      const r = meanStd(R, 0, L);
      const rs = r.std === 0 ? 1 : r.std;
      const o = (g * s + i) * L;
      const st = meanStd(output, o, L);
      for (let j = 0; j < L; j++) {
        const n = ((R[j] - r.mean) / rs) * st.std + st.mean;
        noise[o + j] = n;
        out[o + j] = output[o + j] - n;
      }
    }
  }
  return { out, noise };
}
