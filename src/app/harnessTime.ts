/** Medians and timed repetitions for the benchmark harness. */
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export async function time(fn: () => Promise<unknown> | unknown, reps: number, budgetMs: number, warm = true): Promise<{ median: number; runs: number[] }> {
  if (warm) await fn(); // warm-up: shader compilation, WASM tiering
  const runs: number[] = [];
  const start = performance.now();
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await fn();
    runs.push(performance.now() - t0);
    if (performance.now() - start > budgetMs) break;
  }
  return { median: median(runs), runs };
}
