import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../core/modelSpec';
import type { Tensor } from '../core/tensor';

/**
 * A transformer's forward pass in tfjs (issue 3) for GPT-2 and the Llama family (Llama,
 * Mistral, Qwen2), following the Hugging Face formulation, that captures per layer what the
 * views show: Q and K before and after RoPE, V, the scaled scores, the causal weights and the
 * head outputs. Weights live on the backend for the model's lifetime (`dispose` frees them).
 */
export interface TfModel {
  config: ModelConfig;
  /** Canonical Hugging Face name → weight on the backend (Hugging Face orientation). */
  weights: Map<string, tf.Tensor>;
  dispose(): void;
}

/** One layer's captures, row-major float32. */
export interface LayerCapture {
  /** `[H, N, hd]` queries and `[Hkv, N, hd]` keys before RoPE (equal to `q`, `k` for GPT-2). */
  qPre: Tensor;
  kPre: Tensor;
  /** After RoPE: what the attention uses. */
  q: Tensor;
  k: Tensor;
  v: Tensor;
  /** `[H, N, N]` scaled logits σ·q·kᵀ before the causal mask, and the causal softmax weights. */
  scores: Tensor;
  weights: Tensor;
  /** `[H, N, hd]` weights · v per head, before the output projection. */
  headOut: Tensor;
  /** `[N, hidden]` the residual stream after the layer. */
  hiddenOut: Tensor;
}

export interface ForwardResult {
  ids: number[];
  /** Captures of the layers asked for (index = layer; absent for the others). */
  layers: (LayerCapture | undefined)[];
  /** `[N, vocab]` next-token logits (when asked for; `[1, vocab]` for the last position only with `logits: 'last'`). */
  logits?: Tensor;
  backend: string;
}

/** Uploads a checkpoint's weights (canonical names, float32) to the current backend. */
export function createModel(config: ModelConfig, weights: Map<string, Tensor>): TfModel {
  const w = new Map<string, tf.Tensor>();
  try {
    for (const [name, t] of weights) w.set(name, tf.tensor(t.data, t.shape, 'float32'));
  } catch (e) {
    for (const t of w.values()) t.dispose();
    throw e;
  }
  return { config, weights: w, dispose: () => w.forEach((t) => t.dispose()) };
}

/** cos and sin tables `[N, hd]` of RoPE at positions 0…N−1, float32 as Hugging Face computes them. */
export function ropeTables(N: number, hd: number, theta: number): { cos: Float32Array; sin: Float32Array } {
  const half = hd / 2;
  const cos = new Float32Array(N * hd);
  const sin = new Float32Array(N * hd);
  for (let i = 0; i < half; i++) {
    const inv = Math.fround(1 / Math.fround(theta ** Math.fround((2 * i) / hd)));
    for (let p = 0; p < N; p++) {
      const a = Math.fround(p * inv);
      const c = Math.fround(Math.cos(a));
      const s = Math.fround(Math.sin(a));
      cos[p * hd + i] = cos[p * hd + i + half] = c;
      sin[p * hd + i] = sin[p * hd + i + half] = s;
    }
  }
  return { cos, sin };
}

const read = async (t: tf.Tensor): Promise<Tensor> => ({ shape: t.shape.slice(), data: (await t.data()) as Float32Array });

/**
 * Runs `ids` through the model. `capture` lists the layers whose Q/K/V, scores, weights and
 * head outputs are read back (default: all); the others are computed but not kept, so only the
 * shown layers' `[H, N, N]` maps are held. Throws a clear error for ids outside the vocabulary
 * or a sequence longer than the model's positions (GPT-2).
 */
