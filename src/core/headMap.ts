/**
 * Query head → KV head mapping (ALGORITHMS.md §0.2).
 * - `contiguous` (default): κ(h) = ⌊h / g⌋, the layout of HF `repeat_kv` and PyTorch SDPA `enable_gqa`.
 * - `interleaved`: κ(h) = h mod Hkv (FlexPrefill `gqa_interleave`, TokenSelect).
 */
export type HeadLayout = 'contiguous' | 'interleaved';

/** KV head read by query head `h` when there are `H` query heads and `Hkv` KV heads. */
export function kvHeadOf(h: number, H: number, Hkv: number, layout: HeadLayout = 'contiguous'): number {
  if (H % Hkv !== 0) throw new Error(`${H} query heads cannot be grouped over ${Hkv} KV heads (H must be a multiple of Hkv)`);
  return layout === 'contiguous' ? Math.floor(h / (H / Hkv)) : h % Hkv;
}

/** The whole mapping as an array `κ[h]`. */
export function headMapping(H: number, Hkv: number, layout: HeadLayout = 'contiguous'): number[] {
  return Array.from({ length: H }, (_, h) => kvHeadOf(h, H, Hkv, layout));
}
