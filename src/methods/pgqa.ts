/** Mean and unbiased (n − 1) standard deviation of `x[o, o + L)` (two passes, in float64). */
export function meanStd(x: Float32Array, o: number, L: number): { mean: number; std: number } {
  let s = 0;
  for (let i = o; i < o + L; i++) s += x[i];
  const mean = s / L;
  let v = 0;
  for (let i = o; i < o + L; i++) v += (x[i] - mean) ** 2;
  return { mean, std: L > 1 ? Math.sqrt(v / (L - 1)) : 0 };
}

/** PGQA's output: the perturbed outputs, the noise, and each head's output mean and std before and after. */
export interface PgqaOutput {
  out: Float32Array;
  noise: Float32Array;
  meanBefore: number[];
  stdBefore: number[];
  meanAfter: number[];
  stdAfter: number[];
}

/**
 * PGQA's perturbation (ALGORITHMS.md §2.3, Quirk K5: the code subtracts the noise from the head
 * **outputs**; the maps are untouched). For each group γ of s = H/G heads, in order: draw
 * R ∈ [0,1)^{s × N·dv} row-major from `rand`, zero its diagonal, standardise each row (unbiased
 * std; 0 → 1), rescale it to the row's output mean and std, and subtract. Returns O', Ñ and the
 * statistics the view shows (a few passes over the outputs: this runs on every seed change).
 */
export function pgqaPerturb(output: Float32Array, H: number, G: number, N: number, dv: number, rand: () => number): PgqaOutput {
  const s = H / G;
  const L = N * dv;
  const out = new Float32Array(output.length);
  const noise = new Float32Array(output.length);
  const res: PgqaOutput = { out, noise, meanBefore: [], stdBefore: [], meanAfter: [], stdAfter: [] };
  for (let g = 0; g < G; g++) {
    // All of the group's draws come first (R is one s × L matrix, row-major): they go straight
    // into the noise buffer, with the diagonal zeroed, and are standardised in place below.
    const g0 = g * s * L;
    for (let i = 0; i < s * L; i++) noise[g0 + i] = rand();
    for (let i = 0; i < Math.min(s, L); i++) noise[g0 + i * L + i] = 0;
    for (let i = 0; i < s; i++) {
      const o = g0 + i * L;
      const r = meanStd(noise, o, L);
      const rs = r.std === 0 ? 1 : r.std;
      const st = meanStd(output, o, L);
      const a = st.std / rs;
      const b = st.mean - r.mean * a;
      let sum = 0;
      for (let j = o; j < o + L; j++) {
        // Ñ = (R − mean R)/std R · std O + mean O
        const n = noise[j] * a + b;
        noise[j] = n;
        const y = output[j] - n;
        out[j] = y;
        sum += y;
      }
      const mean = sum / L;
      let v = 0;
      for (let j = o; j < o + L; j++) v += (out[j] - mean) ** 2;
      res.meanBefore.push(st.mean);
      res.stdBefore.push(st.std);
      res.meanAfter.push(mean);
      res.stdAfter.push(L > 1 ? Math.sqrt(v / (L - 1)) : 0);
    }
  }
  return res;
}
