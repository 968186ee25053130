import type { ModelSummary } from '../core/modelSpec';
import type { Tensor } from '../core/tensor';

/** Queries, keys and values of one layer: `q [H, N, d]`, `k [Hkv, N, d]`, `v [Hkv, N, dv]`. */
export interface LayerQKV {
  q: Tensor;
  k: Tensor;
  /** Absent in the file: outputs then use `k` as values (the source panel says so). */
  v: Tensor | null;
  /** Copies before the rotary embedding, when the dump has them. */
  qPre?: Tensor;
  kPre?: Tensor;
}

/**
 * One layer (or one attention block of an encoder-decoder) of an imported source: either its
 * attention weights `[H, Nq, Nk]`, or its Q/K/V from which QK Scope computes the attention.
 */
export interface ImportedLayer {
  /** Shown in the layer picker, e.g. "layer 3" or "cross 2". */
  label: string;
  weights?: Tensor;
  qkv?: LayerQKV;
  queryTokens: string[];
  keyTokens: string[];
  /** Whether the layer is causal: given by a Q/K/V dump, detected from zeros above the diagonal for weights. */
  causal: boolean;
  /** Logit scale of a Q/K/V dump (null: 1/√d). */
  scale: number | null;
}

/** A whole imported file, ready for the views. */
export interface ImportedSource {
  /** The file name (or URL) it came from. */
  name: string;
  /** What it was read as, e.g. "CircuitsVis JSON" or "qkscope-qkv safetensors". */
  format: string;
  kind: 'attention' | 'qkv';
  layers: ImportedLayer[];
  /** What the importer decided on the user's behalf (placeholder tokens, softmax of scores, …). */
  notes: string[];
  /** Free-text model name from the file's metadata. */
  model?: string;
  bytes: number;
  /** A checkpoint run in the page (issue 3): the loaded model and the text it ran; new text reruns it. */
  checkpoint?: { model: unknown; text: string; ids: number[]; summary: ModelSummary; lastLogits: Float32Array | null };
  /** For one attention array: how it was read, and how to read it another way (the dialog's "change layout"). */
  layout?: { used: ArrayLayout; pending: PendingArray; relayout: (layout: ArrayLayout) => ImportedSource };
}

/** Meaning of each axis of an attention array. Query and key are always the last two. */
export type AxisRole = 'layer' | 'batch' | 'head' | 'query' | 'key';

/** How to read an ambiguous array: its axis roles, which batch item to show, and what the values are. */
export interface ArrayLayout {
  roles: AxisRole[];
  batchIndex: number;
  values: 'weights' | 'scores';
}

/** An array whose layout the user confirms (or changes) before it is used. */
export interface PendingArray {
  name: string;
  format: string;
  shape: number[];
  guess: ArrayLayout;
  /** Every layout the shape allows, the guess first. */
  options: AxisRole[][];
  /** Why the guess was made (shown in the dialog). */
  reasons: string[];
  /** True when more than one layout is plausible, so the user must confirm. */
  ambiguous: boolean;
}

/** What an import gives: a source ready to show, or an array waiting for its layout. */
export type ImportOutcome =
  | { status: 'ready'; source: ImportedSource }
  | { status: 'confirm'; pending: PendingArray; finish: (layout: ArrayLayout) => ImportedSource };