export async function forward(model: TfModel, ids: number[], opts: { capture?: number[]; logits?: boolean | 'last'; maps?: boolean } = {}): Promise<ForwardResult> {
  const c = model.config;
  const N = ids.length;
  if (N < 1) throw new Error('the model needs at least one token');
  const bad = ids.findIndex((i) => !Number.isInteger(i) || i < 0 || i >= c.vocab);
  if (bad >= 0) throw new Error(`token ${bad} has id ${ids[bad]}, outside the vocabulary of ${c.vocab}`);
  if (c.family === 'gpt2' && N > c.maxPositions) throw new Error(`${N} tokens is more than the ${c.maxPositions} positions GPT-2 learned`);
  const want = new Set(opts.capture ?? Array.from({ length: c.layers }, (_, l) => l));
  const W = (name: string) => {
    const t = model.weights.get(name);
    if (!t) throw new Error(`the model has no weight "${name}"`);
    return t;
  };
  const { heads: H, kvHeads: Hkv, headDim: hd } = c;
  const scale = 1 / Math.sqrt(hd);
  const rope = c.family === 'llama' ? ropeTables(N, hd, c.ropeTheta) : null;
  const layers: (LayerCapture | undefined)[] = [];
  // Position of each query head's KV head (contiguous groups, as Hugging Face's repeat_kv).
  const kvOf = tf.tensor1d(Array.from({ length: H }, (_, h) => Math.floor(h / (H / Hkv))), 'int32');
  const causal = tf.tidy(() => {
    const m = new Float32Array(N * N);
    for (let i = 0; i < N; i++) for (let j = i + 1; j < N; j++) m[i * N + j] = -Infinity;
    return tf.tensor2d(m, [N, N]);
  });
  const cosT = rope ? tf.tensor3d(rope.cos, [1, N, hd]) : null;
  const sinT = rope ? tf.tensor3d(rope.sin, [1, N, hd]) : null;
  let x: tf.Tensor2D = tf.tidy(() => {
    const idT = tf.tensor1d(ids, 'int32');
    if (c.family === 'gpt2') return tf.add(tf.gather(W('transformer.wte.weight'), idT), tf.gather(W('transformer.wpe.weight'), tf.range(0, N, 1, 'int32'))) as tf.Tensor2D;
    return tf.gather(W('model.embed_tokens.weight'), idT) as tf.Tensor2D;
  });
  const layerNorm = (v: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor) => {
    const { mean, variance } = tf.moments(v, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(v, mean), tf.sqrt(tf.add(variance, c.normEps))), w), b) as tf.Tensor2D;
  };
  const rmsNorm = (v: tf.Tensor2D, w: tf.Tensor) => tf.mul(tf.mul(v, tf.rsqrt(tf.add(tf.mean(tf.square(v), -1, true), c.normEps))), w) as tf.Tensor2D;
  const heads = (v: tf.Tensor2D, n: number) => tf.transpose(tf.reshape(v, [N, n, hd]), [1, 0, 2]) as tf.Tensor3D; // [n, N, hd]
  const rotate = (v: tf.Tensor3D) => {
    // rotate_half: [−x2, x1] for the halves x1, x2 of the last axis.
    const [a, b] = tf.split(v, 2, -1);
    return tf.add(tf.mul(v, cosT!), tf.mul(tf.concat([tf.neg(b), a], -1), sinT!)) as tf.Tensor3D;
  };
  const geluNew = (v: tf.Tensor) => tf.mul(tf.mul(v, 0.5), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(v, tf.mul(0.044715, tf.pow(v, 3)))))));
  try {
    for (let l = 0; l < c.layers; l++) {
      const keep = want.has(l);
      const out = tf.tidy(() => {
        let qPre: tf.Tensor3D, kPre: tf.Tensor3D, v: tf.Tensor3D;
        let normed2: (y: tf.Tensor2D) => tf.Tensor2D;
        let attnOut: (o: tf.Tensor2D) => tf.Tensor2D;
        let mlp: ((y: tf.Tensor2D) => tf.Tensor2D) | null;
        if (c.family === 'gpt2') {
          const p = `transformer.h.${l}.`;
          const a = layerNorm(x, W(`${p}ln_1.weight`), W(`${p}ln_1.bias`));
          const qkv = tf.add(tf.matMul(a, W(`${p}attn.c_attn.weight`) as tf.Tensor2D), W(`${p}attn.c_attn.bias`)) as tf.Tensor2D;
          const [q0, k0, v0] = tf.split(qkv, 3, -1) as tf.Tensor2D[];
          qPre = heads(q0, H);
          kPre = heads(k0, Hkv);
          v = heads(v0, Hkv);
          attnOut = (o) => tf.add(tf.matMul(o, W(`${p}attn.c_proj.weight`) as tf.Tensor2D), W(`${p}attn.c_proj.bias`)) as tf.Tensor2D;
          normed2 = (y) => layerNorm(y, W(`${p}ln_2.weight`), W(`${p}ln_2.bias`));
          mlp = (y) => tf.add(tf.matMul(geluNew(tf.add(tf.matMul(y, W(`${p}mlp.c_fc.weight`) as tf.Tensor2D), W(`${p}mlp.c_fc.bias`))) as tf.Tensor2D, W(`${p}mlp.c_proj.weight`) as tf.Tensor2D), W(`${p}mlp.c_proj.bias`)) as tf.Tensor2D;
        } else {
          const p = `model.layers.${l}.`;
          const a = rmsNorm(x, W(`${p}input_layernorm.weight`));
          const lin = (name: string, bias: boolean) => {
            const y = tf.matMul(a, W(`${p}${name}.weight`) as tf.Tensor2D, false, true) as tf.Tensor2D;
            return bias ? (tf.add(y, W(`${p}${name}.bias`)) as tf.Tensor2D) : y;
          };
          qPre = heads(lin('self_attn.q_proj', c.qkvBias), H);
          kPre = heads(lin('self_attn.k_proj', c.qkvBias), Hkv);
          v = heads(lin('self_attn.v_proj', c.qkvBias), Hkv);
          attnOut = (o) => tf.matMul(o, W(`${p}self_attn.o_proj.weight`) as tf.Tensor2D, false, true) as tf.Tensor2D;
          normed2 = (y) => rmsNorm(y, W(`${p}post_attention_layernorm.weight`));
          mlp = c.intermediate === 0 ? null : (y) => {
            const g = tf.matMul(y, W(`${p}mlp.gate_proj.weight`) as tf.Tensor2D, false, true);
            const u = tf.matMul(y, W(`${p}mlp.up_proj.weight`) as tf.Tensor2D, false, true);
            return tf.matMul(tf.mul(tf.mul(g, tf.sigmoid(g)), u) as tf.Tensor2D, W(`${p}mlp.down_proj.weight`) as tf.Tensor2D, false, true) as tf.Tensor2D;
          };
        }
        const q = rope ? rotate(qPre) : qPre;
        const k = rope ? rotate(kPre) : kPre;
        const kq = Hkv === H ? k : (tf.gather(k, kvOf) as tf.Tensor3D);
        const vq = Hkv === H ? v : (tf.gather(v, kvOf) as tf.Tensor3D);
        const scores = tf.mul(tf.matMul(q, kq, false, true), scale) as tf.Tensor3D; // [H, N, N]
        const weights = tf.softmax(tf.add(scores, causal)) as tf.Tensor3D;
        const headOut = tf.matMul(weights, vq) as tf.Tensor3D; // [H, N, hd]
        const merged = tf.reshape(tf.transpose(headOut, [1, 0, 2]), [N, H * hd]) as tf.Tensor2D;
        const h1 = tf.add(x, attnOut(merged)) as tf.Tensor2D;
        const next = mlp ? (tf.add(h1, mlp(normed2(h1))) as tf.Tensor2D) : h1;
        return keep ? [next, qPre, kPre, q, k, v, scores, weights, headOut] : [next];
      });
      x.dispose();
      x = out[0] as tf.Tensor2D;
      if (out.length > 1) {
        const t = out.slice(1);
        try {
          // Without maps only Q/K/V are read back (the app computes the maps itself, lazily).
          const none: Tensor = { shape: [0], data: new Float32Array(0) };
          const wanted = opts.maps === false ? [...t.slice(0, 5), x] : [...t, x];
          const got = await Promise.all(wanted.map(read));
          const [qPre, kPre, q, k, v] = got;
          const [scores, weights, headOut] = opts.maps === false ? [none, none, none] : got.slice(5, 8);
          layers[l] = { qPre, kPre, q, k, v, scores, weights, headOut, hiddenOut: got[got.length - 1] };
        } finally {
          // q/k are qPre/kPre themselves without RoPE: dispose each tensor once.
          new Set(t).forEach((u) => u.dispose());
        }
      }
    }
    let logits: Tensor | undefined;
    if (opts.logits !== false) {
      const lt = tf.tidy(() => {
        // 'last': only the next token after the text (what the app shows), not every position's.
        const xs = opts.logits === 'last' ? (tf.slice(x, [N - 1, 0], [1, -1]) as tf.Tensor2D) : x;
        const f = c.family === 'gpt2' ? layerNorm(xs, W('transformer.ln_f.weight'), W('transformer.ln_f.bias')) : rmsNorm(xs, W('model.norm.weight'));
        const head = c.tiedEmbeddings ? W(c.family === 'gpt2' ? 'transformer.wte.weight' : 'model.embed_tokens.weight') : W('lm_head.weight');
        return tf.matMul(f, head as tf.Tensor2D, false, true);
      });
      try {
        logits = await read(lt);
      } finally {
        lt.dispose();
      }
    }
    return { ids: ids.slice(), layers, logits, backend: tf.getBackend() };
  } finally {
    x.dispose();
    kvOf.dispose();
    causal.dispose();
    cosT?.dispose();
    sinT?.dispose();
  }
}
