"""Tests for scripts/qkscope_export.py.

Run: python3 -m unittest tests/python/test_export.py   (NumPy only; the torch tests are skipped
without torch, and run under Debian's /usr/bin/python3, which has it).

The files written are read back here independently: safetensors with struct/json/NumPy, .npz and
.npy with np.load, JSON with json. RoPE is checked against an explicit per-pair rotation.
"""
import contextlib
import importlib.util
import io
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import types
import unittest
import zipfile

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import qkscope_export as qe  # noqa: E402

HAS_TORCH = importlib.util.find_spec("torch") is not None
TOKENS = ["<script>alert(1)</script>", " café", "a&b", "\"quoted\"", " 日本", "\n", "end"]


def read_safetensors(path):
    """Parse a safetensors file by hand: (header length, header, {name: array}, data length)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    kinds = {"F32": "<f4", "F16": "<f2"}
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtype=kinds[info["dtype"]]).reshape(
            info["shape"])
    return n, header, tensors, len(data), raw[8:8 + n]


def qkv_layers(rng, L=2, H=4, Hkv=2, N=7, d=8, dv=6, pre=True):
    layers = []
    for _ in range(L):
        layer = {"q": rng.standard_normal((H, N, d)).astype(np.float32),
                 "k": rng.standard_normal((Hkv, N, d)).astype(np.float32),
                 "v": rng.standard_normal((Hkv, N, dv)).astype(np.float32)}
        if pre:
            layer["q_pre_rope"] = rng.standard_normal((H, N, d)).astype(np.float32)
            layer["k_pre_rope"] = rng.standard_normal((Hkv, N, d)).astype(np.float32)
        layers.append(layer)
    return layers


class TempDirCase(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.dir = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)


class SafetensorsTest(TempDirCase):
    def test_layout_values_and_metadata(self):
        layers = qkv_layers(np.random.default_rng(1))
        p = self.path("a.safetensors")
        self.assertEqual(qe.save_qkv(p, layers, TOKENS, scale=0.25, model="tiny <model>"), p)
        n, header, tensors, data_len, header_bytes = read_safetensors(p)
        self.assertEqual((8 + n) % 8, 0, "data must start at a multiple of 8")
        self.assertEqual(len(header_bytes), n)
        text = header_bytes.decode("utf-8")
        self.assertTrue(text.rstrip(" ").endswith("}"))  # JSON, then only space padding
        self.assertLess(len(text) - len(text.rstrip(" ")), 8)
        # Offsets: contiguous, in header order, starting at 0 and covering the data exactly.
        names = [k for k in header if k != "__metadata__"]
        expected_names = [f"layers.{i}.{r}" for i in range(2)
                          for r in ("q", "k", "v", "q_pre_rope", "k_pre_rope")]
        self.assertEqual(names, expected_names)
        cursor = 0
        for name in names:
            begin, end = header[name]["data_offsets"]
            self.assertEqual(begin, cursor)
            self.assertEqual(end - begin, 4 * int(np.prod(header[name]["shape"])))
            self.assertEqual(header[name]["dtype"], "F32")
            cursor = end
        self.assertEqual(cursor, data_len)
        for i, layer in enumerate(layers):
            for role, arr in layer.items():
                np.testing.assert_array_equal(tensors[f"layers.{i}.{role}"], arr)
                self.assertEqual(header[f"layers.{i}.{role}"]["shape"], list(arr.shape))
        meta = header["__metadata__"]
        self.assertEqual(meta["format"], "qkscope-qkv")
        self.assertEqual(meta["version"], "1")
        self.assertEqual(json.loads(meta["tokens"]), TOKENS)
        self.assertEqual(meta["causal"], "true")
        self.assertEqual(float(meta["scale"]), 0.25)
        self.assertEqual(meta["model"], "tiny <model>")
        self.assertTrue(all(isinstance(v, str) for v in meta.values()))
        # Non-ASCII tokens are stored as UTF-8 in the header.
        self.assertIn(" café".encode("utf-8"), header_bytes)

    def test_bytes_are_little_endian(self):
        p = self.path("le.safetensors")
        q = np.full((1, 2, 2), 1.5, np.float32)
        q[0, 0, 0] = -2.25
        qe.save_qkv(p, [{"q": q, "k": q * 2}], ["x", "y"])
        n, header, _, _, _ = read_safetensors(p)
        with open(p, "rb") as f:
            raw = f.read()
        begin = 8 + n + header["layers.0.q"]["data_offsets"][0]
        self.assertEqual(struct.unpack("<4f", raw[begin:begin + 16]), (-2.25, 1.5, 1.5, 1.5))

    def test_float16_and_defaults(self):
        layers = qkv_layers(np.random.default_rng(2), L=1, pre=False)
        p = self.path("h.safetensors")
        qe.save_qkv(p, layers, TOKENS, causal=False, dtype="float16")
        n, header, tensors, data_len, _ = read_safetensors(p)
        self.assertEqual((8 + n) % 8, 0)
        for role in ("q", "k", "v"):
            self.assertEqual(header[f"layers.0.{role}"]["dtype"], "F16")
            np.testing.assert_array_equal(tensors[f"layers.0.{role}"],
                                          layers[0][role].astype(np.float16))
        self.assertEqual(data_len, 2 * sum(a.size for a in layers[0].values()))
        meta = header["__metadata__"]
        self.assertEqual(meta["causal"], "false")
        self.assertNotIn("scale", meta)
        self.assertNotIn("model", meta)
        self.assertEqual(sorted(k for k in header if k != "__metadata__"),
                         ["layers.0.k", "layers.0.q", "layers.0.v"])

    def test_write_safetensors_pads_every_header_length(self):
        # Header lengths that leave every remainder mod 8 must all be padded to alignment.
        remainders = set()
        for extra in range(12):
            p = self.path(f"pad{extra}.safetensors")
            qe.write_safetensors(p, {"t": np.arange(3, dtype=np.float32)}, {"m": "x" * extra})
            n, header, tensors, _, header_bytes = read_safetensors(p)
            self.assertEqual((8 + n) % 8, 0)
            remainders.add(len(header_bytes.rstrip(b" ")) % 8)
            np.testing.assert_array_equal(tensors["t"], [0, 1, 2])
            self.assertEqual(header["__metadata__"], {"m": "x" * extra})
        self.assertEqual(len(remainders), 8)

    def test_rejects_other_dtypes(self):
        with self.assertRaisesRegex(ValueError, "int64"):
            qe.write_safetensors(self.path("x.safetensors"), {"t": np.arange(3)})


class NpzTest(TempDirCase):
    def test_keys_tokens_metadata(self):
        layers = qkv_layers(np.random.default_rng(3))
        p = self.path("a.npz")
        qe.save_qkv(p, layers, TOKENS, scale=0.5, model="m")
        z = np.load(p)
        self.assertEqual(set(z.files), {f"layers.{i}.{r}" for i in range(2) for r in
                                        ("q", "k", "v", "q_pre_rope", "k_pre_rope")}
                         | {"tokens", "metadata"})
        self.assertEqual(z["tokens"].dtype.kind, "U")
        self.assertEqual(z["tokens"].tolist(), TOKENS)
        self.assertEqual(z["metadata"].shape, ())
        self.assertEqual(z["metadata"].dtype.kind, "U")
        meta = json.loads(str(z["metadata"]))
        self.assertEqual(meta, {"format": "qkscope-qkv", "version": "1",
                                "tokens": json.dumps(TOKENS, ensure_ascii=False),
                                "causal": "true", "scale": "0.5", "model": "m"})
        for i, layer in enumerate(layers):
            for role, arr in layer.items():
                got = z[f"layers.{i}.{role}"]
                self.assertEqual(got.dtype, np.float32)
                np.testing.assert_array_equal(got, arr)

    def test_members_are_c_order(self):
        # A transposed view (as from a [1,N,H,d] cache) must be written C-ordered, never with
        # fortran_order, which a simple reader may not support.
        q = np.asfortranarray(np.random.default_rng(4).standard_normal((2, 3, 4)), np.float32)
        p = self.path("f.npz")
        qe.save_qkv(p, [{"q": q, "k": q}], ["a", "b", "c"])
        with zipfile.ZipFile(p) as zf, zf.open("layers.0.q.npy") as f:
            fmt = np.lib.format
            version = fmt.read_magic(f)
            read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
            shape, fortran, dtype = read(f)
        self.assertEqual((shape, fortran, dtype), ((2, 3, 4), False, np.dtype("<f4")))
        np.testing.assert_array_equal(np.load(p)["layers.0.q"], q)

    def test_float16(self):
        layers = qkv_layers(np.random.default_rng(5), L=1)
        p = self.path("h.npz")
        qe.save_qkv(p, layers, TOKENS, dtype="float16")
        z = np.load(p)
        self.assertEqual(z["layers.0.k"].dtype, np.float16)
        np.testing.assert_array_equal(z["layers.0.k"], layers[0]["k"].astype(np.float16))


class ValidationTest(TempDirCase):
    def save(self, layers, tokens=("a", "b", "c"), **kw):
        return qe.save_qkv(self.path("v.safetensors"), layers, list(tokens), **kw)

    def test_heads_not_a_multiple(self):
        q, k = np.zeros((3, 3, 4)), np.zeros((2, 3, 4))
        with self.assertRaises(ValueError) as cm:
            self.save([{"q": q, "k": k}])
        self.assertEqual(str(cm.exception),
                         "layer 0: q has 3 heads and k has 2; H must be a multiple of Hkv")

    def test_mismatched_positions(self):
        ok = {"q": np.zeros((2, 3, 4)), "k": np.zeros((1, 3, 4))}
        with self.assertRaises(ValueError) as cm:
            self.save([ok, {"q": np.zeros((2, 3, 4)), "k": np.zeros((1, 5, 4))}])
        self.assertEqual(str(cm.exception), "layer 1: q has 3 positions but k has 5")

    def test_other_shape_errors(self):
        q, k = np.zeros((2, 3, 4)), np.zeros((1, 3, 4))
        cases = [
            ({"q": q, "k": np.zeros((1, 3, 5))}, ("a", "b", "c"),
             "layer 0: q head dim 4 differs from k head dim 5"),
            ({"q": q, "k": k}, ("a", "b"), "layer 0: 3 positions but 2 tokens"),
            ({"q": q, "k": k, "v": np.zeros((2, 3, 4))}, ("a", "b", "c"),
             "layer 0: v is [2, 3, 4], expected [1, 3, dv]"),
            ({"q": q, "k": k, "k_pre_rope": np.zeros((1, 3, 2))}, ("a", "b", "c"),
             "layer 0: k_pre_rope is [1, 3, 2] but k is [1, 3, 4]"),
            ({"q": np.zeros((2, 2, 3, 4)), "k": k}, ("a", "b", "c"),
             "layers.0.q: batch of 2; export one sequence (batch 1)"),
            ({"q": np.zeros((3, 4)), "k": k}, ("a", "b", "c"),
             "layers.0.q: expected 3 axes, got shape [3, 4]"),
            ({"q": q}, ("a", "b", "c"), "layer 0: 'q' and 'k' are required"),
            ({"q": q, "k": k, "attn": q}, ("a", "b", "c"), "layer 0: unknown keys ['attn']"),
            ({"q": q * np.nan, "k": k}, ("a", "b", "c"), "layers.0.q has NaN or infinite values"),
        ]
        for layer, tokens, message in cases:
            with self.subTest(message=message), self.assertRaises(ValueError) as cm:
                self.save([layer], tokens)
            self.assertTrue(str(cm.exception).startswith(message), str(cm.exception))

    def test_float16_overflow_and_bad_arguments(self):
        big = {"q": np.full((1, 3, 4), 1e6), "k": np.zeros((1, 3, 4))}
        with self.assertRaisesRegex(ValueError, r"layers\.0\.q .*float16"):
            self.save([big], dtype="float16")
        with self.assertRaisesRegex(ValueError, "dtype must be"):
            self.save([big], dtype="bfloat16")
        with self.assertRaisesRegex(ValueError, "layers is empty"):
            self.save([])
        with self.assertRaisesRegex(ValueError, r"\.safetensors or \.npz"):
            qe.save_qkv(self.path("x.pt"), [{"q": np.zeros((1, 1, 2)), "k": np.zeros((1, 1, 2))}],
                        ["a"])

    def test_batch_of_one_is_dropped(self):
        q = np.arange(24, dtype=np.float32).reshape(1, 2, 3, 4)
        self.save([{"q": q, "k": q[:, :1] + 1}])
        _, header, tensors, _, _ = read_safetensors(self.path("v.safetensors"))
        self.assertEqual(header["layers.0.q"]["shape"], [2, 3, 4])
        self.assertEqual(header["layers.0.k"]["shape"], [1, 3, 4])
        np.testing.assert_array_equal(tensors["layers.0.q"], q[0])
        np.testing.assert_array_equal(tensors["layers.0.k"], q[0, :1] + 1)


def fake_tl_cache(rng, L=2, N=5, H=4, Hkv=2, d=6, rotary=False, batch=True):
    cache = {}
    for l in range(L):
        p = f"blocks.{l}.attn."
        names = {"hook_q": H, "hook_k": Hkv, "hook_v": Hkv}
        if rotary:
            names.update(hook_rot_q=H, hook_rot_k=Hkv)
        for name, heads in names.items():
            a = rng.standard_normal((N, heads, d)).astype(np.float32)
            cache[p + name] = a[None] if batch else a
        cache[p + "hook_pattern"] = np.zeros((1, H, N, N), np.float32)
    return cache


class TransformerLensTest(TempDirCase):
    def test_gqa_without_rotary(self):
        cache = fake_tl_cache(np.random.default_rng(6))
        layers = qe.layers_from_tl_cache(cache, 2)
        self.assertEqual(len(layers), 2)
        for l, layer in enumerate(layers):
            self.assertEqual(sorted(layer), ["k", "q", "v"])
            self.assertEqual(layer["q"].shape, (4, 5, 6))
            self.assertEqual(layer["k"].shape, (2, 5, 6))
            for role in ("q", "k", "v"):
                src = cache[f"blocks.{l}.attn.hook_{role}"][0]  # [N, heads, d]
                for h in range(layer[role].shape[0]):
                    for n in range(5):
                        np.testing.assert_array_equal(layer[role][h, n], src[n, h])

    def test_rotary(self):
        cache = fake_tl_cache(np.random.default_rng(7), rotary=True, batch=False)
        layers = qe.layers_from_tl_cache(cache, 2)
        for l, layer in enumerate(layers):
            p = f"blocks.{l}.attn."
            self.assertEqual(sorted(layer), ["k", "k_pre_rope", "q", "q_pre_rope", "v"])
            np.testing.assert_array_equal(layer["q"], cache[p + "hook_rot_q"].transpose(1, 0, 2))
            np.testing.assert_array_equal(layer["k"], cache[p + "hook_rot_k"].transpose(1, 0, 2))
            np.testing.assert_array_equal(layer["q_pre_rope"],
                                          cache[p + "hook_q"].transpose(1, 0, 2))
            np.testing.assert_array_equal(layer["k_pre_rope"],
                                          cache[p + "hook_k"].transpose(1, 0, 2))
        dropped = qe.layers_from_tl_cache(cache, 1, keep_pre_rope=False)
        self.assertEqual(sorted(dropped[0]), ["k", "q", "v"])
        np.testing.assert_array_equal(dropped[0]["q"], layers[0]["q"])

    def test_without_values_and_missing_layer(self):
        cache = fake_tl_cache(np.random.default_rng(8), L=1)
        del cache["blocks.0.attn.hook_v"]
        self.assertEqual(sorted(qe.layers_from_tl_cache(cache, 1)[0]), ["k", "q"])
        with self.assertRaises(KeyError):
            qe.layers_from_tl_cache(cache, 2)

    def test_scale(self):
        ns = types.SimpleNamespace
        self.assertEqual(qe.tl_scale(ns(use_attn_scale=True, attn_scale=8.0), 16), 0.125)
        self.assertEqual(qe.tl_scale(ns(use_attn_scale=False, attn_scale=8.0), 16), 1.0)
        self.assertEqual(qe.tl_scale(ns(use_attn_scale=True, attn_scale=-1.0), 16), 0.25)
        self.assertEqual(qe.tl_scale(ns(), 64), 0.125)

    def test_capture_with_a_fake_model(self):
        cache = fake_tl_cache(np.random.default_rng(9), rotary=True)
        seen = []

        class FakeModel:
            cfg = types.SimpleNamespace(n_layers=2, use_attn_scale=True, attn_scale=4.0,
                                        attention_dir="causal", model_name="fake-tl")

            def run_with_cache(self, text, names_filter):
                seen.append(text)
                return None, {k: v for k, v in cache.items() if names_filter(k)}

            def to_str_tokens(self, text):
                return ["<bos>"] + text.split()

        p = self.path("tl.npz")
        qe.capture_transformer_lens(FakeModel(), "w1 w2 w3 <b>", p)
        self.assertEqual(seen, ["w1 w2 w3 <b>"])
        z = np.load(p)
        meta = json.loads(str(z["metadata"]))
        self.assertEqual(meta["scale"], "0.25")
        self.assertEqual(meta["causal"], "true")
        self.assertEqual(meta["model"], "fake-tl")
        self.assertEqual(z["tokens"].tolist(), ["<bos>", "w1", "w2", "w3", "<b>"])
        self.assertNotIn("hook_pattern", " ".join(z.files))
        np.testing.assert_array_equal(z["layers.1.q"],
                                      cache["blocks.1.attn.hook_rot_q"][0].transpose(1, 0, 2))
        np.testing.assert_array_equal(z["layers.1.k_pre_rope"],
                                      cache["blocks.1.attn.hook_k"][0].transpose(1, 0, 2))


class HelpersTest(unittest.TestCase):
    def test_split_heads(self):
        N, H, d = 3, 4, 5
        flat = np.arange(N * H * d, dtype=np.float32).reshape(1, N, H * d)
        out = qe.split_heads(flat, H, d)
        self.assertEqual(out.shape, (H, N, d))
        for h in range(H):
            for n in range(N):
                for j in range(d):
                    self.assertEqual(out[h, n, j], flat[0, n, h * d + j])
        np.testing.assert_array_equal(qe.split_heads(flat[0], H, d), out)
        np.testing.assert_array_equal(qe.split_heads(flat.reshape(1, N, H, d), H, d), out)
        np.testing.assert_array_equal(qe.split_heads(flat.reshape(N, H, d), H, d), out)
        with self.assertRaisesRegex(ValueError, "batch 1"):
            qe.split_heads(np.zeros((2, N, H * d)), H, d)
        with self.assertRaisesRegex(ValueError, "into 4 heads of 6"):
            qe.split_heads(flat, H, 6)

    def test_apply_rope_half_against_pair_rotation(self):
        N, d, base = 6, 8, 10000.0
        x = np.random.default_rng(10).standard_normal((3, N, d))
        # Independent reference: dims j and j + d/2 form a pair rotated by pos * base^(-2j/d).
        want = np.empty_like(x)
        for h in range(3):
            for pos in range(N):
                for j in range(d // 2):
                    theta = pos * base ** (-2.0 * j / d)
                    a, b = x[h, pos, j], x[h, pos, j + d // 2]
                    want[h, pos, j] = a * math.cos(theta) - b * math.sin(theta)
                    want[h, pos, j + d // 2] = b * math.cos(theta) + a * math.sin(theta)
        cos, sin = qe.rope_cos_sin(N, d, base)
        np.testing.assert_allclose(qe.apply_rope_half(x, cos, sin), want, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(qe.apply_rope_half(x, cos[None], sin[None]), want,
                                   rtol=1e-12, atol=1e-12)
        self.assertGreater(np.abs(want - x).max(), 0.1)  # the rotation did something

    def test_apply_rope_half_partial(self):
        N, d, r = 4, 10, 4
        x = np.random.default_rng(11).standard_normal((2, N, d))
        angles = np.random.default_rng(12).uniform(-3, 3, (N, r // 2))
        cos = np.cos(np.concatenate([angles, angles], -1))
        sin = np.sin(np.concatenate([angles, angles], -1))
        out = qe.apply_rope_half(x, cos, sin)
        np.testing.assert_array_equal(out[..., r:], x[..., r:])
        for pos in range(N):
            for j in range(r // 2):
                c, s = math.cos(angles[pos, j]), math.sin(angles[pos, j])
                a, b = x[:, pos, j], x[:, pos, j + r // 2]
                np.testing.assert_allclose(out[:, pos, j], a * c - b * s, rtol=1e-12)
                np.testing.assert_allclose(out[:, pos, j + r // 2], b * c + a * s, rtol=1e-12)


def softmax_rows(scores):
    e = np.exp(scores - scores.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


class SaveAttentionTest(TempDirCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(13)
        self.tokens = ["<svg onload=alert(1)>", "b", "ç", "d"]
        self.layers = [softmax_rows(rng.standard_normal((1, 3, 4, 4))).astype(np.float32)
                       for _ in range(2)]  # Hugging Face's [1, H, q, k] per layer

    def test_npy_stack(self):
        p = self.path("a.npy")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            qe.save_attention(p, tuple(self.layers), self.tokens)
        self.assertIn("cannot hold tokens", out.getvalue())
        a = np.load(p)
        self.assertEqual(a.shape, (2, 1, 3, 4, 4))
        self.assertEqual(a.dtype, np.float32)
        for l in range(2):
            np.testing.assert_array_equal(a[l, 0], self.layers[l][0])
        qe.save_attention(p, self.layers, layer=1)
        np.testing.assert_array_equal(np.load(p), self.layers[1][0])

    def test_npz_and_safetensors(self):
        p = self.path("a.npz")
        qe.save_attention(p, self.layers, self.tokens)
        z = np.load(p)
        self.assertEqual(sorted(z.files), ["attentions.0", "attentions.1", "metadata", "tokens"])
        for l in range(2):
            np.testing.assert_array_equal(z[f"attentions.{l}"], self.layers[l][0])
        self.assertEqual(z["tokens"].tolist(), self.tokens)
        meta = json.loads(str(z["metadata"]))
        self.assertEqual(meta["format"], "qkscope-attention")
        self.assertEqual(json.loads(meta["tokens"]), self.tokens)

        p = self.path("a.safetensors")
        qe.save_attention(p, self.layers, self.tokens)
        n, header, tensors, _, _ = read_safetensors(p)
        self.assertEqual((8 + n) % 8, 0)
        self.assertEqual(header["attentions.1"]["shape"], [3, 4, 4])
        np.testing.assert_array_equal(tensors["attentions.1"], self.layers[1][0])
        self.assertEqual(header["__metadata__"]["format"], "qkscope-attention")
        self.assertEqual(json.loads(header["__metadata__"]["tokens"]), self.tokens)

    def test_scores_with_minus_inf(self):
        scores = np.log(self.layers[0][0])
        scores[:, 0, 1:] = -np.inf
        p = self.path("s.npz")
        qe.save_attention(p, scores, self.tokens)
        np.testing.assert_array_equal(np.load(p)["attentions.0"], scores)
        with self.assertRaisesRegex(ValueError, "-inf"):
            qe.save_attention(self.path("s.json"), scores, self.tokens)

    def test_json_circuitsvis(self):
        p = self.path("c.json")
        qe.save_attention(p, self.layers, self.tokens, layer=1)
        with open(p, encoding="utf-8") as f:
            obj = json.load(f)
        self.assertEqual(sorted(obj), ["attention", "tokens"])
        self.assertEqual(obj["tokens"], self.tokens)
        got = np.array(obj["attention"])
        self.assertEqual(got.shape, (3, 4, 4))
        np.testing.assert_array_equal(got.astype(np.float32), self.layers[1][0])
        # One [H, q, k] array is one layer: CircuitsVis too.
        qe.save_attention(p, self.layers[0][0], self.tokens)
        with open(p, encoding="utf-8") as f:
            np.testing.assert_array_equal(np.array(json.load(f)["attention"], np.float32),
                                          self.layers[0][0])

    def test_json_bertviz(self):
        p = self.path("b.json")
        stacked = np.stack(self.layers)  # [L, 1, H, q, k], as torch.stack(outputs.attentions)
        for given in (self.layers, stacked):
            qe.save_attention(p, given, self.tokens)
            with open(p, encoding="utf-8") as f:
                obj = json.load(f)
            self.assertEqual(obj["tokens"], self.tokens)
            self.assertEqual(len(obj["attention"]), 2)
            for l in range(2):
                got = np.array(obj["attention"][l], np.float32)
                self.assertEqual(got.shape, (1, 3, 4, 4))
                np.testing.assert_array_equal(got, self.layers[l])

    def test_errors(self):
        with self.assertRaisesRegex(ValueError, "3 tokens for 4 key positions"):
            qe.save_attention(self.path("a.npz"), self.layers, self.tokens[:3])
        with self.assertRaisesRegex(ValueError, "needs tokens"):
            qe.save_attention(self.path("a.json"), self.layers)
        bad = self.layers[0].copy()
        bad[0, 0, 0, 0] = np.nan
        with self.assertRaisesRegex(ValueError, r"attentions\[0\] has NaN"):
            qe.save_attention(self.path("a.npy"), [bad])
        with self.assertRaisesRegex(ValueError, "batch"):
            qe.save_attention(self.path("a.npy"), np.zeros((2, 2, 3, 4, 4)))


class DemoTest(TempDirCase):
    def test_cli_writes_a_consistent_file(self):
        p = self.path("demo.safetensors")
        run = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "qkscope_export.py"),
                              "--demo", p], capture_output=True, text=True, check=True)
        self.assertIn("wrote", run.stdout)
        _, header, tensors, _, _ = read_safetensors(p)
        meta = header["__metadata__"]
        self.assertEqual(meta["format"], "qkscope-qkv")
        tokens = json.loads(meta["tokens"])
        self.assertEqual(tensors["layers.0.q"].shape, (4, len(tokens), 16))
        self.assertEqual(tensors["layers.1.k"].shape, (2, len(tokens), 16))
        cos, sin = qe.rope_cos_sin(len(tokens), 16)
        np.testing.assert_allclose(qe.apply_rope_half(tensors["layers.1.q_pre_rope"], cos, sin),
                                   tensors["layers.1.q"], atol=2e-6)
        # Seeded: the same file twice.
        p2 = self.path("demo2.safetensors")
        with contextlib.redirect_stdout(io.StringIO()):
            qe.main(["--demo", p2])
        with open(p, "rb") as a, open(p2, "rb") as b:
            self.assertEqual(a.read(), b.read())


@unittest.skipUnless(HAS_TORCH, "needs torch")
class TorchCaptureTest(TempDirCase):
    """capture_hf and capture_hf_attentions on tiny modules shaped like Llama and GPT-2."""

    def setUp(self):
        super().setUp()
        import torch
        self.torch = torch
        torch.manual_seed(0)

    def tokenizer(self):
        torch = self.torch

        class Tok:
            def __call__(self, text, return_tensors):
                assert return_tensors == "pt"
                return {"input_ids": torch.tensor([[len(w) for w in text.split()]])}

            def convert_ids_to_tokens(self, ids):
                return [f"<{i}>" for i in ids]
        return Tok()

    def llama(self, H=4, Hkv=2, d=6, hidden=10, L=2, head_dim_in_config=True, qk_norm=False):
        torch, nn = self.torch, self.torch.nn

        class Rotary(nn.Module):
            def __init__(self):
                super().__init__()
                self.inv_freq = 1.0 / 10000.0 ** (torch.arange(0, d, 2).float() / d)

            def forward(self, x, position_ids):
                freqs = position_ids[..., None].float() * self.inv_freq
                emb = torch.cat([freqs, freqs], -1)
                return emb.cos().to(x.dtype), emb.sin().to(x.dtype)

        class Attn(nn.Module):
            def __init__(self):
                super().__init__()
                self.q_proj = nn.Linear(hidden, H * d)
                self.k_proj = nn.Linear(hidden, Hkv * d)
                self.v_proj = nn.Linear(hidden, Hkv * d)
                if qk_norm:
                    self.q_norm, self.k_norm = nn.LayerNorm(d), nn.LayerNorm(d)

        class Layer(nn.Module):
            def __init__(self):
                super().__init__()
                self.self_attn = Attn()

        class Inner(nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = nn.Embedding(20, hidden)
                self.layers = nn.ModuleList([Layer() for _ in range(L)])
                self.rotary_emb = Rotary()

        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.model = Inner()
                self.config = types.SimpleNamespace(
                    num_attention_heads=H, num_key_value_heads=Hkv, hidden_size=hidden,
                    head_dim=d if head_dim_in_config else None, _name_or_path="fake/llama")
                self.seen = []

            def forward(self, input_ids):
                h = self.model.embed(input_ids)
                for layer in self.model.layers:
                    self.seen.append(h)
                    a = layer.self_attn
                    q, k = a.q_proj(h), a.k_proj(h)
                    if qk_norm:
                        a.q_norm(q.view(1, -1, H, d))
                        a.k_norm(k.view(1, -1, Hkv, d))
                    h = h + torch.tanh(a.v_proj(h)).sum(-1, keepdim=True)
                return types.SimpleNamespace()
        return Model()

    def rope_reference(self, x):
        """[heads, N, d] torch -> rotated, pair (j, j+d/2) by pos * 10000^(-2j/d)."""
        torch = self.torch
        heads, N, d = x.shape
        out = x.clone().double()
        for pos in range(N):
            for j in range(d // 2):
                t = pos * 10000.0 ** (-2.0 * j / d)
                a, b = x[:, pos, j].double(), x[:, pos, j + d // 2].double()
                out[:, pos, j] = a * math.cos(t) - b * math.sin(t)
                out[:, pos, j + d // 2] = b * math.cos(t) + a * math.sin(t)
        return out.numpy()

    def test_llama_like(self):
        torch = self.torch
        H, Hkv, d = 4, 2, 6
        for head_dim_in_config, hidden in ((True, 10), (False, 24)):
            model = self.llama(H, Hkv, d, hidden, head_dim_in_config=head_dim_in_config)
            p = self.path("llama.safetensors")
            qe.capture_hf(model, self.tokenizer(), "a bb ccc dddd e", p)
            _, header, t, _, _ = read_safetensors(p)
            meta = header["__metadata__"]
            self.assertEqual(json.loads(meta["tokens"]), ["<1>", "<2>", "<3>", "<4>", "<1>"])
            self.assertAlmostEqual(float(meta["scale"]), 1 / math.sqrt(d), places=15)
            self.assertEqual(meta["model"], "fake/llama")
            self.assertEqual(meta["causal"], "true")
            for l, layer in enumerate(model.model.layers):
                h = model.seen[l][0]
                with torch.no_grad():
                    q = layer.self_attn.q_proj(h).view(5, H, d).transpose(0, 1)
                    k = layer.self_attn.k_proj(h).view(5, Hkv, d).transpose(0, 1)
                    v = layer.self_attn.v_proj(h).view(5, Hkv, d).transpose(0, 1)
                np.testing.assert_allclose(t[f"layers.{l}.q_pre_rope"], q.numpy(), rtol=1e-6)
                np.testing.assert_allclose(t[f"layers.{l}.k_pre_rope"], k.numpy(), rtol=1e-6)
                np.testing.assert_allclose(t[f"layers.{l}.v"], v.numpy(), rtol=1e-6)
                np.testing.assert_allclose(t[f"layers.{l}.q"], self.rope_reference(q), atol=1e-5)
                np.testing.assert_allclose(t[f"layers.{l}.k"], self.rope_reference(k), atol=1e-5)
            self.assertEqual(model.model.layers[0].self_attn.q_proj._forward_hooks, {})

    def test_llama_qk_norm_and_no_pre_rope(self):
        torch = self.torch
        model = self.llama(qk_norm=True)
        p = self.path("qwen3.npz")
        qe.capture_hf(model, self.tokenizer(), "a bb ccc", p, keep_pre_rope=False)
        z = np.load(p)
        self.assertNotIn("layers.0.q_pre_rope", z.files)
        a = model.model.layers[1].self_attn
        with torch.no_grad():
            q = a.q_norm(a.q_proj(model.seen[1][0]).view(3, 4, 6)).transpose(0, 1)
        np.testing.assert_allclose(z["layers.1.q"], self.rope_reference(q), atol=1e-5)

    def test_gpt2_like(self):
        torch, nn = self.torch, self.torch.nn
        H, hidden = 2, 8

        class Attn(nn.Module):
            def __init__(self):
                super().__init__()
                self.c_attn = nn.Linear(hidden, 3 * hidden)

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.attn = Attn()

        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.transformer = nn.Module()
                self.transformer.wte = nn.Embedding(20, hidden)
                self.transformer.h = nn.ModuleList([Block(), Block()])
                self.config = types.SimpleNamespace(n_head=H, n_embd=hidden)

            def forward(self, input_ids):
                x = self.transformer.wte(input_ids)
                self.x = x
                for b in self.transformer.h:
                    b.attn.c_attn(x)
                return None

        model = Model()
        p = self.path("gpt2.npz")
        qe.capture_hf(model, self.tokenizer(), "a bb ccc dddd", p)
        z = np.load(p)
        self.assertNotIn("layers.0.q_pre_rope", z.files)
        meta = json.loads(str(z["metadata"]))
        self.assertAlmostEqual(float(meta["scale"]), 0.5)
        self.assertEqual(meta["model"], "Model")
        with torch.no_grad():
            out = model.transformer.h[1].attn.c_attn(model.x)[0]  # [N, 3*hidden]
        for i, role in enumerate("qkv"):
            want = out[:, i * hidden:(i + 1) * hidden].reshape(4, H, hidden // H).transpose(0, 1)
            np.testing.assert_allclose(z[f"layers.1.{role}"], want.numpy(), rtol=1e-6)

    def test_hf_attentions(self):
        torch = self.torch
        weights = [torch.softmax(torch.randn(1, 2, 3, 3), -1) for _ in range(3)]

        class Model:
            def __call__(self, input_ids, output_attentions):
                self.asked = output_attentions
                return types.SimpleNamespace(attentions=tuple(weights))

        model = Model()
        p = self.path("hf.npz")
        qe.capture_hf_attentions(model, self.tokenizer(), "a bb ccc", p)
        self.assertTrue(model.asked)
        z = np.load(p)
        self.assertEqual(z["tokens"].tolist(), ["<1>", "<2>", "<3>"])
        for l in range(3):
            np.testing.assert_array_equal(z[f"attentions.{l}"], weights[l][0].numpy())
        weights[1] = None
        with self.assertRaisesRegex(RuntimeError, "eager"):
            qe.capture_hf_attentions(model, self.tokenizer(), "a bb ccc", p)

    def test_torch_tensors_are_accepted(self):
        torch = self.torch
        q = torch.randn(1, 2, 3, 4, dtype=torch.bfloat16, requires_grad=True)
        p = self.path("t.safetensors")
        qe.save_qkv(p, [{"q": q, "k": q[:, :1] * 2}], ["a", "b", "c"])
        _, header, t, _, _ = read_safetensors(p)
        np.testing.assert_array_equal(t["layers.0.q"], q.detach().float().numpy()[0])
        self.assertEqual(header["layers.0.k"]["shape"], [1, 3, 4])


FIXTURES = os.path.join(ROOT, "tests", "fixtures", "io")


@unittest.skipUnless(os.path.exists(os.path.join(FIXTURES, "expected.json")),
                     "no fixtures (run /usr/bin/python3 scripts/make_io_fixtures.py)")
class FixturesTest(unittest.TestCase):
    """tests/fixtures/io agrees with itself: attention recomputed here in NumPy from the stored
    Q/K/V matches expected.json, and every other file holds the same weights."""

    @classmethod
    def setUpClass(cls):
        with open(os.path.join(FIXTURES, "expected.json"), encoding="utf-8") as f:
            cls.exp = json.load(f)

    def file(self, name):
        return os.path.join(FIXTURES, name)

    def weights(self, l):
        e = self.exp
        return np.array(e["layers"][l]["weights"], np.float32).reshape(e["H"], e["N"], e["N"])

    def attend(self, q, k, v, scale):
        q, k, v = (np.asarray(a, np.float64) for a in (q, k, v))
        kv = np.arange(q.shape[0]) // (q.shape[0] // k.shape[0])
        s = np.einsum("hid,hjd->hij", q, k[kv]) * scale
        s[:, np.triu(np.ones(s.shape[1:], bool), 1)] = -np.inf
        w = np.exp(s - s.max(-1, keepdims=True))
        w /= w.sum(-1, keepdims=True)
        return w, w @ v[kv]

    def test_qkv_files_reproduce_expected(self):
        e = self.exp
        self.assertEqual(len(e["tokens"]), e["N"])
        self.assertIn("<script>alert(1)</script>", e["tokens"])
        cases = [("qkv.safetensors", "", "v"), ("qkv_f16.safetensors", "_f16", "v"),
                 ("qkv_no_v.safetensors", "", "k")]  # no v: the keys serve as values
        for name, suffix, key_v in cases:
            _, header, t, _, _ = read_safetensors(self.file(name))
            meta = header["__metadata__"]
            self.assertEqual(json.loads(meta["tokens"]), e["tokens"])
            scale = float(meta.get("scale", 1 / math.sqrt(e["d"])))
            self.assertEqual(scale, e["scale"])
            for l in range(e["L"]):
                lay = {r: t[f"layers.{l}.{r}"].astype(np.float32) for r in ("q", "k")}
                w, out = self.attend(lay["q"], lay["k"], t[f"layers.{l}.{key_v}"], scale)
                want_w = e["layers"][l]["weights" + suffix]
                want_out = e["layers"][l][("output_k_as_v" if key_v == "k" else "output") + suffix]
                np.testing.assert_allclose(w.ravel(), want_w, atol=1e-6, err_msg=name)
                np.testing.assert_allclose(out.ravel(), want_out, atol=1e-5, err_msg=name)
        self.assertNotIn("layers.0.v", read_safetensors(self.file("qkv_no_v.safetensors"))[1])
        z = np.load(self.file("qkv.npz"))
        _, _, t, _, _ = read_safetensors(self.file("qkv.safetensors"))
        for name, arr in t.items():
            np.testing.assert_array_equal(z[name], arr)

    def test_attention_files_hold_the_weights(self):
        e = self.exp
        w = [self.weights(l) for l in range(e["L"])]
        np.testing.assert_array_equal(np.load(self.file("attn_stack.npy")), np.stack(w)[:, None])
        z = np.load(self.file("attn_layers.npz"))
        _, _, t, _, _ = read_safetensors(self.file("attn.safetensors"))
        for l in range(e["L"]):
            np.testing.assert_array_equal(z[f"attentions.{l}"], w[l])
            np.testing.assert_array_equal(t[f"attentions.{l}"], w[l])

        def load(name):
            with open(self.file(name), encoding="utf-8") as f:
                return json.load(f)
        cv, bv, ins, t2t = (load(n) for n in ("circuitsvis.json", "bertviz.json",
                                               "inspectus.json", "t2t.json"))
        np.testing.assert_array_equal(np.array(cv["attention"], np.float32), w[0])
        np.testing.assert_array_equal(np.array(bv["attention"], np.float32), np.stack(w)[:, None])
        np.testing.assert_array_equal(np.array(ins["attn"], np.float32), np.stack(w))
        np.testing.assert_array_equal(np.array(t2t["attention"], np.float32), np.stack(w)[:, None])
        for obj in (cv, bv, t2t):
            self.assertEqual(obj["tokens"], e["tokens"])
        self.assertEqual((ins["query_tokens"], ins["key_tokens"]), (e["tokens"], e["tokens"]))
        scores = np.load(self.file("scores_layer0.npy")).astype(np.float64)
        self.assertTrue(np.isneginf(scores[0, 0, 1:]).all())
        soft = np.exp(scores - scores.max(-1, keepdims=True))
        np.testing.assert_allclose(soft / soft.sum(-1, keepdims=True), w[0], atol=1e-6)

    def test_encoder_decoder(self):
        x = self.exp["encdec"]
        with open(self.file("bertviz_encdec.json"), encoding="utf-8") as f:
            obj = json.load(f)
        self.assertEqual(obj["encoder_tokens"], x["encoder_tokens"])
        self.assertEqual(obj["decoder_tokens"], x["decoder_tokens"])
        for part in ("encoder", "decoder", "cross"):
            shape = x[part + "_shape"]
            got = np.array(obj[part + "_attention"], np.float32)
            self.assertEqual(got.shape, (x["L"], 1, *shape))
            for l in range(x["L"]):
                np.testing.assert_array_equal(got[l, 0].ravel(), np.float32(x[part][l]))
                np.testing.assert_allclose(got[l, 0].sum(-1), 1, atol=1e-6)
        dec = np.array(obj["decoder_attention"])[:, 0]
        self.assertTrue((dec[..., np.triu_indices(4, 1)[0], np.triu_indices(4, 1)[1]] == 0).all())
        self.assertTrue((np.array(obj["encoder_attention"]) > 0).all())  # bidirectional


if __name__ == "__main__":
    unittest.main()
