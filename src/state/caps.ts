import type { BackendChoice } from '../compute/backends';
import { LIMITS } from './defaults';

/** The largest token count the chosen backend and memory allow for `heads` heads, and why. */
export function tokenCap(backend: BackendChoice, heads: number): { cap: number; why: string } {
  const memCap = Math.floor(Math.sqrt(LIMITS.mapBudgetBytes / (2 * 4 * heads)));
  let cap = LIMITS.maxTokens;
  let why = `the views hold at most ${LIMITS.maxTokens} tokens`;
  if (memCap < cap) {
    cap = memCap;
    why = `the scores and weights of ${heads} heads (2 × 4 bytes × ${heads} × N²) must fit in ${LIMITS.mapBudgetBytes / 2 ** 30} GiB`;
  }
  if (backend === 'webgl') {
    const texCap = Math.floor(LIMITS.webglMaxTexture / Math.sqrt(heads));
    if (texCap < cap) {
      cap = texCap;
      why = `WebGL keeps the ${heads} × N × N attention map in one texture of at most ${LIMITS.webglMaxTexture}² values`;
    }
  }
  return { cap, why };
}
