import type { QKV, Tensor } from '../core/tensor';

/** Dimensions a method's parameters may depend on. */
export interface MethodDims {
  /** Query heads of the source. */
  H: number;
  /** KV heads of the source (H for multi-head attention). */
  Hs: number;
  N: number;
  d: number;
  dv: number;
  /** Number of step inputs available (DGQA); 1 when the source has a single input. */
  steps: number;
  /** The token grid of a video-like source (frames × height × width), when it has one. */
  grid?: { T: number; Hp: number; Wp: number };
}

/** One parameter of a method, from which the UI builds its control and the codec validates links. */
export type ParamSpec =
  | {
      kind: 'int';
      key: string;
      label: string;
      help?: string;
      default: number | ((dims: MethodDims) => number);
      /** Allowed values; when absent, any whole number in [min, max]. */
      choices?: (dims: MethodDims) => number[];
      min?: number | ((dims: MethodDims) => number);
      max?: number | ((dims: MethodDims) => number);
    }
  | { kind: 'number'; key: string; label: string; help?: string; default: number; min: number; max: number; step: number }
  | {
      kind: 'enum';
      key: string;
      label: string;
      help?: string;
      default: string;
      /** A default that depends on the other given parameters (e.g. SQA: custom when Hq is given). */
      defaultFor?: (given: Record<string, unknown>) => string;
      options: { value: string; label: string; illustrative?: boolean }[];
    }
  | { kind: 'seed'; key: string; label: string; help?: string; default: number };

export type ParamValue = number | string;
export type Params = Record<string, ParamValue>;

/** How well a method's definition is verified (ALGORITHMS.md status legend). */
export type Verification = 'code' | 'paper' | 'illustrative';

/** What the method was given. `steps` are the inputs of successive forward passes (DGQA). */
export interface MethodInput extends QKV {
  causal?: boolean;
  /** Logit scale; default 1/√d. */
  scale?: number | null;
  /**
   * Inputs of successive steps, oldest first (training-timeline checkpoints or a sequence of
   * inputs). When absent, the single input above is the only step.
   */
  steps?: QKV[];
  /** Model width for the projection FLOPs; default H·d (stated as an assumption in the result). */
  dm?: number;
}

/** One DGQA step: the state after the step (ALGORITHMS.md §2.2). */
export interface DgqaStep {
  /** Key-head magnitudes of the step. */
  m: number[];
  /** Allocation weights (null when the allocation was not updated at this step). */
  w: number[] | null;
  /** Query heads per KV head after the step. */
  a: number[];
  /** Cache after the step. */
  c: number[];
  /** Random fix-up draws made at this step (Quirk K3). */
  draws: number;
  /** The weights summed to zero (or were not finite): the uniform fallback was used [U]. */
  fallback: boolean;
}

/** Method-specific details for the views. */
export interface GroupingDetail {
  /** Norm of each KV head's keys (KDGQA n; DGQA m of the shown step). */
  norms?: number[];
  /** What `norms` are, for the bar label. */
  normsLabel?: string;
  /** Raw (unrounded) shares r = n̂/Σn̂·H. */
  raw?: number[];
  /** The allocation fell back to a uniform split (equal norms) [U]. */
  fallback?: boolean;
  /** DGQA timeline, one entry per step (the shown one is `step`). */
  timeline?: DgqaStep[];
  /** Index of the shown step. */
  step?: number;
  /** DGQA: norm change |c − m| or the EMA weights of the shown step. */
  change?: number[];
  /** PGQA: outputs before the noise `[H, N, dv]`, the noise Ñ, and per-head statistics. */
  pgqa?: { clean: Float32Array; noise: Float32Array; meanBefore: number[]; stdBefore: number[]; meanAfter: number[]; stdAfter: number[] };
  /** SQA: active query heads of H nominal slots. */
  activeQueryHeads?: number;
  /** Mean pairwise cosine distance between the original key heads pooled into each KV head (§1). */
  disagreement?: number[];
  /** QK-norm (§12.2): the scaled logits of the causal pairs before and after, as histograms over [−range, range]. */
  qkNorm?: { maxBefore: number; maxAfter: number; sqrtD: number; range: number; before: number[]; after: number[]; rowsSampled: number; rows: number };
}

