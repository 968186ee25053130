#!/usr/bin/python3
"""Trains public/models/induction-tiny/: a 2-layer attention-only Llama-family model on a synthetic
repeated-sequence task, in which a previous-token head (layer 0) and an induction head
(layer 1) form. Writes the final weights, a training timeline of checkpoints and the named
heads. Deterministic on CPU for a given torch build (seeded; see MODEL_CARD.md).

Run: /usr/bin/python3 scripts/train_induction.py        (Debian python3-torch 1.13 + numpy)

Neither `transformers` nor `safetensors` is used: the forward pass below is written from the
Hugging Face LlamaForCausalLM formulation (the same as scripts/make_model_goldens.py), and the
safetensors files are written by the small codec below (the one in make_model_goldens.py).

Model (config.json, HF layout):
  model_type "llama", 2 layers, hidden 64, 4 heads (num_key_value_heads 4: plain MHA), head_dim
  16, vocab 64, rope_theta 10000, rms_norm_eps 1e-6, max_position_embeddings 128, untied
  lm_head, no biases. ATTENTION-ONLY: "intermediate_size": 0. In HF's LlamaForCausalLM that
  makes every LlamaMLP a zero-size SwiGLU that adds exactly 0, so the model is a Llama model
  without MLPs; per layer x = x + attn(input_layernorm(x)), then model.norm and lm_head. No
  model.layers.{i}.mlp.* and no model.layers.{i}.post_attention_layernorm.weight tensors are
  stored (they would be empty or have no effect). Parameter names / orientations as
  save_pretrained writes them (nn.Linear weight [out, in]; q_proj row r is head r // 16).

Task (TASK below; also written into heads.json so a test can regenerate sequences):
  length 64; ids[0] = BOS = 0; a segment s of 31 ids drawn i.i.d. uniformly from 2..63
  (with replacement, so a segment may contain the same id twice; id 1 is never used);
  ids[i] = s[(i - 1) % 31] for i = 1..63, i.e. the segment at 1..31, again at 32..62, and its
  first id once more at 63 (the sequence is periodic with period 31 after BOS). This is the
  evaluation recipe (200 sequences from EVAL_SEED).
  Training variation: each training sequence draws its own period P uniformly from
  TRAIN_MIN_PERIOD..31 and uses ids[i] = s[(i - 1) % P]. With the period fixed at 31 the model
  solved the task by relative position alone (layer-1 heads attending "31 back" via RoPE,
  no previous-token head); a varying period forces content-based induction.
  Loss: mean next-token cross-entropy over ALL 63 predictions (position i predicts ids[i+1],
  i = 0..62). The first copy is unpredictable (floor ln 62 = 4.127 per token); the second is
  predictable only by looking back. "loss_repeated_half" is the mean over the predictions made
  at positions 32..62 (targets 33..63), each of which an induction head can solve: the current
  token ids[i] occurred at i - 31 and the token after that occurrence, ids[i - 30], is the
  answer. (The prediction at 31 -> ids[32] = ids[1] is left out: it can be solved by position
  alone.)

Head scores (float32 compute, eval sequences from EVAL_SEED, weights as stored in F16):
  prev_token[l][h]  = mean over sequences and i = 1..63 of attn[l, h, i, i - 1]
  induction[l][h]   = mean over sequences and i = 32..62 of attn[l, h, i, i - 30]
                      (i - 30: the position AFTER the earlier occurrence i - 31 of the current
                      token -- the TransformerLens "offset 1 - seg_len" stripe)
  duplicate[l][h]   = the same at i - 31 (the earlier occurrence itself), for reference.
  A head is named previous-token / induction when its score is > THRESHOLD.
"""
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qk_llama import r4, read_safetensors_f16, rms_norm, rope_tables, rotate_half, write_safetensors  # noqa: E402  (shared with the other training script)

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
OUT_DIR = os.path.join(ROOT, 'public', 'models', 'induction-tiny')

