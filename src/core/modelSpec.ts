/**
 * The shape of a transformer the app runs (issue 3), as the forward pass needs it: read from a
 * Hugging Face `config.json` by `models/config.ts`, consumed by `compute/forward.ts`. Types only.
 */
export interface ModelConfig {
  modelType: 'gpt2' | 'llama' | 'mistral' | 'qwen2';
  /** GPT-2 (LayerNorm, learned positions, GELU MLP) or Llama-like (RMSNorm, RoPE, SwiGLU, GQA). */
  family: 'gpt2' | 'llama';
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** MLP width; 0 = attention-only (Llama family: no MLP and no post-attention norm). */
  intermediate: number;
  vocab: number;
  /** Longest sequence the model takes (learned positions for GPT-2; the trained context otherwise). */
  maxPositions: number;
  normEps: number;
  /** RoPE base θ (Llama family; 0 for GPT-2). */
  ropeTheta: number;
  /** The output projection reuses the token embedding. */
  tiedEmbeddings: boolean;
  /** Biases on the q, k and v projections (Qwen2, and GPT-2's fused c_attn). */
  qkvBias: boolean;
  activation: 'gelu_new' | 'silu';
}

/** A head a built-in model's card names, with its score at the checkpoint shown (when the timeline has one). */
export interface NamedHead {
  /** What the card says it does; a select-and-copy head's score is its QK-score accuracy on the card's question set (§11). */
  kind: 'previous-token' | 'induction' | 'select-and-copy';
  layer: number;
  head: number;
  /** Score at the training step shown (from timeline.json), else the final one (heads.json). */
  score: number | null;
}

/** What the model summary panel shows about a loaded checkpoint and its last run. */
export interface ModelSummary {
  name: string;
  config: ModelConfig;
  parameters: number;
  dtypes: string[];
  diskBytes: number;
  loadedBytes: number;
  /** Vocabulary of the tokenizer.json given; null when the model reads token ids. */
  tokenizerVocab: number | null;
  /** Tensors in the files that the model does not use. */
  unused: string[];
  backend: string;
  /** Forward-pass time of the last run, in ms, and its tokens. */
  ms: number;
  tokens: number;
  /** The five likeliest next tokens after the text, with their probabilities. */
  next: { token: string; p: number }[];
  /** A built-in model: its training timeline position and the heads its card names. */
  builtin: { id: string; step: number; steps: number; trainingStep: number | null; lastStep: number | null; loss: number | null; heads: NamedHead[] } | null;
}
