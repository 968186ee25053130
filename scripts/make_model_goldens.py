#!/usr/bin/python3
"""Writes tiny Hugging Face checkpoints under tests/fixtures/models/ and their reference
activations in tests/golden/models.json, for the in-browser GPT-2 / Llama-family runner.

An independent PyTorch reference (Debian's python3-torch 1.13 and numpy, run with
/usr/bin/python3), written from the Hugging Face `transformers` formulation of each
architecture, not from the TypeScript. Neither `transformers` nor `safetensors` is used: the
safetensors files are written (and read back) by the small codec below.

Checkpoints (tests/fixtures/models/<name>/): config.json + weights
* config.json is written as `transformers` writes it: json.dumps(cfg, indent=2,
  sort_keys=True) + "\\n". "transformers_version" is omitted (no transformers made these).
* gpt2-tiny: model_type "gpt2", architectures ["GPT2LMHeadModel"], n_layer 2, n_head 4,
  n_embd 32 (head dim 8), n_positions 64, vocab_size 96, layer_norm_epsilon 1e-5,
  activation_function "gelu_new", n_inner null (= 4*n_embd = 128), scale_attn_weights true.
  F32, one model.safetensors. Names (GPT2LMHeadModel.save_pretrained, with the "transformer."
  prefix; the lm_head is tied to wte and NOT stored; the causal-mask buffers attn.bias /
  attn.masked_bias are non-persistent in current transformers and NOT stored):
    transformer.wte.weight [V, E]              transformer.wpe.weight [n_positions, E]
    transformer.h.{i}.ln_1.weight/bias [E]     transformer.h.{i}.ln_2.weight/bias [E]
    transformer.h.{i}.attn.c_attn.weight [E, 3E]   .bias [3E]    (Conv1D: [in, out], y = x W + b)
    transformer.h.{i}.attn.c_proj.weight [E, E]    .bias [E]
    transformer.h.{i}.mlp.c_fc.weight [E, 4E]      .bias [4E]
    transformer.h.{i}.mlp.c_proj.weight [4E, E]    .bias [E]
    transformer.ln_f.weight/bias [E]
  c_attn output columns are [q | k | v] (E each); within each, head h is columns h*hd..h*hd+hd-1.
* llama-tiny: model_type "llama", architectures ["LlamaForCausalLM"], hidden_size 32,
  num_attention_heads H = 4, num_key_value_heads Hkv = 2 (GQA), head_dim 8, intermediate_size
  64, num_hidden_layers 2, rope_theta 10000.0, rms_norm_eps 1e-6, vocab_size 96,
  max_position_embeddings 128, tie_word_embeddings false, hidden_act "silu", rope_scaling null,
  attention_bias false. Names (nn.Linear: weight [out, in], y = x W^T; no biases):
    model.embed_tokens.weight [V, D]
    model.layers.{i}.input_layernorm.weight [D]   model.layers.{i}.post_attention_layernorm.weight [D]
    model.layers.{i}.self_attn.q_proj.weight [H*hd, D]    k_proj / v_proj.weight [Hkv*hd, D]
    model.layers.{i}.self_attn.o_proj.weight [D, H*hd]
    model.layers.{i}.mlp.gate_proj.weight [I, D]  up_proj.weight [I, D]  down_proj.weight [D, I]
    model.norm.weight [D]                         lm_head.weight [V, D]
  Output row r of q_proj is head r // hd, dim r % hd (same for k_proj / v_proj with Hkv).
  Stored F32 and SHARDED like save_pretrained: model-00001-of-00002.safetensors,
  model-00002-of-00002.safetensors and model.safetensors.index.json
  ({"metadata": {"total_size": sum of tensor data bytes}, "weight_map": {name: file}},
  json indent=2, sort_keys=True). Split greedily in state-dict order: a tensor goes to shard 1
  while the running data size stays <= 55% of the total (SHARD1_FRACTION), i.e. embed_tokens,
  all of layer 0 and layer 1's q_proj; so layer 1 is cut across the two files (asserted), as
  save_pretrained's byte-size split also does. Within each file tensors are sorted by name.
* llama-tiny-bf16 / llama-tiny-f16: llama-tiny's weights rounded (round-to-nearest-even, via
  torch .to(torch.bfloat16) / numpy astype(float16)) and stored as BF16 / F16 in one
  model.safetensors; config as llama-tiny but torch_dtype "bfloat16" / "float16".
  BF16 is the upper 16 bits of the float32 pattern, stored as little-endian uint16.
* qwen2-tiny: model_type "qwen2", architectures ["Qwen2ForCausalLM"]: llama-tiny's shapes plus
  self_attn.q_proj.bias [H*hd], k_proj.bias [Hkv*hd], v_proj.bias [Hkv*hd] (no o_proj bias),
  rope_theta 1000000.0, tie_word_embeddings true (lm_head.weight NOT stored; logits use
  model.embed_tokens.weight), use_sliding_window false (sliding_window 128, max_window_layers 2:
  inactive, and >= N anyway). F32, one file.
* mistral-tiny: model_type "mistral", architectures ["MistralForCausalLM"], llama-tiny's
  shapes and hyper-parameters, sliding_window null. F32, one file. Own seed (other weights).
* llama-attn-only-tiny: llama-tiny's config with intermediate_size 0 (attention-only: no
  mlp.* and no post_attention_layernorm tensors stored). F32, one file. Own seed.
* Weights, generated in HF state-dict (module registration) order, one torch.Generator per
  checkpoint (seeds in SEEDS): matrices and embeddings normal(0, 0.2); norm weights
  1 + 0.1*normal; biases (LayerNorm biases included) 0.1*normal; all float32.
  (The config's initializer_range is the usual 0.02; it does not describe these weights.)

safetensors codec: 8-byte little-endian u64 header length n, then n bytes of compact JSON
({"__metadata__": {"format": "pt"}, name: {"dtype", "shape", "data_offsets": [begin, end]}},
metadata first, tensors sorted by name), padded with spaces so n % 8 == 0, then the raw
little-endian, C-order data, tensors laid out contiguously in name order (offsets relative to
the end of the header).

Reference (tests/golden/models.json), float64 throughout from the stored weights (float32,
or the bf16/f16-rounded values cast to float32). Input ids IDS (N = 12), positions 0..N-1,
batch 1, no padding, no KV cache.
* GPT-2 (pre-LN): x = wte[ids] + wpe[pos]; per layer
    a = LN_1(x); [q|k|v] = a W_attn + b_attn; heads split as above;
    attention (below, H = Hkv, no RoPE: q = q_pre, k = k_pre);
    x = x + merge(head_out) W_proj + b_proj;  merge: [H,N,hd] -> [N, H*hd], head-major columns;
    x = x + gelu_new(LN_2(x) W_fc + b_fc) W_mproj + b_mproj;
  final_norm = LN_f(x); logits = final_norm wte^T.
  LN(x) = (x - mean) / sqrt(var + eps) * w + b, biased variance over the last axis.
  gelu_new(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
* Llama / Mistral / Qwen2: x = embed[ids]; per layer
    a = RMS(x, w_in); q = a Wq^T (+ bq), k = a Wk^T (+ bk), v = a Wv^T (+ bv);
    q_pre [H,N,hd], k_pre [Hkv,N,hd]; q = RoPE(q_pre), k = RoPE(k_pre);
    x = x + merge(head_out) Wo^T;
    m = RMS(x, w_post); x = x + Wdown (silu(Wgate m) * (Wup m));
      (skipped when intermediate_size == 0: an attention-only model, which stores no
      mlp.* and no post_attention_layernorm tensors; HF's zero-size LlamaMLP adds exactly 0.
      llama-attn-only-tiny is such a fixture, as is scripts/train_induction.py's model.)
  final_norm = RMS(x, w_norm); logits = final_norm lm_head^T (embed^T when tied).
  RMS(x, w) = x * rsqrt(mean(x^2) + eps) * w.  silu(x) = x * sigmoid(x).
  RoPE, half-split ("rotate_half", the HF layout): inv_freq[j] = 1 / theta^(2j/hd), j < hd/2;
  ang[p, j] = p * inv_freq[j]; cos/sin[p] = cat(cos(ang[p]), cos(ang[p])) etc. (length hd);
  rotate_half(x) = cat(-x[hd/2:], x[:hd/2]); RoPE(x)[p] = x[p] cos[p] + rotate_half(x[p]) sin[p].
* Attention: query head h reads KV head floor(h / (H/Hkv)) (= HF repeat_kv);
  scores[h,i,j] = (q[h,i] . k[kv,j]) / sqrt(hd) for EVERY i, j (also j > i, before the mask);
  weights = softmax_j over j <= i, exactly 0 for j > i; head_out[h] = weights[h] v[kv].
* Stored per model: "name", "dir", "seed", "weights_dtype", "config" (the config.json dict),
  "ids", "layers": [{"q_pre" [H,N,hd], "k_pre" [Hkv,N,hd], "q" [H,N,hd], "k" [Hkv,N,hd],
  "v" [Hkv,N,hd], "scores" [H,N,N], "weights" [H,N,N], "head_out" [H,N,hd],
  "hidden_out" [N,D] (residual stream after the layer)}], "final_norm" [N,D], "logits" [N,V];
  every array flat, C order. Floats are float(np.float32(x)) (round-trip exact).
* "rope_vectors": hd 8, theta 10000, the fixed vector ROPE_X rotated at positions 0, 1, 5
  (half-split as above), with inv_freq and the per-position cos/sin rows.

Self-checks: every safetensors file is read back by an independent reader (header layout,
padding, sorted names, contiguous offsets, bytes equal to what was meant to be written); the
tensor names/shapes equal the expected HF list; the shard index covers every tensor exactly
once; the float64 reference agrees with a float32 second implementation written with torch
nn.functional ops (F.layer_norm, F.gelu(approximate='tanh'), F.silu, F.softmax, repeat_interleave
for GQA); weights rows sum to 1 and are 0 above the diagonal; all fixtures stay under 3 MB.

Run: /usr/bin/python3 scripts/make_model_goldens.py
"""
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
MODELS_DIR = os.path.join(ROOT, 'tests', 'fixtures', 'models')
OUT = os.path.join(ROOT, 'tests', 'golden', 'models.json')
IDS = [5, 17, 3, 42, 8, 17, 3, 42, 60, 1, 95, 0]
SEEDS = {'gpt2-tiny': 7001, 'llama-tiny': 7002, 'qwen2-tiny': 7003, 'mistral-tiny': 7004, 'llama-attn-only-tiny': 7005}
W_STD, NORM_STD, BIAS_STD = 0.2, 0.1, 0.1
ROPE_X = [0.5, -1.0, 1.5, 2.0, -0.25, 0.75, -1.25, 1.0]
ROPE_POSITIONS = [0, 1, 5]
MAX_BYTES = 3 * 1024 * 1024
SHARD1_FRACTION = 0.55