SEED = 1234          # torch.manual_seed: parameter init
DATA_SEED = 5678     # torch.Generator for the training batches
EVAL_SEED = 9012     # torch.Generator for the 200 evaluation sequences
THREADS = 1          # fixed intra-op thread count (part of the determinism recipe)
BATCH = 16
LR = 3e-3            # peak; linear warm-up over WARMUP steps, then cosine decay to LR * MIN_LR_FRAC
WEIGHT_DECAY = 0.01
BETAS = (0.9, 0.98)
WARMUP = 100
MIN_LR_FRAC = 0.1
STEPS = 2000
# timeline steps (0 = init). With these seeds the eval loss on the repeated half sits on a
# plateau (4.2 -> 3.7) until step 300, leaves it at 325, drops through the phase change at
# 325-425 (3.5 -> 2.1 at 350 -> 0.6 at 375 -> 0.17 at 425), then keeps falling slowly:
# before (300), onset (325), middle (350), after (500), final.
CHECKPOINTS = [0, 300, 325, 350, 500, STEPS]
CURVE_EVERY = 25
N_EVAL = 200
THRESHOLD = 0.5
TRAIN_MIN_PERIOD = 8
N_CURVE = 64
INIT_STD = 0.02      # config initializer_range: HF Llama init, normal(0, 0.02), norms 1

TASK = {'length': 64, 'segment_length': 31, 'bos_id': 0, 'min_id': 2, 'max_id': 63,
        'sampling': 'iid_uniform_with_replacement',
        'layout': 'ids[0] = bos_id; ids[i] = segment[(i - 1) % segment_length] for i = 1..length-1'}

CONFIG = {
    'architectures': ['LlamaForCausalLM'], 'attention_bias': False, 'attention_dropout': 0.0,
    'bos_token_id': 0, 'eos_token_id': 1, 'head_dim': 16, 'hidden_act': 'silu',
    'hidden_size': 64, 'initializer_range': INIT_STD, 'intermediate_size': 0,
    'max_position_embeddings': 128, 'mlp_bias': False, 'model_type': 'llama',
    'num_attention_heads': 4, 'num_hidden_layers': 2, 'num_key_value_heads': 4,
    'pretraining_tp': 1, 'rms_norm_eps': 1e-06, 'rope_scaling': None, 'rope_theta': 10000.0,
    'tie_word_embeddings': False, 'torch_dtype': 'float16', 'use_cache': True,
    'vocab_size': 64,
}


# ---------------------------------------------------------------- data

def make_batch(n, gen, fixed_period=True):
    """fixed_period: the task recipe (period = segment_length = 31; the eval sequences).
    Otherwise (training) each sequence first draws its own period P uniformly from
    TRAIN_MIN_PERIOD..segment_length, then its segment; only the first P ids of the segment are
    used. Varying P stops the model from solving the task by relative position alone."""
    L, S = TASK['length'], TASK['segment_length']
    if fixed_period:
        period = torch.full((n, 1), S, dtype=torch.long)
    else:
        period = torch.randint(TRAIN_MIN_PERIOD, S + 1, (n, 1), generator=gen)
    seg = torch.randint(TASK['min_id'], TASK['max_id'] + 1, (n, S), generator=gen)
    idx = (torch.arange(1, L)[None, :] - 1) % period
    ids = torch.empty(n, L, dtype=torch.long)
    ids[:, 0] = TASK['bos_id']
    ids[:, 1:] = torch.gather(seg, 1, idx)
    return ids


# ---------------------------------------------------------------- model (HF Llama layout)

