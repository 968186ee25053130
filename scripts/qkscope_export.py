"""Export attention, or queries/keys/values, as files QK Scope opens (docs/import-formats.md).

Only NumPy is needed. A torch tensor is accepted wherever an array is. Three ways to use it:

1. A Hugging Face ``transformers`` causal LM (Llama/Mistral/Qwen2 family, or GPT-2)::

       from qkscope_export import capture_hf, capture_hf_attentions
       capture_hf(model, tokenizer, "The cat sat on the mat.", "cat.safetensors")    # Q/K/V
       capture_hf_attentions(model, tokenizer, "The cat sat.", "cat_attn.npz")      # attention

2. TransformerLens::

       from qkscope_export import capture_transformer_lens
       capture_transformer_lens(model, "The cat sat on the mat.", "cat.safetensors")

3. Tensors you already have::

       from qkscope_export import save_qkv, save_attention
       save_qkv("mine.safetensors", [{"q": q0, "k": k0, "v": v0}, {"q": q1, "k": k1}], tokens)
       out = model(**enc, output_attentions=True)
       save_attention("attn.npz", out.attentions, tokens)            # also .npy, .safetensors
       save_attention("head_view.json", out.attentions, tokens, layer=3)   # CircuitsVis JSON

The file type follows the extension. Try the format without a model:

    python3 scripts/qkscope_export.py --demo demo.safetensors
"""
import argparse
import json
import math
import struct

import numpy as np

ROLES = ("q", "k", "v", "q_pre_rope", "k_pre_rope")
_SAFETENSORS_DTYPES = {"float32": "F32", "float16": "F16"}


def _np(x):
    """Any array-like (NumPy array, torch tensor of any dtype or device, nested lists) as NumPy."""
    if hasattr(x, "detach"):
        return x.detach().cpu().float().numpy()
    return np.asarray(x)


def _drop_batch(a, name, ndim):
    """Squeeze a leading batch axis of size 1, then insist on `ndim` axes."""
    if a.ndim == ndim + 1:
        if a.shape[0] != 1:
            raise ValueError(f"{name}: batch of {a.shape[0]}; export one sequence (batch 1)")
        a = a[0]
    if a.ndim != ndim:
        raise ValueError(f"{name}: expected {ndim} axes, got shape {list(a.shape)}")
    return a


def _ext(path):
    return str(path).lower().rsplit(".", 1)[-1]


# ---------------------------------------------------------------- writers