def f32(x):
    return float(np.float32(x))


def flat(t):
    return [f32(x) for x in t.reshape(-1).tolist()]


# ---------------------------------------------------------------- configs

def gpt2_config():
    return {
        'activation_function': 'gelu_new', 'architectures': ['GPT2LMHeadModel'],
        'attn_pdrop': 0.1, 'bos_token_id': 95, 'embd_pdrop': 0.1, 'eos_token_id': 95,
        'initializer_range': 0.02, 'layer_norm_epsilon': 1e-05, 'model_type': 'gpt2',
        'n_ctx': 64, 'n_embd': 32, 'n_head': 4, 'n_inner': None, 'n_layer': 2, 'n_positions': 64,
        'reorder_and_upcast_attn': False, 'resid_pdrop': 0.1,
        'scale_attn_by_inverse_layer_idx': False, 'scale_attn_weights': True,
        'summary_activation': None, 'summary_first_dropout': 0.1, 'summary_proj_to_labels': True,
        'summary_type': 'cls_index', 'summary_use_proj': True, 'torch_dtype': 'float32',
        'use_cache': True, 'vocab_size': 96,
    }


def llama_config(torch_dtype='float32'):
    return {
        'architectures': ['LlamaForCausalLM'], 'attention_bias': False, 'attention_dropout': 0.0,
        'bos_token_id': 1, 'eos_token_id': 2, 'head_dim': 8, 'hidden_act': 'silu',
        'hidden_size': 32, 'initializer_range': 0.02, 'intermediate_size': 64,
        'max_position_embeddings': 128, 'mlp_bias': False, 'model_type': 'llama',
        'num_attention_heads': 4, 'num_hidden_layers': 2, 'num_key_value_heads': 2,
        'pretraining_tp': 1, 'rms_norm_eps': 1e-06, 'rope_scaling': None, 'rope_theta': 10000.0,
        'tie_word_embeddings': False, 'torch_dtype': torch_dtype, 'use_cache': True,
        'vocab_size': 96,
    }


