import { writeNpy } from './npy';
import { writeSafetensors } from './safetensors';
import { fmtShape, sizeOf, type Tensor } from '../core/tensor';

/** Data formats the app writes. */
export type ExportFormat = 'npy' | 'safetensors' | 'circuitsvis';

/** What to export: attention maps `[H, Nq, Nk]` with their tokens and a few words on what they are. */
export interface ExportInput {
  weights: Tensor;
  queryTokens: string[];
  keyTokens: string[];
  /** e.g. "layer 3" or "GQA (4 groups) weights"; stored in the metadata. */
  what?: string;
  /** Base of the file name, without extension. */
  basename?: string;
}

export interface ExportedFile {
  bytes: Uint8Array;
  filename: string;
  mime: string;
  /** What a reader of the file should know (e.g. that .npy carries no tokens). */
  note: string | null;
}

/**
 * JSON that is safe to paste inside an HTML `<script>` (CircuitsVis pages embed it so): `<`, `>`,
 * `&` and the line separators are written as \u escapes, which every JSON reader decodes back.
 * Token text is untrusted; this is where exports escape it.
 */
export function safeJson(x: unknown): string {
  return JSON.stringify(x).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A float32 value written with the 9 significant digits that read back to the same float32. */
function f32(x: number): number {
  return x === 0 ? 0 : Number(x.toPrecision(9));
}

function nested(t: Tensor): unknown {
  const [H, Nq, Nk] = t.shape;
  return Array.from({ length: H }, (_, h) => Array.from({ length: Nq }, (_, i) => Array.from(t.data.subarray((h * Nq + i) * Nk, (h * Nq + i + 1) * Nk), f32)));
}

/** Keeps file names to letters, digits, dots, dashes and underscores. */
function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 80) || 'attention';
}

/**
 * Writes attention maps as `.npy` (the array only), `.safetensors` (tensor `attention` with the
 * tokens in `__metadata__`) or CircuitsVis JSON (`{tokens, attention: [heads, dest, src]}`; for
 * cross-attention, where queries and keys differ, Inspectus's `{attn, query_tokens,
 * key_tokens}`). The `.safetensors` and JSON files re-import to the same view.
 */
export function exportTensors(input: ExportInput, format: ExportFormat): ExportedFile {
  const { weights, queryTokens, keyTokens } = input;
  if (weights.shape.length !== 3 || weights.data.length !== sizeOf(weights.shape)) throw new Error(`exportTensors: weights must be [H, Nq, Nk]; got ${fmtShape(weights.shape)} with ${weights.data.length} values`);
  const [, Nq, Nk] = weights.shape;
  if (queryTokens.length !== Nq || keyTokens.length !== Nk) throw new Error(`exportTensors: ${queryTokens.length} query and ${keyTokens.length} key tokens for a ${Nq} × ${Nk} map`);
  const base = safeName(input.basename ?? 'attention');
  const self = Nq === Nk && queryTokens.every((t, i) => t === keyTokens[i]);
  switch (format) {
    case 'npy':
      return { bytes: writeNpy(weights.shape, weights.data), filename: `${base}.npy`, mime: 'application/octet-stream', note: 'An .npy file holds the array only: the tokens are not in it (use .safetensors or JSON to keep them).' };
    case 'safetensors': {
      const meta: Record<string, string> = { format: 'qkscope-attention', version: '1', shape: '[heads, queries, keys]' };
      if (self) meta.tokens = safeJson(queryTokens);
      else {
        meta.query_tokens = safeJson(queryTokens);
        meta.key_tokens = safeJson(keyTokens);
      }
      if (input.what) meta.what = input.what;
      return { bytes: writeSafetensors({ attention: weights }, meta), filename: `${base}.safetensors`, mime: 'application/octet-stream', note: null };
    }
    case 'circuitsvis': {
      const body = self ? { tokens: queryTokens, attention: nested(weights) } : { attn: nested(weights), query_tokens: queryTokens, key_tokens: keyTokens };
      const json = safeJson(input.what ? { ...body, what: input.what } : body);
      return { bytes: new TextEncoder().encode(json), filename: `${base}.json`, mime: 'application/json', note: self ? null : 'Queries and keys differ (cross-attention), which CircuitsVis cannot show: written in Inspectus form.' };
    }
  }
}