def write_safetensors(path, tensors, metadata=None):
    """Write ``{name: float32 or float16 array}`` as safetensors, by hand.

    Layout: u64 little-endian header length, the UTF-8 JSON header (padded with spaces so the data
    starts at a multiple of 8), then each tensor's little-endian bytes in header order. Offsets
    in ``data_offsets`` count from the start of the data.
    """
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        if arr.dtype.name not in _SAFETENSORS_DTYPES:
            raise ValueError(f"{name}: dtype {arr.dtype} not supported (float32 or float16)")
        data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _SAFETENSORS_DTYPES[arr.dtype.name], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    text += b" " * (-(8 + len(text)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)


def _write(path, tensors, metadata):
    """Write tensors + string metadata as .safetensors or .npz (by the extension of `path`)."""
    tensors = {name: np.ascontiguousarray(a) for name, a in tensors.items()}  # never fortran_order
    ext = _ext(path)
    if ext == "safetensors":
        write_safetensors(path, tensors, metadata)
    elif ext == "npz":
        extra = {"metadata": np.array(json.dumps(metadata, ensure_ascii=False))}
        if "tokens" in metadata:
            extra["tokens"] = np.array(json.loads(metadata["tokens"]), dtype=str)
        np.savez(path, **tensors, **extra)
    else:
        raise ValueError(f"{path}: use a .safetensors or .npz file name")
    return path


def _metadata(fmt, tokens):
    meta = {"format": fmt, "version": "1"}
    if tokens is not None:
        meta["tokens"] = json.dumps(tokens, ensure_ascii=False)
    return meta


def save_qkv(path, layers, tokens, causal=True, scale=None, model=None, dtype="float32"):
    """Write a ``qkscope-qkv`` file (.safetensors or .npz) and return `path`.

    layers: one dict per layer: ``q [H,N,d]`` (after RoPE), ``k [Hkv,N,d]``, optional
    ``v [Hkv,N,dv]``, ``q_pre_rope``, ``k_pre_rope``; a leading batch axis of 1 is dropped.
    tokens: the N token strings. scale: the logit scale (QK Scope's default is 1/sqrt(d)).
    dtype: "float32" or "float16".
    """
    if dtype not in _SAFETENSORS_DTYPES:
        raise ValueError(f"dtype must be 'float32' or 'float16', not {dtype!r}")
    tokens = [str(t) for t in tokens]
    if not layers:
        raise ValueError("layers is empty")
    tensors = {}
    for i, layer in enumerate(layers):
        unknown = sorted(set(layer) - set(ROLES))
        if unknown:
            raise ValueError(f"layer {i}: unknown keys {unknown}; expected some of {list(ROLES)}")
        if layer.get("q") is None or layer.get("k") is None:
            raise ValueError(f"layer {i}: 'q' and 'k' are required")
        a = {r: _drop_batch(_np(layer[r]), f"layers.{i}.{r}", 3)
             for r in ROLES if layer.get(r) is not None}
        s = {r: list(x.shape) for r, x in a.items()}
        (H, N, d), (Hkv, Nk, dk) = s["q"], s["k"]
        problems = [
            (Hkv == 0 or H % Hkv, f"q has {H} heads and k has {Hkv}; H must be a multiple of Hkv"),
            (Nk != N, f"q has {N} positions but k has {Nk}"),
            (dk != d, f"q head dim {d} differs from k head dim {dk}"),
            (N != len(tokens), f"{N} positions but {len(tokens)} tokens"),
            ("v" in s and s["v"][:2] != [Hkv, N], f"v is {s.get('v')}, expected [{Hkv}, {N}, dv]"),
        ]
        for r in "qk":
            pre = s.get(r + "_pre_rope", s[r])
            problems.append((pre != s[r], f"{r}_pre_rope is {pre} but {r} is {s[r]}"))
        for bad, message in problems:
            if bad:
                raise ValueError(f"layer {i}: {message}")
        for role, arr in a.items():
            with np.errstate(over="ignore"):  # an overflow to inf is reported just below
                arr = arr.astype(dtype)
            if not np.isfinite(arr).all():
                raise ValueError(f"layers.{i}.{role} has NaN or infinite values"
                                 + (" (too large for float16?)" if dtype == "float16" else ""))
            tensors[f"layers.{i}.{role}"] = arr
    meta = _metadata("qkscope-qkv", tokens)
    meta["causal"] = "true" if causal else "false"
    if scale is not None:
        meta["scale"] = str(float(scale))
    if model is not None:
        meta["model"] = str(model)
    return _write(path, tensors, meta)


def _attention_layers(attentions):
    """([H,q,k] per layer, several_layers) from a list/tuple over layers or one array."""
    if isinstance(attentions, (list, tuple)):
        return [_drop_batch(_np(a), f"attentions[{i}]", 3) for i, a in enumerate(attentions)], True
    a = _np(attentions)
    if a.ndim == 5:  # [L, B, H, q, k]
        a = _drop_batch(a.swapaxes(0, 1), "attentions (axis 1 is the batch)", 4)
    if a.ndim == 4:  # [L, H, q, k]; [1, H, q, k] is one layer
        return list(a), True
    if a.ndim in (2, 3):  # [H, q, k] or [q, k]
        return [a.reshape((-1,) + a.shape[-2:])], False
    raise ValueError(f"attentions: cannot read shape {list(a.shape)}")


def save_attention(path, attentions, tokens=None, layer=None):
    """Write attention weights (or scores) and return `path`.

    attentions: a list/tuple over layers of ``[1,H,q,k]`` or ``[H,q,k]`` (Hugging Face's
    ``outputs.attentions``), or one array ``[H,q,k]``, ``[L,H,q,k]`` or ``[L,1,H,q,k]``.
    layer: keep only this layer. By extension:
      .npy          ``[L,1,H,q,k]`` (or ``[H,q,k]`` for one layer); cannot hold tokens
      .npz/.safetensors  ``attentions.{i}`` each ``[H,q,k]`` plus tokens
      .json         CircuitsVis ``{"tokens", "attention": [H][q][k]}`` for one layer,
                    BertViz ``{"tokens", "attention": [[1,H,q,k] per layer]}`` for several
    """
    mats, several = _attention_layers(attentions)
    if layer is not None:
        mats, several = [mats[layer]], False
    mats = [np.asarray(m, dtype=np.float32) for m in mats]
    for i, m in enumerate(mats):
        if np.isnan(m).any() or np.isposinf(m).any():
            raise ValueError(f"attentions[{i}] has NaN or +inf values")
    if tokens is not None:
        tokens = [str(t) for t in tokens]
        if len(tokens) != mats[0].shape[-1]:
            raise ValueError(f"{len(tokens)} tokens for {mats[0].shape[-1]} key positions")
    ext = _ext(path)
    if ext == "npy":
        if several and len({m.shape for m in mats}) > 1:
            raise ValueError("layers differ in shape; write .npz or .safetensors instead")
        if tokens is not None:
            print(f"note: {path}: .npy cannot hold tokens (QK Scope numbers them); "
                  "use .npz, .safetensors or .json to keep them")
        np.save(path, np.ascontiguousarray(np.stack(mats)[:, None] if several else mats[0]))
        return path
    if ext == "json":
        if tokens is None:
            raise ValueError("JSON output needs tokens")
        if not all(np.isfinite(m).all() for m in mats):
            raise ValueError("JSON cannot hold -inf; write .npy, .npz or .safetensors for scores")
        attention = [m[None].tolist() for m in mats] if several else mats[0].tolist()
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"tokens": tokens, "attention": attention}, f, ensure_ascii=False)
        return path
    tensors = {f"attentions.{i}": m for i, m in enumerate(mats)}
    return _write(path, tensors, _metadata("qkscope-attention", tokens))