/** Cost and error numbers of ALGORITHMS.md §0.7, against the source's own attention. */
export interface GroupingMetrics {
  /** ‖O − O_ref‖_F / ‖O_ref‖_F over the concatenated head outputs (before W_O). */
  relFrob: number;
  /** Per-token cosine similarity of the concatenated head outputs `[N]`. */
  cosine: Float32Array;
  kvBytes: number;
  kvBytesRef: number;
  /** Attention-core FLOPs (QKᵀ and W·V), 1 multiply-add = 2 FLOPs. */
  flops: number;
  flopsRef: number;
  /** Projection FLOPs (§0.7) with `dm`; `dmAssumed` when dm = H·d was assumed. */
  projFlops: number;
  projFlopsRef: number;
  dm: number;
  dmAssumed: boolean;
  /** Projection parameters (W_Q, W_K, W_V, W_O), for SQA's parameter bar. */
  params: number;
  paramsRef: number;
}

/** What a grouping method returns. */
export interface GroupingResult {
  id: string;
  /** The method's query heads (H, or Hq for SQA). */
  queryHeads: number;
  kvHeads: number;
  /** Method query head → KV head. */
  mapping: number[];
  /** Query heads per KV head (0 = starved KV head). */
  allocation: number[];
  /** Source head h → the method head that stands in for it (identity except SQA). */
  slotOf: number[];
  /** Attention weights `[queryHeads, N, N]` and head outputs `[queryHeads, N, dv]`. */
  weights: Float32Array;
  output: Float32Array;
  /** Pre-softmax scores `[queryHeads, N, N]` when asked for. */
  scores?: Float32Array;
  /**
   * The same maps one array per method head, when they came from the per-head cache. Views read
   * these: joining them into `weights` copies every map (about 0.4 s for 32 heads at N = 1024
   * here), so `weights` and `scores` are then joined only when first read.
   */
  headWeights?: Float32Array[];
  headScores?: Float32Array[];
  /** The reference (the source's attention at the shown step): weights `[H, N, N]`, outputs. */
  refWeights: Float32Array;
  refOutput: Float32Array;
  metrics: GroupingMetrics;
  detail: GroupingDetail;
  /** Sentences naming what is illustrative [U] or non-faithful in this result. */
  caveats: string[];
}

/** What a method asks the compute layer to do: attention of these heads, then an optional post-step. */
export interface MethodPlan {
  /** Method query heads `[Hm, N, d]`. */
  q: Tensor;
  /** KV heads `[G, N, d]`, `[G, N, dv]`. */
  k: Tensor;
  v: Tensor;
  mapping: number[];
  allocation: number[];
  slotOf: number[];
  detail: GroupingDetail;
  caveats: string[];
  /** Index of the step whose input this is (DGQA), default 0 = the given input. */
  step: number;
  /** A name for the K/V (for caching): same name, same tensors. */
  kvKey: string;
  /** Post-processing of the head outputs (PGQA), with details for the views. */
  post?: (output: Float32Array, N: number, dv: number) => { output: Float32Array; detail?: Partial<GroupingDetail> };
}

/** A method in the registry (DESIGN.md §2). */
export interface MethodDescriptor {
  id: string;
  family: 'grouping';
  label: string;
  /** One sentence shown beside the picker. */
  summary: string;
  citation: { paper: string; code?: string };
  verified: Verification;
  params: ParamSpec[];
  /** Pure: pooling, allocation and noise, in plain TypeScript. Throws a clear error on bad dimensions. */
  plan: (input: PlanInput, params: Params) => MethodPlan;
}

/** What `plan` sees: the validated input with its steps and dimensions. */
export interface PlanInput {
  /** The shown input (for DGQA, the chosen step's input is `steps[step]`). */
  input: QKV;
  steps: QKV[];
  dims: MethodDims;
  /** The input's mask (for methods that summarise its scores). */
  causal?: boolean;
}
