import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeModelSummaryStore } from '../../stories/ModelSummary.stories';
import { architectureRows } from '../../src/views/model/ModelSummary';
import { topNext } from '../../src/app/modelLoader';
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
