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
