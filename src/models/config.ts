/**
 * Hugging Face `config.json` for the architectures QK Scope runs (issue 3): GPT-2 (`gpt2`) and
 * the Llama family (`llama`, `mistral`, `qwen2`). Pure: no tfjs, no DOM.
 */

/** A model file that cannot be used: the message names the file, what is wrong and what is supported. */
export class ModelError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'ModelError';
  }
}

export const SUPPORTED_TYPES = ['gpt2', 'llama', 'mistral', 'qwen2'] as const;
type ModelType = ModelConfig['modelType'];

export type { ModelConfig } from '../core/modelSpec';
import type { ModelConfig } from '../core/modelSpec';

const int = (file: string, c: Record<string, unknown>, key: string, min = 1, max = 1_000_000): number => {
  const v = c[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ModelError(file, `"${key}" must be a whole number from ${min} to ${max}; it is ${JSON.stringify(v)?.slice(0, 40)}`);
  return v;
};
const num = (file: string, c: Record<string, unknown>, key: string, fallback: number): number => {
  const v = c[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ModelError(file, `"${key}" must be a positive number; it is ${JSON.stringify(v)?.slice(0, 40)}`);
  return v;
};

/**
 * Reads a `config.json` (already parsed, or its text). Throws a {@link ModelError} naming the
 * field for a missing or malformed value, and the supported types for another architecture.
 */
export function parseConfig(raw: unknown, file = 'config.json'): ModelConfig {
  let c = raw;
  if (typeof raw === 'string') {
    try {
      c = JSON.parse(raw);
    } catch (e) {
      throw new ModelError(file, `is not valid JSON (${(e as Error).message.slice(0, 80)})`);
    }
  }
  if (!c || typeof c !== 'object' || Array.isArray(c)) throw new ModelError(file, 'must be a JSON object of model settings');
  const o = c as Record<string, unknown>;
  const type = o.model_type;
  if (typeof type !== 'string' || !(SUPPORTED_TYPES as readonly string[]).includes(type)) {
    throw new ModelError(file, `model_type ${JSON.stringify(type)?.slice(0, 40) ?? 'is missing'}${typeof type === 'string' ? ' is not supported' : ''}: QK Scope runs ${SUPPORTED_TYPES.join(', ')}`);
  }
  const modelType = type as ModelType;
  if (modelType === 'gpt2') {
    const hidden = int(file, o, 'n_embd');
    const heads = int(file, o, 'n_head');
    if (hidden % heads) throw new ModelError(file, `n_embd ${hidden} is not a multiple of n_head ${heads}`);
    const act = o.activation_function ?? 'gelu_new';
    if (act !== 'gelu_new' && act !== 'gelu_pytorch_tanh') throw new ModelError(file, `activation_function "${String(act).slice(0, 30)}" is not supported: QK Scope runs GPT-2's gelu_new`);
    if (o.scale_attn_by_inverse_layer_idx === true || o.reorder_and_upcast_attn === true) throw new ModelError(file, 'scale_attn_by_inverse_layer_idx and reorder_and_upcast_attn are not supported (both false in GPT-2)');
    return {
      modelType,
      family: 'gpt2',
      layers: int(file, o, 'n_layer'),
      hidden,
      heads,
      kvHeads: heads,
      headDim: hidden / heads,
      intermediate: o.n_inner == null ? 4 * hidden : int(file, o, 'n_inner'),
      vocab: int(file, o, 'vocab_size'),
      maxPositions: int(file, o, 'n_positions'),
      normEps: num(file, o, 'layer_norm_epsilon', 1e-5),
      ropeTheta: 0,
      tiedEmbeddings: o.tie_word_embeddings !== false,
      qkvBias: true,
      activation: 'gelu_new',
    };
  }
  const hidden = int(file, o, 'hidden_size');
  const heads = int(file, o, 'num_attention_heads');
  const kvHeads = o.num_key_value_heads == null ? heads : int(file, o, 'num_key_value_heads');
  if (heads % kvHeads) throw new ModelError(file, `num_attention_heads ${heads} is not a multiple of num_key_value_heads ${kvHeads}`);
  const headDim = o.head_dim == null ? hidden / heads : int(file, o, 'head_dim');
  if (!Number.isInteger(headDim) || headDim % 2) throw new ModelError(file, `the head dimension ${headDim} must be a whole even number for RoPE (hidden_size / num_attention_heads, or head_dim)`);
  const act = o.hidden_act ?? 'silu';
  if (act !== 'silu') throw new ModelError(file, `hidden_act "${String(act).slice(0, 30)}" is not supported: the Llama family here uses silu (SwiGLU)`);
  if (o.rope_scaling != null) throw new ModelError(file, `rope_scaling ${JSON.stringify(o.rope_scaling).slice(0, 60)} is not supported yet: plain RoPE only`);
  return {
    modelType,
    family: 'llama',
    layers: int(file, o, 'num_hidden_layers'),
    hidden,
    heads,
    kvHeads,
    headDim,
    // 0 = attention-only: Hugging Face's LlamaMLP then has zero-size projections and adds exactly 0.
    intermediate: int(file, o, 'intermediate_size', 0),
    vocab: int(file, o, 'vocab_size'),
    maxPositions: o.max_position_embeddings == null ? 4096 : int(file, o, 'max_position_embeddings'),
    normEps: num(file, o, 'rms_norm_eps', 1e-6),
    ropeTheta: num(file, o, 'rope_theta', 10000),
    tiedEmbeddings: o.tie_word_embeddings === true,
    qkvBias: modelType === 'qwen2' || o.attention_bias === true,
    activation: 'silu',
  };
}

/** A tensor the checkpoint must hold: its canonical name and shape (Hugging Face orientation). */
export interface ExpectedTensor {
  name: string;
  shape: number[];
}

/** Every tensor a checkpoint of this config holds, by its Hugging Face name. */
export function expectedTensors(c: ModelConfig): ExpectedTensor[] {
  const out: ExpectedTensor[] = [];
  const t = (name: string, ...shape: number[]) => out.push({ name, shape });
  if (c.family === 'gpt2') {
    t('transformer.wte.weight', c.vocab, c.hidden);
    t('transformer.wpe.weight', c.maxPositions, c.hidden);
    for (let l = 0; l < c.layers; l++) {
      const p = `transformer.h.${l}.`;
      t(`${p}ln_1.weight`, c.hidden);
      t(`${p}ln_1.bias`, c.hidden);
      t(`${p}attn.c_attn.weight`, c.hidden, 3 * c.hidden);
      t(`${p}attn.c_attn.bias`, 3 * c.hidden);
      t(`${p}attn.c_proj.weight`, c.hidden, c.hidden);
      t(`${p}attn.c_proj.bias`, c.hidden);
      t(`${p}ln_2.weight`, c.hidden);
      t(`${p}ln_2.bias`, c.hidden);
      t(`${p}mlp.c_fc.weight`, c.hidden, c.intermediate);
      t(`${p}mlp.c_fc.bias`, c.intermediate);
      t(`${p}mlp.c_proj.weight`, c.intermediate, c.hidden);
      t(`${p}mlp.c_proj.bias`, c.hidden);
    }
    t('transformer.ln_f.weight', c.hidden);
    t('transformer.ln_f.bias', c.hidden);
    if (!c.tiedEmbeddings) t('lm_head.weight', c.vocab, c.hidden);
    return out;
  }
  const q = c.heads * c.headDim;
  const kv = c.kvHeads * c.headDim;
  t('model.embed_tokens.weight', c.vocab, c.hidden);
  for (let l = 0; l < c.layers; l++) {
    const p = `model.layers.${l}.`;
    t(`${p}input_layernorm.weight`, c.hidden);
    t(`${p}self_attn.q_proj.weight`, q, c.hidden);
    t(`${p}self_attn.k_proj.weight`, kv, c.hidden);
    t(`${p}self_attn.v_proj.weight`, kv, c.hidden);
    if (c.qkvBias) {
      t(`${p}self_attn.q_proj.bias`, q);
      t(`${p}self_attn.k_proj.bias`, kv);
      t(`${p}self_attn.v_proj.bias`, kv);
    }
    t(`${p}self_attn.o_proj.weight`, c.hidden, q);
    if (c.intermediate === 0) continue; // attention-only: no MLP and no norm before it
    t(`${p}post_attention_layernorm.weight`, c.hidden);
    t(`${p}mlp.gate_proj.weight`, c.intermediate, c.hidden);
    t(`${p}mlp.up_proj.weight`, c.intermediate, c.hidden);
    t(`${p}mlp.down_proj.weight`, c.hidden, c.intermediate);
  }
  t('model.norm.weight', c.hidden);
  if (!c.tiedEmbeddings) t('lm_head.weight', c.vocab, c.hidden);
  return out;
}

/** Parameters of a config (the tensors it holds). */
export function parameterCount(c: ModelConfig): number {
  return expectedTensors(c).reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
}

/**
 * The checkpoint's name for a canonical tensor name, accepting the spellings checkpoints use:
 * GPT-2 saved without the `transformer.` prefix (the original OpenAI upload) and Llama-family
 * weights without `model.`. Returns the names to try, canonical first.
 */
export function nameVariants(name: string): string[] {
  if (name.startsWith('transformer.')) return [name, name.slice('transformer.'.length)];
  if (name.startsWith('model.')) return [name, name.slice('model.'.length)];
  return [name];
}

/** Tensors a checkpoint may hold that the forward pass does not use (GPT-2's stored causal-mask buffers, rotary caches). */
export function isIgnorable(name: string): boolean {
  return /(^|\.)attn\.(masked_)?bias$/.test(name) || /rotary_emb\.inv_freq$/.test(name);
}