# ---------------------------------------------------------------- pure helpers for the captures

def split_heads(x, n_heads, head_dim):
    """``[1,N,H*d]``, ``[N,H*d]``, ``[1,N,H,d]`` or ``[N,H,d]`` -> ``[H,N,d]``."""
    a = _np(x)
    if a.shape[-1] == n_heads * head_dim:
        lead = a.shape[:-1]
    elif a.shape[-2:] == (n_heads, head_dim):
        lead = a.shape[:-2]
    else:
        raise ValueError(f"cannot split shape {list(a.shape)} into {n_heads} heads of {head_dim}")
    if len(lead) not in (1, 2) or (len(lead) == 2 and lead[0] != 1):
        raise ValueError(f"expected one sequence (batch 1), got shape {list(a.shape)}")
    return a.reshape(lead[-1], n_heads, head_dim).transpose(1, 0, 2)


def rope_cos_sin(n, dim, base=10000.0):
    """cos, sin ``[n, dim]`` of the half-split rotary embedding (Llama's default)."""
    inv_freq = 1.0 / base ** (np.arange(0, dim, 2, dtype=np.float64) / dim)
    freqs = np.outer(np.arange(n, dtype=np.float64), inv_freq)
    emb = np.concatenate([freqs, freqs], axis=-1)
    return np.cos(emb), np.sin(emb)


