/** Max-pools `[H, N, N]` maps to `[H, P, P]` (cells of ⌈N/P⌉ or ⌊N/P⌋ rows and columns), so peaks stay visible. */
export function maxPoolMaps(w: Float32Array, H: number, N: number, P: number): Float32Array {
  const out = new Float32Array(H * P * P);
  for (let h = 0; h < H; h++)
    for (let i = 0; i < N; i++) {
      const pi = Math.floor((i * P) / N);
      const row = (h * N + i) * N;
      for (let j = 0; j < N; j++) {
        const o = (h * P + pi) * P + Math.floor((j * P) / N);
        if (w[row + j] > out[o]) out[o] = w[row + j];
      }
    }
  return out;
}