def llama_params(cfg):
    """[(name, shape, kind)] in LlamaForCausalLM state-dict order."""
    D, V, L, I = cfg['hidden_size'], cfg['vocab_size'], cfg['num_hidden_layers'], cfg['intermediate_size']
    H, Hkv, hd = cfg['num_attention_heads'], cfg['num_key_value_heads'], cfg['head_dim']
    out = [('model.embed_tokens.weight', (V, D), 'w')]
    for i in range(L):
        p = f'model.layers.{i}.'
        out += [(p + 'self_attn.q_proj.weight', (H * hd, D), 'w'),
                (p + 'self_attn.k_proj.weight', (Hkv * hd, D), 'w'),
                (p + 'self_attn.v_proj.weight', (Hkv * hd, D), 'w'),
                (p + 'self_attn.o_proj.weight', (D, H * hd), 'w')]
        if I > 0:  # intermediate_size 0 = attention-only: no MLP and no post-attention norm
            out += [(p + 'mlp.gate_proj.weight', (I, D), 'w'), (p + 'mlp.up_proj.weight', (I, D), 'w'),
                    (p + 'mlp.down_proj.weight', (D, I), 'w')]
        out.append((p + 'input_layernorm.weight', (D,), 'norm'))
        if I > 0:
            out.append((p + 'post_attention_layernorm.weight', (D,), 'norm'))
    out.append(('model.norm.weight', (D,), 'norm'))
    out.append(('lm_head.weight', (V, D), 'w'))
    return out


def init_params(cfg):
    P = {}
    for name, shape, kind in llama_params(cfg):
        if kind == 'w':
            t = torch.randn(shape) * INIT_STD
        else:
            t = torch.ones(shape)
        P[name] = t.requires_grad_(True)
    return P








def forward(P, ids, cfg, want_attn=False):
    """ids [B, N] -> logits [B, N, V] (and attention weights per layer [B, H, N, N])."""
    B, N = ids.shape
    D, H, hd, eps = cfg['hidden_size'], cfg['num_attention_heads'], cfg['head_dim'], cfg['rms_norm_eps']
    cos, sin = rope_tables(N, hd, cfg['rope_theta'])
    causal = torch.ones(N, N, dtype=torch.bool).tril()
    x = P['model.embed_tokens.weight'][ids]
    attns = []
    for i in range(cfg['num_hidden_layers']):
        p = f'model.layers.{i}.'
        a = rms_norm(x, P[p + 'input_layernorm.weight'], eps)
        q = F.linear(a, P[p + 'self_attn.q_proj.weight']).view(B, N, H, hd).transpose(1, 2)
        k = F.linear(a, P[p + 'self_attn.k_proj.weight']).view(B, N, H, hd).transpose(1, 2)
        v = F.linear(a, P[p + 'self_attn.v_proj.weight']).view(B, N, H, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        s = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        w = F.softmax(s.masked_fill(~causal, float('-inf')), dim=-1)
        if want_attn:
            attns.append(w)
        o = (w @ v).transpose(1, 2).reshape(B, N, H * hd)
        x = x + F.linear(o, P[p + 'self_attn.o_proj.weight'])
        if cfg['intermediate_size'] > 0:  # not for this model (attention-only), kept for the general layout
            m = rms_norm(x, P[p + 'post_attention_layernorm.weight'], eps)
            x = x + F.linear(F.silu(F.linear(m, P[p + 'mlp.gate_proj.weight'])) * F.linear(m, P[p + 'mlp.up_proj.weight']),
                             P[p + 'mlp.down_proj.weight'])
    x = rms_norm(x, P['model.norm.weight'], eps)
    logits = F.linear(x, P['lm_head.weight'])
    return (logits, attns) if want_attn else logits


def losses(logits, ids):
    """(mean CE over all 63 predictions, mean CE over predictions at 32..62)."""
    ce = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1),
                         reduction='none').view(ids.shape[0], -1)
    S = TASK['segment_length']
    return ce.mean(), ce[:, S + 1:].mean()


# ---------------------------------------------------------------- safetensors codec





def save_f16(path, P):
    """Rounds to F16 (round-to-nearest-even, numpy), writes, reads back; returns the float32
    values of what was stored."""
    entries = {k: ('F16', tuple(t.shape), t.detach().contiguous().numpy().astype('<f2').tobytes())
               for k, t in P.items()}
    write_safetensors(path, entries, {'format': 'pt'})
    back = read_safetensors_f16(path)
    assert sorted(back) == sorted(P)
    for k in P:
        assert back[k].shape == P[k].shape
        assert torch.all(torch.isfinite(back[k])), k
    return back