def apply_rope_half(x, cos, sin):
    """``x*cos + rotate_half(x)*sin`` with ``rotate_half(x) = [-x2, x1]`` (halves of the last axis).

    x ``[..., N, d]``; cos, sin ``[N, r]`` or ``[1, N, r]`` with r <= d: when r < d (partial
    rotary) only the first r dims rotate.
    """
    x, cos, sin = _np(x), _np(cos), _np(sin)
    if cos.ndim == 3:
        cos, sin = cos[0], sin[0]
    r = cos.shape[-1]
    rot, rest = x[..., :r], x[..., r:]
    half = np.concatenate([-rot[..., r // 2:], rot[..., :r // 2]], axis=-1)
    return np.concatenate([rot * cos + half * sin, rest], axis=-1)


def layers_from_tl_cache(cache, n_layers, keep_pre_rope=True):
    """TransformerLens cache (or a plain dict of arrays) -> the `layers` list of save_qkv.

    Reads ``blocks.{l}.attn.hook_q|hook_k|hook_v`` ``[1,N,H,d]`` (K/V may have fewer heads).
    Rotary models also cache ``hook_rot_q|hook_rot_k``: those are the post-RoPE q/k, and
    hook_q/hook_k become the pre-RoPE copies.
    """
    def heads(name):
        return _drop_batch(_np(cache[name]), name, 3).transpose(1, 0, 2)

    layers = []
    for l in range(n_layers):
        p = f"blocks.{l}.attn."
        layer = {"q": heads(p + "hook_q"), "k": heads(p + "hook_k")}
        if p + "hook_v" in cache:
            layer["v"] = heads(p + "hook_v")
        if p + "hook_rot_q" in cache:
            if keep_pre_rope:
                layer["q_pre_rope"], layer["k_pre_rope"] = layer["q"], layer["k"]
            layer["q"], layer["k"] = heads(p + "hook_rot_q"), heads(p + "hook_rot_k")
        layers.append(layer)
    return layers


def tl_scale(cfg, head_dim):
    """The logit scale a TransformerLens config uses: 1/attn_scale, 1 without use_attn_scale."""
    if not getattr(cfg, "use_attn_scale", True):
        return 1.0
    a = getattr(cfg, "attn_scale", None)
    return 1.0 / a if a and a > 0 else 1.0 / math.sqrt(head_dim)


# ---------------------------------------------------------------- captures (need torch)

def capture_transformer_lens(model, text, path, keep_pre_rope=True, dtype="float32"):
    """Run a TransformerLens HookedTransformer on `text` once and write its Q/K/V to `path`."""
    want = ("hook_q", "hook_k", "hook_v", "hook_rot_q", "hook_rot_k")
    _, cache = model.run_with_cache(text, names_filter=lambda name: name.endswith(want))
    cfg = model.cfg
    layers = layers_from_tl_cache(cache, cfg.n_layers, keep_pre_rope)
    if getattr(cfg, "scale_attn_by_inverse_layer_idx", False):
        print("note: this model also divides layer l's scores by l+1; the file keeps one scale")
    return save_qkv(path, layers, model.to_str_tokens(text),
                    causal=getattr(cfg, "attention_dir", "causal") == "causal",
                    scale=tl_scale(cfg, layers[0]["q"].shape[-1]),
                    model=getattr(cfg, "model_name", None), dtype=dtype)


def _hf_input(model, tokenizer, text):
    """input_ids [1, N] on the model's device, and the N token strings."""
    ids = tokenizer(text, return_tensors="pt")["input_ids"]
    tokens = tokenizer.convert_ids_to_tokens(ids[0].tolist())
    return ids.to(getattr(model, "device", ids.device)), tokens


def capture_hf(model, tokenizer, text, path, keep_pre_rope=True, dtype="float32"):
    """Run a Hugging Face causal LM on `text` once; write its post-RoPE Q/K (and V) to `path`.

    Llama/Mistral/Qwen2-style models (``model.model.layers[i].self_attn.q_proj|k_proj|v_proj``,
    RoPE from ``model.model.rotary_emb``; ``q_norm``/``k_norm`` are used when present) and GPT-2
    (``model.transformer.h[i].attn.c_attn``). Sliding windows and soft-capping are not recorded.
    """
    import torch

    cfg = model.config
    ids, tokens = _hf_input(model, tokenizer, text)
    grabbed, hooks = {}, []

    def grab(name):
        def hook(_module, _inputs, output):
            grabbed[name] = output.detach()
        return hook

    if hasattr(model, "model") and hasattr(model.model, "layers"):  # Llama/Mistral/Qwen2
        blocks, rope = model.model.layers, True
        H = cfg.num_attention_heads
        Hkv = getattr(cfg, "num_key_value_heads", None) or H
        d = getattr(cfg, "head_dim", None) or cfg.hidden_size // H
        for i, block in enumerate(blocks):
            att = block.self_attn
            for r in "qkv":
                mod = getattr(att, f"{r}_norm", None)
                mod = getattr(att, f"{r}_proj") if mod is None else mod
                hooks.append(mod.register_forward_hook(grab(f"{i}.{r}")))
    elif hasattr(model, "transformer") and hasattr(model.transformer, "h"):  # GPT-2
        blocks, rope = model.transformer.h, False
        H = Hkv = cfg.n_head
        d = cfg.n_embd // H
        for i, block in enumerate(blocks):
            hooks.append(block.attn.c_attn.register_forward_hook(grab(f"{i}.qkv")))
    else:
        raise NotImplementedError(f"{type(model).__name__}: not a Llama-like or GPT-2 model; "
                                  "use capture_transformer_lens or save_qkv")
    try:
        with torch.no_grad():
            model(input_ids=ids)
    finally:
        for h in hooks:
            h.remove()

    layers = []
    for i in range(len(blocks)):
        if not rope:
            q, k, v = np.split(_np(grabbed[f"{i}.qkv"]), 3, axis=-1)
            layers.append({"q": split_heads(q, H, d), "k": split_heads(k, H, d),
                           "v": split_heads(v, H, d)})
            continue
        q, k = split_heads(grabbed[f"{i}.q"], H, d), split_heads(grabbed[f"{i}.k"], Hkv, d)
        layers.append({"q": q, "k": k, "v": split_heads(grabbed[f"{i}.v"], Hkv, d)})
        if keep_pre_rope:
            layers[-1].update(q_pre_rope=q, k_pre_rope=k)
    if rope:
        rotary = getattr(model.model, "rotary_emb", None)
        rotary = blocks[0].self_attn.rotary_emb if rotary is None else rotary
        positions = torch.arange(ids.shape[1], device=ids.device)[None]
        with torch.no_grad():
            cos, sin = rotary(torch.zeros(1, device=ids.device), positions)
        for layer in layers:
            layer["q"] = apply_rope_half(layer["q"], cos, sin)
            layer["k"] = apply_rope_half(layer["k"], cos, sin)
    scale = (getattr(cfg, "query_pre_attn_scalar", None) or d) ** -0.5
    name = getattr(cfg, "_name_or_path", None) or type(model).__name__
    return save_qkv(path, layers, tokens, causal=True, scale=scale, model=name, dtype=dtype)


def capture_hf_attentions(model, tokenizer, text, path, layer=None):
    """Run a Hugging Face model with ``output_attentions=True`` and write them (see save_attention).

    Load the model with ``attn_implementation="eager"``: fused kernels return no weights.
    """
    import torch

    ids, tokens = _hf_input(model, tokenizer, text)
    with torch.no_grad():
        out = model(input_ids=ids, output_attentions=True)
    att = getattr(out, "attentions", None)
    if not att or any(a is None for a in att):
        raise RuntimeError("the model returned no attentions; load it with "
                           "attn_implementation='eager'")
    return save_attention(path, list(att), tokens, layer=layer)


# ---------------------------------------------------------------- CLI

def demo_layers(seed=0, n_layers=2, n_heads=4, n_kv_heads=2, head_dim=16):
    """A synthetic qkv dump (seeded): returns (layers, tokens); RoPE base 10000, pre-RoPE kept."""
    tokens = ["<s>", "The", " cat", " sat", " on", " the", " mat", ".", " It", " was", " warm", "."]
    rng = np.random.default_rng(seed)
    cos, sin = rope_cos_sin(len(tokens), head_dim)
    layers = []
    for _ in range(n_layers):
        sink = rng.standard_normal(head_dim)  # a direction all queries share: key 0 is a sink
        q = rng.standard_normal((n_heads, len(tokens), head_dim)) + 0.5 * sink
        k = rng.standard_normal((n_kv_heads, len(tokens), head_dim))
        k[:, 0] += sink
        v = rng.standard_normal((n_kv_heads, len(tokens), head_dim))
        layers.append({"q": apply_rope_half(q, cos, sin), "k": apply_rope_half(k, cos, sin),
                       "v": v, "q_pre_rope": q, "k_pre_rope": k})
    return layers, tokens


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--demo", metavar="OUT", required=True,
                        help="write a synthetic qkscope-qkv file (.safetensors or .npz)")
    args = parser.parse_args(argv)
    layers, tokens = demo_layers()
    save_qkv(args.demo, layers, tokens, model="qkscope_export demo (random, seeded)")
    print(f"wrote {args.demo}: {len(layers)} layers, {len(tokens)} tokens")


if __name__ == "__main__":
    main()