def qwen2_config():
    return {
        'architectures': ['Qwen2ForCausalLM'], 'attention_dropout': 0.0, 'bos_token_id': 1,
        'eos_token_id': 2, 'hidden_act': 'silu', 'hidden_size': 32, 'initializer_range': 0.02,
        'intermediate_size': 64, 'max_position_embeddings': 128, 'max_window_layers': 2,
        'model_type': 'qwen2', 'num_attention_heads': 4, 'num_hidden_layers': 2,
        'num_key_value_heads': 2, 'rms_norm_eps': 1e-06, 'rope_scaling': None,
        'rope_theta': 1000000.0, 'sliding_window': 128, 'tie_word_embeddings': True,
        'torch_dtype': 'float32', 'use_cache': True, 'use_sliding_window': False,
        'vocab_size': 96,
    }


def mistral_config():
    return {
        'architectures': ['MistralForCausalLM'], 'attention_dropout': 0.0, 'bos_token_id': 1,
        'eos_token_id': 2, 'head_dim': 8, 'hidden_act': 'silu', 'hidden_size': 32,
        'initializer_range': 0.02, 'intermediate_size': 64, 'max_position_embeddings': 128,
        'model_type': 'mistral', 'num_attention_heads': 4, 'num_hidden_layers': 2,
        'num_key_value_heads': 2, 'rms_norm_eps': 1e-06, 'rope_theta': 10000.0,
        'sliding_window': None, 'tie_word_embeddings': False, 'torch_dtype': 'float32',
        'use_cache': True, 'vocab_size': 96,
    }


# ---------------------------------------------------------------- HF parameter lists

def gpt2_params(cfg):
    """[(name, shape, kind)] in GPT2LMHeadModel state-dict order; kind in w/norm/bias."""
    E, V, L = cfg['n_embd'], cfg['vocab_size'], cfg['n_layer']
    inner = cfg['n_inner'] or 4 * E
    out = [('transformer.wte.weight', (V, E), 'w'),
           ('transformer.wpe.weight', (cfg['n_positions'], E), 'w')]
    for i in range(L):
        p = f'transformer.h.{i}.'
        out += [(p + 'ln_1.weight', (E,), 'norm'), (p + 'ln_1.bias', (E,), 'bias'),
                (p + 'attn.c_attn.weight', (E, 3 * E), 'w'), (p + 'attn.c_attn.bias', (3 * E,), 'bias'),
                (p + 'attn.c_proj.weight', (E, E), 'w'), (p + 'attn.c_proj.bias', (E,), 'bias'),
                (p + 'ln_2.weight', (E,), 'norm'), (p + 'ln_2.bias', (E,), 'bias'),
                (p + 'mlp.c_fc.weight', (E, inner), 'w'), (p + 'mlp.c_fc.bias', (inner,), 'bias'),
                (p + 'mlp.c_proj.weight', (inner, E), 'w'), (p + 'mlp.c_proj.bias', (E,), 'bias')]
    out += [('transformer.ln_f.weight', (E,), 'norm'), ('transformer.ln_f.bias', (E,), 'bias')]
    return out


