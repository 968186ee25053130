import { beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { fileFromBytes, inspectCheckpoint, readWeights, type ModelFile } from '../../src/models/checkpoint';
import { ModelError, expectedTensors, parameterCount, parseConfig } from '../../src/models/config';
import { createModel, forward, ropeTables } from '../../src/compute/forward';
import { ropeInvFreq, ropeRotate } from '../../src/core/rope';
import { maxAbsDiff } from './goldens';
import { loadTokenizer } from '../../src/models/tokenizer';
import { loadModel, runModel } from '../../src/index';

// Written by scripts/make_model_goldens.py: tiny random-weight checkpoints in the Hugging Face
// layout and the captures of an independent PyTorch implementation of each architecture.
const ROOT = join(import.meta.dirname, '..', '..');
const G = JSON.parse(readFileSync(join(ROOT, 'tests', 'golden', 'models.json'), 'utf8')) as {
  rope_vectors: { hd: number; theta: number; x: number[]; inv_freq: number[]; positions: { position: number; cos: number[]; sin: number[]; rotated: number[] }[] };
  models: { name: string; dir: string; config: Record<string, unknown>; ids: number[]; layers: Record<'q_pre' | 'k_pre' | 'q' | 'k' | 'v' | 'scores' | 'weights' | 'head_out' | 'hidden_out', number[]>[]; logits: number[] }[];
};

function filesOf(dir: string): ModelFile[] {
  return readdirSync(join(ROOT, dir)).map((n) => fileFromBytes(n, new Uint8Array(readFileSync(join(ROOT, dir, n)))));
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('RoPE tables (§12.1) against the PyTorch vectors', () => {
  it('inv_freq, cos and sin at positions 0, 1, 5 and the rotated vector (half-split)', () => {
    const v = G.rope_vectors;
    expect(maxAbsDiff(ropeInvFreq(v.hd, v.theta), v.inv_freq)).toBeLessThanOrEqual(1e-7);
    const N = Math.max(...v.positions.map((p) => p.position)) + 1;
    const t = ropeTables(N, v.hd, v.theta);
    const out = new Float32Array(v.hd);
    for (const p of v.positions) {
      expect(maxAbsDiff(t.cos.subarray(p.position * v.hd, (p.position + 1) * v.hd), p.cos)).toBeLessThanOrEqual(1e-6);
      expect(maxAbsDiff(t.sin.subarray(p.position * v.hd, (p.position + 1) * v.hd), p.sin)).toBeLessThanOrEqual(1e-6);
      ropeRotate(v.x, 0, v.hd, p.position, ropeInvFreq(v.hd, v.theta), out);
      expect(maxAbsDiff(out, p.rotated)).toBeLessThanOrEqual(1e-5);
    }
  });
});

describe('checkpoints in the Hugging Face layout, through the loader and the tfjs forward pass', () => {
  for (const m of G.models) {
    it(`${m.name}: every layer's Q/K before and after RoPE, V, scores, weights, head outputs and the logits within 1e-4`, async () => {
      const info = await inspectCheckpoint(filesOf(m.dir));
      expect(info.config.modelType).toBe(m.config.model_type);
      expect(info.unused).toEqual([]);
      const weights = await readWeights(info);
      const before = tf.memory().numTensors;
      const model = createModel(info.config, weights);
      try {
        const r = await forward(model, m.ids);
        expect(r.layers).toHaveLength(m.layers.length);
        m.layers.forEach((g, l) => {
          const c = r.layers[l]!;
          const pairs: [string, Float32Array, number[]][] = [
            ['q_pre', c.qPre.data, g.q_pre],
            ['k_pre', c.kPre.data, g.k_pre],
            ['q', c.q.data, g.q],
            ['k', c.k.data, g.k],
            ['v', c.v.data, g.v],
            ['scores', c.scores.data, g.scores],
            ['weights', c.weights.data, g.weights],
            ['head_out', c.headOut.data, g.head_out],
            ['hidden_out', c.hiddenOut.data, g.hidden_out],
          ];
          for (const [name, got, want] of pairs) expect(maxAbsDiff(got, want), `${m.name} layer ${l} ${name}`).toBeLessThanOrEqual(1e-4);
        });
        expect(maxAbsDiff(r.logits!.data, m.logits), `${m.name} logits`).toBeLessThanOrEqual(1e-4);
        // Only the asked-for layer is read back.
        const one = await forward(model, m.ids, { capture: [1], logits: false });
        expect(one.layers[0]).toBeUndefined();
        expect(maxAbsDiff(one.layers[1]!.weights.data, m.layers[1].weights)).toBeLessThanOrEqual(1e-4);
      } finally {
        model.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('reports the architecture, parameters and memory before reading any weight', async () => {
    const reads: [string, number, number][] = [];
    const files = filesOf('tests/fixtures/models/llama-tiny').map((f) => ({ ...f, read: (b: number, e: number) => (reads.push([f.name, b, e]), f.read(b, e)) }));
    const info = await inspectCheckpoint(files);
    expect(info.config).toMatchObject({ modelType: 'llama', layers: 2, heads: 4, kvHeads: 2, headDim: 8, tiedEmbeddings: false });
    expect(info.parameters).toBe(96 * 32 * 2 + 2 * (32 + 32 * 32 + 2 * 16 * 32 + 32 * 32 + 32 + 3 * 64 * 32) + 32);
    expect(info.loadedBytes).toBe(4 * info.parameters);
    // Only the index, the config and each shard's header were read.
    for (const [name, b, e] of reads) if (name.endsWith('.safetensors')) expect(b === 0 && e < 4096).toBe(true);
    const bf = await inspectCheckpoint(filesOf('tests/fixtures/models/llama-tiny-bf16'));
    expect(bf.dtypes).toEqual(['BF16']);
    expect(bf.diskBytes).toBe(2 * bf.parameters);
  });
});

describe('attention-only Llama (intermediate_size 0, as the built-in induction model)', () => {
  it('expects no MLP and no post-attention norm, and GPT-2 does not take n_inner 0', async () => {
    const base = JSON.parse(readFileSync(join(ROOT, 'tests/fixtures/models/llama-tiny-f16/config.json'), 'utf8'));
    const full = parseConfig(base);
    const attnOnly = parseConfig({ ...base, intermediate_size: 0 });
    const names = expectedTensors(attnOnly).map((t) => t.name);
    expect(names.some((n) => /mlp|post_attention_layernorm/.test(n))).toBe(false);
    expect(names).toContain('model.layers.0.self_attn.o_proj.weight');
    // Per layer the MLP (3 · hidden · intermediate) and its norm (hidden) are gone.
    expect(parameterCount(full) - parameterCount(attnOnly)).toBe(full.layers * (3 * full.hidden * full.intermediate + full.hidden));
    expect(() => parseConfig({ ...base, intermediate_size: -1 })).toThrow(/"intermediate_size" must be a whole number from 0/);
    const gpt2 = JSON.parse(readFileSync(join(ROOT, 'tests/fixtures/models/gpt2-tiny/config.json'), 'utf8'));
    expect(() => parseConfig({ ...gpt2, n_inner: 0 })).toThrow(/"n_inner" must be a whole number from 1/);
  });
});

describe('bad checkpoints get a message naming the file and the problem', () => {
  const llama = () => filesOf('tests/fixtures/models/llama-tiny-f16');
  const replace = (files: ModelFile[], name: string, bytes: Uint8Array | null) => (bytes ? files.map((f) => (f.name === name ? fileFromBytes(name, bytes) : f)) : files.filter((f) => f.name !== name));
  const enc = (s: string) => new TextEncoder().encode(s);
  const cfg = () => JSON.parse(readFileSync(join(ROOT, 'tests/fixtures/models/llama-tiny-f16/config.json'), 'utf8'));

  it('config.json missing, not JSON, or of an unsupported architecture', async () => {
    await expect(inspectCheckpoint(replace(llama(), 'config.json', null))).rejects.toThrow(/config.json: is missing: a checkpoint needs config.json/);
    await expect(inspectCheckpoint(replace(llama(), 'config.json', enc('{"model_type": llama')))).rejects.toThrow(/config.json: is not valid JSON/);
    await expect(inspectCheckpoint(replace(llama(), 'config.json', enc(JSON.stringify({ ...cfg(), model_type: 'bert' }))))).rejects.toThrow(/model_type "bert" is not supported: QK Scope runs gpt2, llama, mistral, qwen2/);
    await expect(inspectCheckpoint(replace(llama(), 'config.json', enc(JSON.stringify({ ...cfg(), num_key_value_heads: 3 }))))).rejects.toThrow(/num_attention_heads 4 is not a multiple of num_key_value_heads 3/);
    expect(() => parseConfig({ ...cfg(), hidden_size: 'wide' })).toThrow(/"hidden_size" must be a whole number/);
  });

  it('weights missing, truncated, of the wrong shape or a shard not given', async () => {
    await expect(inspectCheckpoint(replace(llama(), 'model.safetensors', null))).rejects.toThrow(/model.safetensors: is missing/);
    const bytes = new Uint8Array(readFileSync(join(ROOT, 'tests/fixtures/models/llama-tiny-f16/model.safetensors')));
    await expect(inspectCheckpoint(replace(llama(), 'model.safetensors', bytes.subarray(0, 2000)))).rejects.toThrow(/model.safetensors: .*(truncated|ends at byte)/);
    await expect(inspectCheckpoint(replace(llama(), 'config.json', enc(JSON.stringify({ ...cfg(), intermediate_size: 48 }))))).rejects.toThrow(/tensor "model.layers.0.mlp.gate_proj.weight" has shape \[64, 32\], but config.json implies \[48, 32\]/);
    const sharded = filesOf('tests/fixtures/models/llama-tiny').filter((f) => f.name !== 'model-00002-of-00002.safetensors');
    await expect(inspectCheckpoint(sharded)).rejects.toThrow(/model.safetensors.index.json: names shard model-00002-of-00002.safetensors that was not given/);
    const e = await inspectCheckpoint(replace(llama(), 'config.json', enc(JSON.stringify({ ...cfg(), num_hidden_layers: 3 })))).catch((x) => x);
    expect(e).toBeInstanceOf(ModelError);
    expect(e.message).toMatch(/has no tensor "model.layers.2.input_layernorm.weight"/);
  });
});

// Written by scripts/make_tokenizer_fixture.py: a tiny byte-level BPE tokenizer.json and the
// encodings of an independent Python BPE (GPT-2's pre-tokenizer and merge order).
describe('tokenizer.json through @huggingface/tokenizers', () => {
  const dir = join(ROOT, 'tests/fixtures/models/tokenizer-tiny');
  const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
  const config = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
  const T = JSON.parse(readFileSync(join(ROOT, 'tests/golden/tokenizer.json'), 'utf8')) as { vocab_size: number; cases: { text: string; ids: number[]; tokens: string[] }[] };

  it('encodes every case as the reference does, and decodes back to the text', () => {
    const tok = loadTokenizer(json, config, 96);
    expect(tok.vocabSize).toBe(T.vocab_size);
    expect(T.cases.length).toBeGreaterThanOrEqual(8);
    for (const c of T.cases) {
      const e = tok.encode(c.text);
      expect(e.ids, JSON.stringify(c.text)).toEqual(c.ids);
      expect(e.tokens, JSON.stringify(c.text)).toEqual(c.tokens);
      expect(tok.decode(e.ids)).toBe(c.text);
    }
  });

  it('refuses a tokenizer whose ids do not fit the model, or that is not a tokenizer.json', () => {
    expect(() => loadTokenizer(json, config, 64)).toThrow(/tokenizer.json: can produce ids up to 95, but config.json has vocab_size 64: the tokenizer does not belong to this model/);
    expect(() => loadTokenizer({ version: '1.0' }, config)).toThrow(/has no "model" with a "type"/);
    expect(() => loadTokenizer([1, 2], config)).toThrow(/must be a JSON object/);
  });

  it('loadModel with a tokenizer runs text through a checkpoint; without one it asks for ids', async () => {
    const files = [...filesOf('tests/fixtures/models/gpt2-tiny'), ...filesOf('tests/fixtures/models/tokenizer-tiny')];
    const model = await loadModel(files, { backend: 'cpu' });
    try {
      const r = await runModel(model, 'the cat sat', { capture: [0] });
      expect(r.tokens.join('')).toBe('the cat sat');
      expect(r.ids).toEqual(model.tokenizer!.encode('the cat sat').ids);
      expect(r.layers[0]!.weights.shape).toEqual([4, r.ids.length, r.ids.length]);
      expect(r.layers[1]).toBeUndefined();
    } finally {
      model.dispose();
    }
    const bare = await loadModel(filesOf('tests/fixtures/models/qwen2-tiny'), { backend: 'cpu' });
    try {
      await expect(runModel(bare, 'the cat')).rejects.toThrow(/came without tokenizer.json: pass token ids/);
      const r = await runModel(bare, [5, 17, 3]);
      expect(r.tokens).toEqual(['#5', '#17', '#3']);
    } finally {
      bare.dispose();
    }
  });
});
