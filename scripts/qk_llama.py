"""Pieces shared by the training scripts of the built-in models (train_induction.py,
train_sotu_llama.py): the F16 safetensors writer and reader and the Llama building blocks
(RoPE tables in the Hugging Face half-split layout, rotate_half, RMSNorm)."""
import json
import struct

import numpy as np
import torch


def write_safetensors(path, entries, metadata):
    """entries: {name: (dtype, shape, raw bytes)}. Names sorted, data contiguous in that order."""
    header = {'__metadata__': metadata}
    off = 0
    names = sorted(entries)
    for name in names:
        dtype, shape, raw = entries[name]
        assert dtype == 'F16' and len(raw) == 2 * int(np.prod(shape, dtype=np.int64))
        header[name] = {'dtype': dtype, 'shape': list(shape), 'data_offsets': [off, off + len(raw)]}
        off += len(raw)
    hb = json.dumps(header, separators=(',', ':')).encode('utf-8')
    hb += b' ' * ((8 - len(hb) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(hb)))
        f.write(hb)
        for name in names:
            f.write(entries[name][2])


def read_safetensors_f16(path):
    """Independent reader (validates the layout) -> {name: float32 tensor}."""
    with open(path, 'rb') as f:
        buf = f.read()
    (n,) = struct.unpack('<Q', buf[:8])
    assert n % 8 == 0 and 8 + n <= len(buf)
    header = json.loads(buf[8:8 + n].decode('utf-8'))
    assert header.pop('__metadata__') == {'format': 'pt'}
    assert list(header) == sorted(header)
    data, pos, out = buf[8 + n:], 0, {}
    for k, h in sorted(header.items(), key=lambda kv: kv[1]['data_offsets'][0]):
        b, e = h['data_offsets']
        assert b == pos and h['dtype'] == 'F16' and e - b == 2 * int(np.prod(h['shape'], dtype=np.int64))
        pos = e
        a = np.frombuffer(data[b:e], dtype='<f2').astype(np.float32).reshape(h['shape'])
        out[k] = torch.from_numpy(a.copy())
    assert pos == len(data)
    return out


def rope_tables(n, hd, theta):
    inv_freq = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    ang = torch.arange(n, dtype=torch.float32)[:, None] * inv_freq[None, :]
    emb = torch.cat([ang, ang], dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def r4(x):
    return float(round(float(x), 4))