def cross_check(W, ids):
    """The batched float32 forward above against the float64 per-head reference of
    scripts/make_model_goldens.py (the formulation the app's browser parity tests use)."""
    import make_model_goldens as ref
    layers, _, logits64 = ref.llama_reference(CONFIG, W, ids.tolist())
    with torch.no_grad():
        logits, attns = forward(W, ids[None], CONFIG, want_attn=True)
    err = (logits[0].double() - logits64).abs().max().item()
    aerr = max((a[0].double() - l['weights']).abs().max().item() for a, l in zip(attns, layers))
    assert err < 1e-3 and aerr < 1e-4, (err, aerr)
    return err, aerr


def write_json(path, obj):
    with open(path, 'w') as f:
        f.write(json.dumps(obj, indent=2, sort_keys=True) + '\n')


# ---------------------------------------------------------------- analysis



@torch.no_grad()
def analyse(W, eval_ids):
    logits, attns = forward(W, eval_ids, CONFIG, want_attn=True)
    loss, loss_rep = losses(logits, eval_ids)
    S, L = TASK['segment_length'], TASK['length']
    pred = logits[:, S + 1:L - 1].argmax(-1)
    acc_rep = (pred == eval_ids[:, S + 2:]).float().mean()
    prev, ind, dup = [], [], []
    for w in attns:  # [B, H, N, N]
        i = torch.arange(1, L)
        prev.append([r4(x) for x in w[:, :, i, i - 1].mean(dim=(0, 2))])
        i = torch.arange(S + 1, 2 * S + 1)  # 32..62
        ind.append([r4(x) for x in w[:, :, i, i - (S - 1)].mean(dim=(0, 2))])
        dup.append([r4(x) for x in w[:, :, i, i - S].mean(dim=(0, 2))])
    return {'loss': r4(loss), 'loss_repeated_half': r4(loss_rep), 'accuracy_repeated_half': r4(acc_rep),
            'prev_token_score': prev, 'induction_score': ind, 'duplicate_token_score': dup}


# ---------------------------------------------------------------- main