def llama_params(cfg, qkv_bias=False):
    """[(name, shape, kind)] in LlamaForCausalLM / Qwen2 / Mistral state-dict order."""
    D, V, L, I = cfg['hidden_size'], cfg['vocab_size'], cfg['num_hidden_layers'], cfg['intermediate_size']
    H, Hkv = cfg['num_attention_heads'], cfg['num_key_value_heads']
    hd = cfg.get('head_dim') or D // H
    out = [('model.embed_tokens.weight', (V, D), 'w')]
    for i in range(L):
        p = f'model.layers.{i}.'
        for proj, rows in (('q_proj', H * hd), ('k_proj', Hkv * hd), ('v_proj', Hkv * hd)):
            out.append((p + f'self_attn.{proj}.weight', (rows, D), 'w'))
            if qkv_bias:
                out.append((p + f'self_attn.{proj}.bias', (rows,), 'bias'))
        out.append((p + 'self_attn.o_proj.weight', (D, H * hd), 'w'))
        if I > 0:  # intermediate_size 0: attention-only, no MLP and no post-attention norm stored
            out += [(p + 'mlp.gate_proj.weight', (I, D), 'w'), (p + 'mlp.up_proj.weight', (I, D), 'w'),
                    (p + 'mlp.down_proj.weight', (D, I), 'w')]
        out.append((p + 'input_layernorm.weight', (D,), 'norm'))
        if I > 0:
            out.append((p + 'post_attention_layernorm.weight', (D,), 'norm'))
    out.append(('model.norm.weight', (D,), 'norm'))
    if not cfg['tie_word_embeddings']:
        out.append(('lm_head.weight', (V, D), 'w'))
    return out


def make_weights(params, seed):
    g = torch.Generator().manual_seed(seed)
    W = {}
    for name, shape, kind in params:
        r = torch.randn(shape, generator=g, dtype=torch.float32)
        if kind == 'w':
            W[name] = r * W_STD
        elif kind == 'norm':
            W[name] = 1.0 + NORM_STD * r
        else:
            W[name] = BIAS_STD * r
    return W


# ---------------------------------------------------------------- safetensors codec

DTYPE_BYTES = {'F32': 4, 'F16': 2, 'BF16': 2}


def encode(t, dtype):
    """float32 torch tensor -> (raw little-endian bytes, the float32 values those bytes mean)."""
    t = t.contiguous()
    if dtype == 'F32':
        a = t.numpy().astype('<f4')
        return a.tobytes(), torch.from_numpy(a.astype(np.float32))
    if dtype == 'F16':
        a = t.numpy().astype('<f2')
        return a.tobytes(), torch.from_numpy(a.astype(np.float32))
    if dtype == 'BF16':
        b = t.to(torch.bfloat16)
        bits = b.view(torch.int16).numpy().view(np.uint16).astype('<u2')
        # cross-check torch's rounding against an explicit round-to-nearest-even on the bits
        u = t.numpy().astype('<f4').view(np.uint32).astype(np.uint64)
        rne = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
        assert np.array_equal(rne, bits), 'bf16 rounding mismatch'
        return bits.tobytes(), b.to(torch.float32)
    raise ValueError(dtype)


def write_safetensors(path, entries, metadata=None):
    """entries: {name: (dtype, shape, raw bytes)}. Names sorted, data contiguous in that order."""
    header = {}
    if metadata is not None:
        header['__metadata__'] = metadata
    off = 0
    names = sorted(entries)
    for name in names:
        dtype, shape, raw = entries[name]
        assert len(raw) == DTYPE_BYTES[dtype] * int(np.prod(shape, dtype=np.int64))
        header[name] = {'dtype': dtype, 'shape': list(shape), 'data_offsets': [off, off + len(raw)]}
        off += len(raw)
    hb = json.dumps(header, separators=(',', ':')).encode('utf-8')
    hb += b' ' * ((8 - len(hb) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(hb)))
        f.write(hb)
        for name in names:
            f.write(entries[name][2])


def read_safetensors(path):
    """Independent reader: {name: (dtype, shape, raw bytes)}, metadata. Validates the layout."""
    with open(path, 'rb') as f:
        buf = f.read()
    (n,) = struct.unpack('<Q', buf[:8])
    assert n % 8 == 0 and 8 + n <= len(buf), (path, n)
    text = buf[8:8 + n].decode('utf-8')
    assert text.rstrip(' ') == text.rstrip(), 'header padding must be spaces'
    header = json.loads(text)
    meta = header.pop('__metadata__', None)
    names = list(header)
    assert names == sorted(names), 'header tensors not sorted by name'
    data = buf[8 + n:]
    spans = sorted((h['data_offsets'][0], h['data_offsets'][1], k) for k, h in header.items())
    pos = 0
    for b, e, k in spans:
        assert b == pos, ('gap or overlap before', k)
        pos = e
    assert pos == len(data), 'data section not fully covered'
    out = {}
    for k, h in header.items():
        b, e = h['data_offsets']
        count = int(np.prod(h['shape'], dtype=np.int64))
        assert e - b == count * DTYPE_BYTES[h['dtype']], k
        out[k] = (h['dtype'], tuple(h['shape']), data[b:e])
    return out, meta


