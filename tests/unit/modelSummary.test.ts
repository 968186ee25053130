import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeModelSummaryStore } from '../../stories/ModelSummary.stories';
import { architectureRows } from '../../src/views/model/ModelSummary';
import { refuseTooLarge, topNext } from '../../src/app/modelLoader';
import { inspectCheckpoint, type ModelFile } from '../../src/models/checkpoint';
import { expectedTensors } from '../../src/models/config';
import { safetensorsHeader } from '../../src/io/safetensors';
import { parseConfig, parameterCount } from '../../src/models/config';
import { DEFAULT_LINK } from '../../src/state/defaults';
import { decodeState, isBlankLink } from '../../src/state/urlCodec';

const ROOT = join(import.meta.dirname, '..', '..');
const json = (p: string) => JSON.parse(readFileSync(join(ROOT, p), 'utf8'));

describe('model summary panel', () => {
  it('the stories build a store holding the built-in model summary, named heads scored at the step shown', () => {
    const heads = json('public/models/sotu-llama/heads.json');
    const timeline = json('public/models/sotu-llama/timeline.json');
    for (const step of [0, timeline.length - 1]) {
      const s = makeModelSummaryStore(step).getState().imported!.checkpoint!.summary;
      expect(s.builtin!.heads.map((h) => [h.layer, h.head])).toEqual([...heads.previous_token, ...heads.induction]);
      const [l, h] = heads.previous_token[0];
      expect(s.builtin!.heads[0].score).toBe(timeline[step].prev_token_score[l][h]);
      expect(s.builtin!.trainingStep).toBe(timeline[step].step);
    }
  });

  it('architecture rows in words: grouped-query heads, attention-only MLP, GPT-2 positions', () => {
    const llama = parseConfig(json('public/models/sotu-llama/config.json'));
    const base = { name: 'x', parameters: parameterCount(llama), dtypes: ['F16'], diskBytes: 1, loadedBytes: 2, tokenizerVocab: null, unused: [], backend: 'cpu', ms: 1, tokens: 1, next: [], builtin: null };
    const rows = Object.fromEntries(architectureRows({ ...base, config: llama }));
    expect(rows.heads).toBe('6 query heads over 2 K/V heads (3 per group, grouped-query)');
    expect(rows.MLP).toBe(`SwiGLU, width ${llama.intermediate}`);
    expect(rows.tokenizer).toBe('none: the model reads token ids');
    expect(Object.fromEntries(architectureRows({ ...base, config: { ...llama, intermediate: 0 } })).MLP).toBe('none (attention-only)');
    const gpt2 = parseConfig(json('tests/fixtures/models/gpt2-tiny/config.json'));
    expect(Object.fromEntries(architectureRows({ ...base, config: gpt2 })).positions).toBe(`learned, ${gpt2.maxPositions}`);
  });

  it('topNext: the k likeliest ids with softmax probabilities, ties by id', () => {
    const t = topNext([0, Math.log(3), Math.log(3), Math.log(2)], 3);
    expect(t.map((x) => x.id)).toEqual([1, 2, 3]);
    expect(t[0].p).toBeCloseTo(3 / 9, 12);
    expect(t[2].p).toBeCloseTo(2 / 9, 12);
  });

  it('a bare address opens the default link: the built-in model on the first previous-token head its card names', () => {
    expect(isBlankLink('')).toBe(true);
    expect(isBlankLink('?worker=0&fail=webgl')).toBe(true);
    expect(isBlankLink('?v=1')).toBe(false);
    const d = decodeState(DEFAULT_LINK);
    expect(d.messages).toEqual([]);
    const heads = json('public/models/sotu-llama/heads.json');
    expect(d.inputs.source.model?.id).toBe('sotu-llama');
    expect([d.inputs.source.layer, d.inputs.view.head]).toEqual(heads.previous_token[0]);
  });
});

describe('a checkpoint too large for the page', () => {
  it('is refused from its headers alone, with its size and the limit, before any weight is read', async () => {
    // A GPT-2-XL-shaped checkpoint (1.56 B parameters, F16): only config.json and the
    // safetensors header exist; reading any weight byte would throw.
    const cfg = { model_type: 'gpt2', n_layer: 48, n_head: 25, n_embd: 1600, vocab_size: 50257, n_positions: 1024 };
    const { header: head, dataBytes: at } = safetensorsHeader(expectedTensors(parseConfig(cfg)).map((t) => ({ name: t.name, dtype: 'F16' as const, shape: t.shape })));
    const reads: [number, number][] = [];
    const weights: ModelFile = {
      name: 'model.safetensors',
      size: head.length + at,
      read: async (b, e) => {
        reads.push([b, e]);
        if (e > head.length) throw new Error(`read weight bytes ${b}..${e}`);
        return head.subarray(b, e);
      },
    };
    const config: ModelFile = { name: 'config.json', size: 0, read: async () => new TextEncoder().encode(JSON.stringify(cfg)) };
    const info = await inspectCheckpoint([config, weights]);
    expect(info.parameters).toBeGreaterThan(1.5e9);
    expect(() => refuseTooLarge('gpt2-xl', info)).toThrow(/^gpt2-xl: gpt2: 48 layers, 25 heads of d = 64.*1\.56 B parameters, F16 2\.9\d GiB on disk, 5\.8\d GiB as float32 on the backend\. That is more than the 1\.50 GiB this page loads/);
    expect(reads.every(([, e]) => e <= head.length)).toBe(true);
    // A small model passes the same check.
    expect(() => refuseTooLarge('tiny', { ...info, loadedBytes: 1e6 })).not.toThrow();
  });
});