def main():
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(SEED)
    t0 = time.time()
    os.makedirs(OUT_DIR, exist_ok=True)
    for fn in os.listdir(OUT_DIR):
        if fn.endswith('.safetensors') or fn in ('timeline.json', 'heads.json', 'config.json'):
            os.remove(os.path.join(OUT_DIR, fn))

    P = init_params(CONFIG)
    opt = torch.optim.AdamW(list(P.values()), lr=LR, betas=BETAS, weight_decay=WEIGHT_DECAY)
    def lr_factor(s):  # s = number of optimiser steps taken so far
        if s < WARMUP:
            return (s + 1) / WARMUP
        t = (s - WARMUP) / max(1, STEPS - WARMUP)
        return MIN_LR_FRAC + (1 - MIN_LR_FRAC) * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    gen = torch.Generator().manual_seed(DATA_SEED)
    eval_ids = make_batch(N_EVAL, torch.Generator().manual_seed(EVAL_SEED))

    timeline, curve = [], []

    def checkpoint(step):
        fn = f'step-{step:05d}.safetensors'
        Wq = save_f16(os.path.join(OUT_DIR, fn), {k: v.detach() for k, v in P.items()})
        a = analyse(Wq, eval_ids)
        timeline.append({'step': step, 'file': fn, **a})
        print(f'  checkpoint {fn}: loss {a["loss"]:.4f} rep {a["loss_repeated_half"]:.4f} '
              f'ind L1 {a["induction_score"][1]} prev L0 {a["prev_token_score"][0]}', flush=True)

    checkpoint(0)
    for step in range(1, STEPS + 1):
        ids = make_batch(BATCH, gen, fixed_period=False)
        loss, loss_rep = losses(forward(P, ids, CONFIG), ids)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % CURVE_EVERY == 0:
            with torch.no_grad():
                el, er = losses(forward(P, eval_ids[:N_CURVE], CONFIG), eval_ids[:N_CURVE])
            curve.append((step, r4(el), r4(er)))
            print(f'step {step:5d} train loss {loss.item():.4f} eval loss {el.item():.4f} '
                  f'rep {er.item():.4f} ({time.time() - t0:.0f}s)', flush=True)
        if step in CHECKPOINTS:
            checkpoint(step)
    train_s = time.time() - t0

    # final model: model.safetensors (F16) + config.json; heads from the F16-rounded weights
    Wq = save_f16(os.path.join(OUT_DIR, 'model.safetensors'), {k: v.detach() for k, v in P.items()})
    write_json(os.path.join(OUT_DIR, 'config.json'), CONFIG)
    assert CONFIG['intermediate_size'] == 0 and not any(
        '.mlp.' in k or 'post_attention_layernorm' in k for k in Wq), 'attention-only: no MLP / post-attention norm tensors'
    fin = analyse(Wq, eval_ids)
    with open(os.path.join(OUT_DIR, 'model.safetensors'), 'rb') as f1, \
            open(os.path.join(OUT_DIR, f'step-{STEPS:05d}.safetensors'), 'rb') as f2:
        assert f1.read() == f2.read(), 'final step file must equal model.safetensors'
    err, aerr = cross_check(Wq, eval_ids[0])
    print(f'cross-check vs make_model_goldens.llama_reference (float64): logits {err:.2e}, attention {aerr:.2e}')
    f32 = analyse({k: v.detach() for k, v in P.items()}, eval_ids)
    assert fin['loss_repeated_half'] < 0.1 and fin['accuracy_repeated_half'] > 0.97, fin
    prev = [[l, h] for l in range(2) for h in range(4) if fin['prev_token_score'][l][h] > THRESHOLD]
    ind = [[l, h] for l in range(2) for h in range(4) if fin['induction_score'][l][h] > THRESHOLD]
    write_json(os.path.join(OUT_DIR, 'timeline.json'), timeline)
    write_json(os.path.join(OUT_DIR, 'heads.json'), {
        'previous_token': prev, 'induction': ind, 'threshold': THRESHOLD,
        'scores': {'prev_token': fin['prev_token_score'], 'induction': fin['induction_score'],
                   'duplicate_token': fin['duplicate_token_score']},
        'score_definitions': {
            'indexing': 'scores[kind][layer][head]; attn[layer, head, query i, key j], causal softmax weights',
            'prev_token': 'mean over sequences and i = 1..63 of attn[i, i - 1]',
            'induction': 'mean over sequences and i = 32..62 of attn[i, i - 30] (token after the earlier occurrence i - 31 of ids[i])',
            'duplicate_token': 'mean over sequences and i = 32..62 of attn[i, i - 31] (the earlier occurrence itself)',
        },
        'eval': {'seed': EVAL_SEED, 'sequences': N_EVAL,
                 'generator': 'torch.Generator().manual_seed(seed); segment = torch.randint(min_id, max_id + 1, (sequences, segment_length), generator=g)',
                 'weights': 'model.safetensors (F16), float32 compute',
                 'loss': fin['loss'], 'loss_repeated_half': fin['loss_repeated_half'],
                 'accuracy_repeated_half': fin['accuracy_repeated_half'],
                 'loss_repeated_half_float32_weights': f32['loss_repeated_half']},
        'eval_seed': EVAL_SEED,
        'task': TASK,
        'training': {'seed': SEED, 'data_seed': DATA_SEED, 'steps': STEPS, 'batch': BATCH,
                     'period_range': [TRAIN_MIN_PERIOD, TASK['segment_length']],
                     'period_sampling': 'per sequence, uniform; ids[i] = segment[(i - 1) % period]',
                     'loss': 'mean next-token cross-entropy over all 63 predictions'},
    })
    total = time.time() - t0
    print(json.dumps({'steps': STEPS, 'train_s': round(train_s, 1), 'total_s': round(total, 1),
                      'torch': torch.__version__, 'final_f16': fin, 'final_f32_rep': f32['loss_repeated_half'],
                      'prev_token_heads': prev, 'induction_heads': ind, 'curve': curve}))
    sizes = {fn: os.path.getsize(os.path.join(OUT_DIR, fn)) for fn in sorted(os.listdir(OUT_DIR))}
    print('sizes', sizes, 'total', sum(sizes.values()))


if __name__ == '__main__':
    sys.exit(main())