def decode(dtype, shape, raw):
    if dtype == 'F32':
        a = np.frombuffer(raw, dtype='<f4').astype(np.float32)
    elif dtype == 'F16':
        a = np.frombuffer(raw, dtype='<f2').astype(np.float32)
    elif dtype == 'BF16':
        a = (np.frombuffer(raw, dtype='<u2').astype(np.uint32) << 16).view(np.float32)
    else:
        raise ValueError(dtype)
    return a.reshape(shape)


# ---------------------------------------------------------------- checkpoint writer

ST_META = {'format': 'pt'}


def write_json(path, obj):
    with open(path, 'w') as f:
        f.write(json.dumps(obj, indent=2, sort_keys=True) + '\n')


def write_checkpoint(name, cfg, W, dtype, shards=1):
    """Writes config.json + weights; returns (float32 weights as stored, list of written files,
    {name: (dtype, shape, bytes)} as meant to be written)."""
    d = os.path.join(MODELS_DIR, name)
    os.makedirs(d, exist_ok=True)
    for fn in os.listdir(d):  # drop stale files from earlier runs (e.g. a changed sharding)
        os.remove(os.path.join(d, fn))
    write_json(os.path.join(d, 'config.json'), cfg)
    enc, stored = {}, {}
    for k, t in W.items():
        raw, val = encode(t, dtype)
        enc[k] = (dtype, tuple(t.shape), raw)
        stored[k] = val
    files = [os.path.join(d, 'config.json')]
    if shards == 1:
        p = os.path.join(d, 'model.safetensors')
        write_safetensors(p, enc, ST_META)
        files.append(p)
    else:
        assert shards == 2
        total = sum(len(e[2]) for e in enc.values())
        groups, run = [{}, {}], 0
        for k in W:  # state-dict order, greedy
            run += len(enc[k][2])
            groups[0 if run <= SHARD1_FRACTION * total and not groups[1] else 1][k] = enc[k]
        cut = {k.split('.')[2] for k in groups[0] if k.startswith('model.layers.')} & \
            {k.split('.')[2] for k in groups[1] if k.startswith('model.layers.')}
        assert cut, 'expected a layer split across the shards'
        weight_map = {}
        for s, grp in enumerate(groups):
            fn = f'model-{s + 1:05d}-of-{shards:05d}.safetensors'
            write_safetensors(os.path.join(d, fn), grp, ST_META)
            files.append(os.path.join(d, fn))
            weight_map.update({k: fn for k in grp})
        p = os.path.join(d, 'model.safetensors.index.json')
        write_json(p, {'metadata': {'total_size': total}, 'weight_map': weight_map})
        files.append(p)
    return stored, files, enc


def check_checkpoint(name, params, enc):
    """Reads the directory back and compares with what was meant to be written."""
    d = os.path.join(MODELS_DIR, name)
    idx = os.path.join(d, 'model.safetensors.index.json')
    seen = {}
    if os.path.exists(idx):
        with open(idx) as f:
            index = json.load(f)
        wm = index['weight_map']
        files = sorted(set(wm.values()))
        assert len(files) == 2, files
        for fn in files:
            got, meta = read_safetensors(os.path.join(d, fn))
            assert meta == ST_META
            assert sorted(k for k, v in wm.items() if v == fn) == sorted(got), fn
            for k, v in got.items():
                assert k not in seen, ('tensor in two shards', k)
                seen[k] = v
        assert sorted(seen) == sorted(wm), 'index does not cover the shards exactly'
        assert index['metadata']['total_size'] == sum(len(v[2]) for v in seen.values())
    else:
        seen, meta = read_safetensors(os.path.join(d, 'model.safetensors'))
        assert meta == ST_META
    assert sorted(seen) == sorted(n for n, _, _ in params), (name, set(seen) ^ {n for n, _, _ in params})
    shapes = {n: s for n, s, _ in params}
    for k, (dt, shape, raw) in seen.items():
        assert shape == tuple(shapes[k]), (k, shape)
        assert (dt, shape, raw) == enc[k], ('bytes differ', k)
        v = decode(dt, shape, raw)
        assert np.all(np.isfinite(v)), k
    with open(os.path.join(d, 'config.json')) as f:
        json.load(f)


# ---------------------------------------------------------------- float64 reference

def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def rms_norm(x, w, eps):
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * w


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def silu(x):
    return x / (1.0 + torch.exp(-x))


def rope_tables(n, hd, theta):
    inv_freq = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    ang = torch.arange(n, dtype=torch.float64)[:, None] * inv_freq[None, :]
    emb = torch.cat([ang, ang], dim=-1)
    return inv_freq, torch.cos(emb), torch.sin(emb)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


def apply_rope(x, cos, sin):
    """x [heads, N, hd]; cos/sin [N, hd]."""
    return x * cos + rotate_half(x) * sin


