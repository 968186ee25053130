import type { Tensor } from '../core/tensor';
import { ShapeError } from '../core/tensor';

/**
 * Mean-pools contiguous groups of heads: `[Hs, N, c]` → `[G, N, c]` (ALGORITHMS.md §1, the MHA → GQA
 * conversion recipe). Head γ is the mean of heads `γ·r … γ·r + r − 1`, r = Hs/G, computed in float32.
 * Throws when G does not divide Hs.
 */
export function poolHeads(t: Tensor, G: number, what = 'KV heads'): Tensor {
  const [Hs, N, c] = t.shape;
  if (!Number.isInteger(G) || G < 1) throw new ShapeError(`the group count must be a whole number ≥ 1; got ${G}`);
  if (Hs % G !== 0) throw new ShapeError(`${Hs} ${what} cannot be pooled into ${G} groups evenly: the group count must divide ${Hs} (try ${divisorList(Hs)})`);
  if (G === Hs) return t;
  // Parameter changes re-plan on the same input: pool each (input, G) once.
  let memo = pooled.get(t.data);
  if (!memo) pooled.set(t.data, (memo = new Map()));
  const hit = memo.get(G);
  if (hit) return hit;
  const r = Hs / G;
  const L = N * c;
  const out = new Float32Array(G * L);
  const src = t.data;
  for (let g = 0; g < G; g++) {
    const o = g * L;
    for (let m = 0; m < r; m++) {
      const s = (g * r + m) * L;
      for (let i = 0; i < L; i++) out[o + i] += src[s + i];
    }
    for (let i = 0; i < L; i++) out[o + i] = Math.fround(out[o + i] / r);
  }
  const res = { shape: [G, N, c], data: out };
  memo.set(G, res);
  return res;
}

const pooled = new WeakMap<Float32Array, Map<number, Tensor>>();
const disagreements = new WeakMap<Float32Array, Map<number, number[]>>();

function divisorList(n: number): string {
  const ds: number[] = [];
  for (let x = 1; x <= n; x++) if (n % x === 0) ds.push(x);
  return ds.join(', ');
}

/** Frobenius norm of each head (tokens × channels), in float32 as `torch.norm` on float32 keys. */
export function frobeniusNorms(t: Tensor): number[] {
  const [G, N, c] = t.shape;
  const L = N * c;
  const out: number[] = [];
  for (let g = 0; g < G; g++) {
    // Accumulate in float64 and round once: closer to torch's blocked float32 sum than a naive float32 loop.
    let s = 0;
    for (let i = g * L; i < (g + 1) * L; i++) s += t.data[i] * t.data[i];
    out.push(Math.fround(Math.sqrt(s)));
  }
  return out;
}

/** Query heads `[start_γ, start_γ + a_γ)` read KV head γ (`torch.split` along the head axis). */
export function mappingFromAllocation(a: number[]): number[] {
  const out: number[] = [];
  a.forEach((n, g) => {
    for (let i = 0; i < n; i++) out.push(g);
  });
  return out;
}

/** Query heads per KV head of a mapping. */
export function allocationOf(mapping: number[], G: number): number[] {
  const a = new Array<number>(G).fill(0);
  for (const g of mapping) a[g]++;
  return a;
}

/** Contiguous mapping κ(h) = ⌊h/(H/G)⌋. */
export function contiguousMapping(H: number, G: number): number[] {
  return Array.from({ length: H }, (_, h) => Math.floor(h / (H / G)));
}

/** Whether a mapping is the contiguous uniform one (then the kernel needs no copies of K and V). */
export function isContiguousUniform(mapping: number[], G: number): boolean {
  const H = mapping.length;
  if (H % G !== 0) return false;
  return mapping.every((g, h) => g === Math.floor(h / (H / G)));
}

/** Copies head `idx[i]` of `t` to head i of the result: `[len(idx), N, c]`. */
export function gatherHeads(t: Tensor, idx: number[]): Tensor {
  const [, N, c] = t.shape;
  const L = N * c;
  const out = new Float32Array(idx.length * L);
  idx.forEach((g, i) => out.set(t.data.subarray(g * L, (g + 1) * L), i * L));
  return { shape: [idx.length, N, c], data: out };
}

/**
 * Within-group disagreement (ALGORITHMS.md §1): for each KV head after pooling, the mean pairwise
 * cosine distance between the original key heads pooled into it (0 when a group has one head).
 */
export function groupDisagreement(k: Tensor, G: number): number[] {
  let memo = disagreements.get(k.data);
  if (!memo) disagreements.set(k.data, (memo = new Map()));
  const hit = memo.get(G);
  if (hit) return hit;
  const out = disagreementOf(k, G);
  memo.set(G, out);
  return out;
}

function disagreementOf(k: Tensor, G: number): number[] {
  const [Hs, N, c] = k.shape;
  const r = Hs / G;
  const L = N * c;
  const out: number[] = [];
  for (let g = 0; g < G; g++) {
    let sum = 0;
    let pairs = 0;
    for (let a = 0; a < r; a++)
      for (let b = a + 1; b < r; b++) {
        const oa = (g * r + a) * L;
        const ob = (g * r + b) * L;
        let dot = 0;
        let na = 0;
        let nb = 0;
        for (let i = 0; i < L; i++) {
          dot += k.data[oa + i] * k.data[ob + i];
          na += k.data[oa + i] ** 2;
          nb += k.data[ob + i] ** 2;
        }
        const cos = na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : na === nb ? 1 : 0;
        sum += 1 - cos;
        pairs++;
      }
    out.push(pairs ? sum / pairs : 0);
  }
  return out;
}