def attention(q, k, v):
    """q [H,N,hd], k/v [Hkv,N,hd] float64 -> scores, weights [H,N,N], head_out [H,N,hd]."""
    H, N, hd = q.shape
    Hkv = k.shape[0]
    assert H % Hkv == 0
    rep = H // Hkv
    scores = torch.empty(H, N, N, dtype=torch.float64)
    weights = torch.zeros(H, N, N, dtype=torch.float64)
    head_out = torch.empty(H, N, hd, dtype=torch.float64)
    for h in range(H):
        kv = h // rep
        s = (q[h] @ k[kv].T) / math.sqrt(hd)
        scores[h] = s
        for i in range(N):
            row = s[i, :i + 1]
            e = torch.exp(row - row.max())
            weights[h, i, :i + 1] = e / e.sum()
        head_out[h] = weights[h] @ v[kv]
    return scores, weights, head_out


def heads(x, nh, hd):
    """[N, nh*hd] -> [nh, N, hd] (head-major columns)."""
    return x.reshape(x.shape[0], nh, hd).permute(1, 0, 2).contiguous()


def merge(x):
    """[nh, N, hd] -> [N, nh*hd]."""
    return x.permute(1, 0, 2).reshape(x.shape[1], -1)


def gpt2_reference(cfg, Wf, ids):
    W = {k: v.to(torch.float64) for k, v in Wf.items()}
    E, H, eps = cfg['n_embd'], cfg['n_head'], cfg['layer_norm_epsilon']
    hd, N = E // H, len(ids)
    t = torch.tensor(ids)
    x = W['transformer.wte.weight'][t] + W['transformer.wpe.weight'][:N]
    layers = []
    for i in range(cfg['n_layer']):
        p = f'transformer.h.{i}.'
        a = layer_norm(x, W[p + 'ln_1.weight'], W[p + 'ln_1.bias'], eps)
        qkv = a @ W[p + 'attn.c_attn.weight'] + W[p + 'attn.c_attn.bias']
        q, k, v = (heads(qkv[:, j * E:(j + 1) * E], H, hd) for j in range(3))
        scores, weights, ho = attention(q, k, v)
        x = x + merge(ho) @ W[p + 'attn.c_proj.weight'] + W[p + 'attn.c_proj.bias']
        m = layer_norm(x, W[p + 'ln_2.weight'], W[p + 'ln_2.bias'], eps)
        x = x + gelu_new(m @ W[p + 'mlp.c_fc.weight'] + W[p + 'mlp.c_fc.bias']) @ W[p + 'mlp.c_proj.weight'] \
            + W[p + 'mlp.c_proj.bias']
        layers.append(dict(q_pre=q, k_pre=k, q=q, k=k, v=v, scores=scores, weights=weights,
                           head_out=ho, hidden_out=x))
    fin = layer_norm(x, W['transformer.ln_f.weight'], W['transformer.ln_f.bias'], eps)
    return layers, fin, fin @ W['transformer.wte.weight'].T


def llama_reference(cfg, Wf, ids):
    W = {k: v.to(torch.float64) for k, v in Wf.items()}
    D, H, Hkv, eps = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_key_value_heads'], cfg['rms_norm_eps']
    hd, N = cfg.get('head_dim') or D // H, len(ids)
    _, cos, sin = rope_tables(N, hd, cfg['rope_theta'])
    x = W['model.embed_tokens.weight'][torch.tensor(ids)]
    layers = []
    for i in range(cfg['num_hidden_layers']):
        p = f'model.layers.{i}.'
        a = rms_norm(x, W[p + 'input_layernorm.weight'], eps)

        def proj(nm):
            y = a @ W[p + f'self_attn.{nm}.weight'].T
            b = W.get(p + f'self_attn.{nm}.bias')
            return y if b is None else y + b
        q_pre, k_pre, v = heads(proj('q_proj'), H, hd), heads(proj('k_proj'), Hkv, hd), heads(proj('v_proj'), Hkv, hd)
        q, k = apply_rope(q_pre, cos, sin), apply_rope(k_pre, cos, sin)
        scores, weights, ho = attention(q, k, v)
        x = x + merge(ho) @ W[p + 'self_attn.o_proj.weight'].T
        if cfg['intermediate_size'] > 0:  # 0: attention-only (no MLP, no post-attention norm)
            m = rms_norm(x, W[p + 'post_attention_layernorm.weight'], eps)
            x = x + (silu(m @ W[p + 'mlp.gate_proj.weight'].T) * (m @ W[p + 'mlp.up_proj.weight'].T)) \
                @ W[p + 'mlp.down_proj.weight'].T
        layers.append(dict(q_pre=q_pre, k_pre=k_pre, q=q, k=k, v=v, scores=scores, weights=weights,
                           head_out=ho, hidden_out=x))
    fin = rms_norm(x, W['model.norm.weight'], eps)
    head = W['model.embed_tokens.weight'] if cfg['tie_word_embeddings'] else W['lm_head.weight']
    return layers, fin, fin @ head.T


# ---------------------------------------------------------------- float32 second implementation

def second_impl(arch, cfg, W, ids):
    """HF-style batched float32 forward with torch.nn.functional ops; returns (per-layer
    attention weights [H,N,N], logits [N,V]) for the cross-check only."""
    t = torch.tensor(ids)[None]
    N = t.shape[1]
    causal = torch.ones(N, N, dtype=torch.bool).tril()
    attn_all = []
    if arch == 'gpt2':
        E, H = cfg['n_embd'], cfg['n_head']
        hd, eps = E // H, cfg['layer_norm_epsilon']
        x = F.embedding(t, W['transformer.wte.weight']) + W['transformer.wpe.weight'][:N][None]
        for i in range(cfg['n_layer']):
            p = f'transformer.h.{i}.'
            a = F.layer_norm(x, (E,), W[p + 'ln_1.weight'], W[p + 'ln_1.bias'], eps)
            qkv = torch.addmm(W[p + 'attn.c_attn.bias'], a.view(-1, E), W[p + 'attn.c_attn.weight']).view(1, N, 3 * E)
            q, k, v = (z.view(1, N, H, hd).transpose(1, 2) for z in qkv.split(E, dim=2))
            s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hd)
            w = F.softmax(s.masked_fill(~causal, float('-inf')), dim=-1)
            attn_all.append(w[0])
            o = torch.matmul(w, v).transpose(1, 2).reshape(1, N, E)
            x = x + torch.addmm(W[p + 'attn.c_proj.bias'], o.view(-1, E), W[p + 'attn.c_proj.weight']).view(1, N, E)
            m = F.layer_norm(x, (E,), W[p + 'ln_2.weight'], W[p + 'ln_2.bias'], eps)
            h1 = F.gelu(torch.addmm(W[p + 'mlp.c_fc.bias'], m.view(N, E), W[p + 'mlp.c_fc.weight']), approximate='tanh')
            x = x + torch.addmm(W[p + 'mlp.c_proj.bias'], h1, W[p + 'mlp.c_proj.weight']).view(1, N, E)
        x = F.layer_norm(x, (E,), W['transformer.ln_f.weight'], W['transformer.ln_f.bias'], eps)
        return attn_all, F.linear(x, W['transformer.wte.weight'])[0]
    D, H, Hkv = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_key_value_heads']
    hd, eps = cfg.get('head_dim') or D // H, cfg['rms_norm_eps']
    inv = 1.0 / (cfg['rope_theta'] ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    fr = torch.outer(torch.arange(N).float(), inv)
    emb = torch.cat((fr, fr), dim=-1)
    cos, sin = emb.cos()[None, None], emb.sin()[None, None]

    def rms(x, w):
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))

    def rot(x):
        x1, x2 = x[..., :hd // 2], x[..., hd // 2:]
        return torch.cat((-x2, x1), dim=-1)
    x = F.embedding(t, W['model.embed_tokens.weight'])
    for i in range(cfg['num_hidden_layers']):
        p = f'model.layers.{i}.'
        a = rms(x, W[p + 'input_layernorm.weight'])
        sa = p + 'self_attn.'
        q = F.linear(a, W[sa + 'q_proj.weight'], W.get(sa + 'q_proj.bias')).view(1, N, H, hd).transpose(1, 2)
        k = F.linear(a, W[sa + 'k_proj.weight'], W.get(sa + 'k_proj.bias')).view(1, N, Hkv, hd).transpose(1, 2)
        v = F.linear(a, W[sa + 'v_proj.weight'], W.get(sa + 'v_proj.bias')).view(1, N, Hkv, hd).transpose(1, 2)
        q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
        k, v = k.repeat_interleave(H // Hkv, dim=1), v.repeat_interleave(H // Hkv, dim=1)
        s = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(hd)
        w = F.softmax(s.masked_fill(~causal, float('-inf')), dim=-1, dtype=torch.float32)
        attn_all.append(w[0])
        o = torch.matmul(w, v).transpose(1, 2).reshape(1, N, H * hd)
        x = x + F.linear(o, W[sa + 'o_proj.weight'])
        if cfg['intermediate_size'] > 0:  # 0: attention-only
            m = rms(x, W[p + 'post_attention_layernorm.weight'])
            x = x + F.linear(F.silu(F.linear(m, W[p + 'mlp.gate_proj.weight'])) * F.linear(m, W[p + 'mlp.up_proj.weight']),
                             W[p + 'mlp.down_proj.weight'])
    x = rms(x, W['model.norm.weight'])
    head = W['model.embed_tokens.weight'] if cfg['tie_word_embeddings'] else W['lm_head.weight']
    return attn_all, F.linear(x, head)[0]


# ---------------------------------------------------------------- goldens

def rope_vectors():
    hd, theta = 8, 10000.0
    inv_freq, cos, sin = rope_tables(max(ROPE_POSITIONS) + 1, hd, theta)
    x = torch.tensor(ROPE_X, dtype=torch.float64)
    rows = []
    for p in ROPE_POSITIONS:
        y = x * cos[p] + rotate_half(x) * sin[p]
        assert abs(float(y.norm()) - float(x.norm())) < 1e-12
        rows.append({'position': p, 'cos': flat(cos[p]), 'sin': flat(sin[p]), 'rotated': flat(y)})
    assert rows[0]['rotated'] == flat(x)
    return {'hd': hd, 'theta': theta, 'layout': 'half-split (rotate_half)', 'x': flat(x),
            'inv_freq': flat(inv_freq), 'positions': rows}


def make_golden(name, arch, cfg, stored, seed, wdtype):
    ref = gpt2_reference if arch == 'gpt2' else llama_reference
    layers, fin, logits = ref(cfg, stored, IDS)
    N = len(IDS)
    for li, L in enumerate(layers):
        w = L['weights']
        assert torch.allclose(w.sum(-1), torch.ones_like(w.sum(-1)), atol=1e-12, rtol=0)
        assert torch.all(w.triu(1) == 0)
    # cross-check with the float32 functional implementation
    attn32, logits32 = second_impl(arch, cfg, stored, IDS)
    for L, w32 in zip(layers, attn32):
        err = float((L['weights'] - w32.double()).abs().max())
        assert err < 1e-5, (name, 'weights', err)
    lerr = float((logits - logits32.double()).abs().max() / logits.abs().max())
    assert lerr < 1e-5, (name, 'logits', lerr)
    out_layers = []
    for L in layers:
        o = {k: flat(L[k]) for k in ('q_pre', 'k_pre', 'q', 'k', 'v', 'scores', 'weights', 'head_out', 'hidden_out')}
        for row in np.asarray(o['weights'], dtype=np.float64).reshape(-1, N):
            assert abs(row.sum() - 1.0) < 1e-6
        out_layers.append(o)
    maxw = max(float(L['weights'][:, 1:].max()) for L in layers)  # rows >= 1: not forced to 1
    print(f'  {name}: max attention weight (rows >= 1) {maxw:.3f}, |logits| max {float(logits.abs().max()):.3f}, '
          f'f32 cross-check rel err {lerr:.2e}')
    return {'name': name, 'dir': f'tests/fixtures/models/{name}', 'seed': seed, 'weights_dtype': wdtype,
            'config': cfg, 'ids': list(IDS), 'layers': out_layers, 'final_norm': flat(fin),
            'logits': flat(logits)}


def main():
    assert torch.allclose(gelu_new(torch.linspace(-6, 6, 101, dtype=torch.float64)),
                          F.gelu(torch.linspace(-6, 6, 101, dtype=torch.float64), approximate='tanh'), atol=1e-12)
    written, goldens = [], []

    def build(name, arch, cfg, params, W, dtype, seed, shards=1):
        stored, files, enc = write_checkpoint(name, cfg, W, dtype, shards)
        check_checkpoint(name, params, enc)
        written.extend(files)
        goldens.append(make_golden(name, arch, cfg, stored, seed, dtype))
        return stored

    cfg = gpt2_config()
    params = gpt2_params(cfg)
    build('gpt2-tiny', 'gpt2', cfg, params, make_weights(params, SEEDS['gpt2-tiny']), 'F32', SEEDS['gpt2-tiny'])

    cfg = llama_config()
    params = llama_params(cfg)
    W = make_weights(params, SEEDS['llama-tiny'])
    s32 = build('llama-tiny', 'llama', cfg, params, W, 'F32', SEEDS['llama-tiny'], shards=2)
    sbf = build('llama-tiny-bf16', 'llama', llama_config('bfloat16'), params, W, 'BF16', SEEDS['llama-tiny'])
    s16 = build('llama-tiny-f16', 'llama', llama_config('float16'), params, W, 'F16', SEEDS['llama-tiny'])
    for k in W:  # rounding really happened, and stayed close
        assert torch.equal(s32[k], W[k])
        assert not torch.equal(sbf[k], W[k]) and not torch.equal(s16[k], W[k]), k
        assert float((sbf[k] - W[k]).abs().max()) <= float(W[k].abs().max()) * 2 ** -8

    cfg = qwen2_config()
    params = llama_params(cfg, qkv_bias=True)
    build('qwen2-tiny', 'llama', cfg, params, make_weights(params, SEEDS['qwen2-tiny']), 'F32', SEEDS['qwen2-tiny'])

    cfg = mistral_config()
    params = llama_params(cfg)
    build('mistral-tiny', 'llama', cfg, params, make_weights(params, SEEDS['mistral-tiny']), 'F32', SEEDS['mistral-tiny'])

    # Attention-only (intermediate_size 0, the built-in induction model's form): llama-tiny's
    # shapes without MLPs and post-attention norms; own seed.
    cfg = {**llama_config(), 'intermediate_size': 0}
    params = llama_params(cfg)
    assert not any('.mlp.' in n or 'post_attention' in n for n, _, _ in params)
    build('llama-attn-only-tiny', 'llama', cfg, params, make_weights(params, SEEDS['llama-attn-only-tiny']), 'F32', SEEDS['llama-attn-only-tiny'])

    out = {'generator': 'scripts/make_model_goldens.py', 'torch': torch.__version__,
           'ids': list(IDS), 'rope_vectors': rope_vectors(), 'models': goldens}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump(out, f, allow_nan=False)
    with open(OUT) as f:
        assert json.load(f) == out
    written.append(OUT)
    total = 0
    for p in written:
        sz = os.path.getsize(p)
        total += sz
        print(f'wrote {os.path.relpath(p, ROOT)} ({sz} bytes)')
    print(f'total {total} bytes')
    assert total < MAX_BYTES, total


if __name__ == '__main__':
    main()
