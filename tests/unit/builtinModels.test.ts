import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { fileFromBytes, loadModel, runModel, type LoadedModel } from '../../src/index';
import { mulberry32 } from '../../src/core/prng';
import { LETTERS, formatPrompt, headAccuracy, locateOptions, parseQuestionSet, qkReadout } from '../../src/methods/positional/qkscore';
import { letterIds, modelAnswer } from '../../src/app/qkScoreRun';

// The built-in models in public/models, trained by committed scripts (scripts/train_*.py) and
// described by their model cards: they load through the same code as a user's checkpoint, and
// the heads their cards name behave so on inputs the training and the card's analysis never saw.
const ROOT = join(import.meta.dirname, '..', '..', 'public', 'models');
const INDEX = JSON.parse(readFileSync(join(ROOT, 'index.json'), 'utf8')) as { models: { id: string; label: string; description: string }[] };

async function load(id: string): Promise<LoadedModel> {
  const dir = join(ROOT, id);
  const files = readdirSync(dir)
    .filter((n) => !n.startsWith('step-'))
    .map((n) => fileFromBytes(n, new Uint8Array(readFileSync(join(dir, n)))));
  return loadModel(files, { backend: 'cpu' });
}

/** Mean attention of each head from position i to position f(i), over the given query positions. */
function headScores(weights: { shape: number[]; data: Float32Array }, rows: number[], target: (i: number) => number): number[] {
  const [H, N] = weights.shape;
  return Array.from({ length: H }, (_, h) => rows.reduce((a, i) => a + weights.data[(h * N + i) * N + target(i)], 0) / rows.length);
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('built-in models', () => {
  it('every listed model ships its card, config, weights and a timeline of at least six checkpoints', () => {
    expect(INDEX.models.length).toBeGreaterThan(0);
    for (const m of INDEX.models) {
      for (const f of ['MODEL_CARD.md', 'config.json', 'model.safetensors', 'timeline.json', 'heads.json']) expect(existsSync(join(ROOT, m.id, f)), `${m.id}/${f}`).toBe(true);
      const tl = JSON.parse(readFileSync(join(ROOT, m.id, 'timeline.json'), 'utf8')) as { step: number; file: string }[];
      expect(tl.length, `${m.id} timeline`).toBeGreaterThanOrEqual(6);
      for (const s of tl) expect(existsSync(join(ROOT, m.id, s.file)), `${m.id}/${s.file}`).toBe(true);
      expect(tl.map((s) => s.step)).toEqual([...tl.map((s) => s.step)].sort((a, b) => a - b));
    }
  });

  it('induction-tiny: on fresh repeated sequences its named previous-token and induction heads do what the card says', async () => {
    const heads = JSON.parse(readFileSync(join(ROOT, 'induction-tiny', 'heads.json'), 'utf8')) as {
      previous_token: [number, number][];
      induction: [number, number][];
      threshold: number;
      task: { bos_id: number; length: number; min_id: number; max_id: number; segment_length: number };
    };
    const t = heads.task;
    expect(heads.previous_token.length).toBeGreaterThan(0);
    expect(heads.induction.length).toBeGreaterThan(0);
    const model = await load('induction-tiny');
    try {
      // The card's task, drawn here with a seed neither the training nor the card's analysis used.
      const rand = mulberry32(20261128);
      const sum = { prev: [] as number[][], ind: [] as number[][] };
      const S = 20;
      for (let n = 0; n < S; n++) {
        const seg = Array.from({ length: t.segment_length }, () => t.min_id + Math.floor(rand() * (t.max_id - t.min_id + 1)));
        const ids = [t.bos_id, ...Array.from({ length: t.length - 1 }, (_, i) => seg[i % t.segment_length])];
        const r = await runModel(model, ids);
        r.layers.forEach((l, li) => {
          const prev = headScores(l!.weights, Array.from({ length: t.length - 1 }, (_, i) => i + 1), (i) => i - 1);
          // The token after the earlier occurrence of the current one: i − L + 1.
          const ind = headScores(l!.weights, Array.from({ length: t.length - 1 - t.segment_length }, (_, i) => i + t.segment_length + 1), (i) => i - t.segment_length + 1);
          prev.forEach((v, h) => ((sum.prev[li] ??= [])[h] = (sum.prev[li]?.[h] ?? 0) + v / S));
          ind.forEach((v, h) => ((sum.ind[li] ??= [])[h] = (sum.ind[li]?.[h] ?? 0) + v / S));
        });
        // It copies: the second half is predicted from the first.
        const V = model.info.config.vocab;
        let right = 0;
        for (let i = t.segment_length + 1; i < t.length - 1; i++) {
          const row = r.logits!.data.subarray(i * V, (i + 1) * V);
          if (row.indexOf(Math.max(...row)) === ids[i + 1]) right++;
        }
        expect(right / (t.length - 2 - t.segment_length)).toBeGreaterThan(0.9);
      }
      for (const [l, h] of heads.previous_token) expect(sum.prev[l][h], `previous-token head ${l}.${h}`).toBeGreaterThan(heads.threshold);
      for (const [l, h] of heads.induction) expect(sum.ind[l][h], `induction head ${l}.${h}`).toBeGreaterThan(heads.threshold);
      // Layer 0 does not copy (only layer 1 can, from what layer 0 wrote): no induction head there.
      expect(Math.max(...sum.ind[0])).toBeLessThan(heads.threshold);
    } finally {
      model.dispose();
    }
  });

  it('sotu-llama: a Llama-style GQA model with its tokenizer; its named previous-token heads attend to the previous token on new text', async () => {
    const heads = JSON.parse(readFileSync(join(ROOT, 'sotu-llama', 'heads.json'), 'utf8')) as { previous_token: [number, number][]; induction: [number, number][]; thresholds: { previous_token: number } };
    const model = await load('sotu-llama');
    try {
      const c = model.info.config;
      expect(c).toMatchObject({ modelType: 'llama', heads: 6, kvHeads: 2, family: 'llama' });
      expect(c.heads).toBeGreaterThan(c.kvHeads); // grouped-query attention
      expect(model.tokenizer).not.toBeNull();
      // Sentences written for this test, not from the speeches.
      const text = 'When Mary and John went to the store, John gave a drink to Mary. The Congress of the United States has the power to lay and collect taxes, to pay the debts and provide for the common defense and general welfare of the nation. We must keep faith with the people who sent us here.';
      const r = await runModel(model, text);
      expect(r.tokens.join('')).toBe(text);
      const N = r.ids.length;
      const rows = Array.from({ length: N - 1 }, (_, i) => i + 1);
      const scores = r.layers.map((l) => headScores(l!.weights, rows, (i) => i - 1));
      expect(heads.previous_token.length).toBeGreaterThan(0);
      // The clearest named head passes the card's threshold; every named one is far above uniform
      // attention (about 0.05 here) and above every head of layer 0, which the card names none of.
      const [l0, h0] = heads.previous_token[0];
      expect(scores[l0][h0]).toBeGreaterThanOrEqual(heads.thresholds.previous_token);
      for (const [l, h] of heads.previous_token) {
        expect(scores[l][h], `head ${l}.${h}`).toBeGreaterThan(0.3);
        expect(scores[l][h]).toBeGreaterThan(Math.max(...scores[0]));
      }
      // The card says no induction head formed: none is claimed.
      expect(heads.induction).toEqual([]);
      // The model predicts text better than chance: the next token after "the United" is likely " States".
      const u = await runModel(model, 'The Congress of the United');
      const V = c.vocab;
      const last = u.logits!.data.subarray((u.ids.length - 1) * V, u.ids.length * V);
      const best = last.indexOf(Math.max(...last));
      expect(model.tokenizer!.decode([best])).toBe(' States');
    } finally {
      model.dispose();
    }
  });

  it('mcqa-tiny: scored by the app\'s own Sec. 11 code on its 500 held-out questions, the named select-and-copy head reaches the card\'s accuracy, and every head matches heads.json', async () => {
    const heads = JSON.parse(readFileSync(join(ROOT, 'mcqa-tiny', 'heads.json'), 'utf8')) as { select_and_copy: [number, number][]; threshold: number; qk_accuracy: number[][]; attn_accuracy: number[][]; model_accuracy: number };
    const set = parseQuestionSet(readFileSync(join(ROOT, 'mcqa-tiny', 'questions.json'), 'utf8'), 'questions.json');
    expect(set).toHaveLength(500);
    const model = await load('mcqa-tiny');
    try {
      expect(model.info.config).toMatchObject({ modelType: 'llama', layers: 3, heads: 4, kvHeads: 2 });
      const readouts = [];
      let right = 0;
      const letters = letterIds(model.tokenizer!);
      const V = model.info.config.vocab;
      for (const q of set) {
        const r = await runModel(model, formatPrompt(q), { logits: true });
        const at = locateOptions(r.tokens);
        expect(at.exact).toEqual([true, true, true, true]); // "\n" is its own token
        readouts.push(qkReadout(r.layers.map((l) => l!), at));
        if (modelAnswer(r.logits!.data.subarray((r.ids.length - 1) * V, r.ids.length * V), letters)!.pick === LETTERS.indexOf(q.answer!)) right++;
      }
      const acc = headAccuracy(readouts, set.map((q) => LETTERS.indexOf(q.answer!)));
      // In layer 0 the four line ends are the same token and, before RoPE, have the same key: the
      // QK-scores tie exactly and the first option wins (Sec. 11), so those heads score the share
      // of questions whose answer is A. (PyTorch's batched float32 breaks some of those ties by
      // rounding noise, so heads.json's layer-0 QK numbers are not compared.)
      const shareA = set.filter((q) => q.answer === 'A').length / set.length;
      acc.qk[0].forEach((a) => expect(a).toBeCloseTo(shareA, 10));
      // Float32 here, PyTorch's float32 there: a near-tie may flip a question or two, no more.
      acc.qk.slice(1).forEach((row, l) => row.forEach((a, h) => expect(Math.abs(a - heads.qk_accuracy[l + 1][h]), `QK L${l + 1}H${h}`).toBeLessThanOrEqual(0.006)));
      acc.att.forEach((row, l) => row.forEach((a, h) => expect(Math.abs(a - heads.attn_accuracy[l][h]), `Att L${l}H${h}`).toBeLessThanOrEqual(0.006)));
      expect(Math.abs(right / set.length - heads.model_accuracy)).toBeLessThanOrEqual(0.006);
      expect(heads.select_and_copy.length).toBeGreaterThan(0);
      const flat = acc.qk.flat().sort((a, b) => b - a);
      for (const [l, h] of heads.select_and_copy) {
        expect(acc.qk[l][h]).toBeGreaterThanOrEqual(heads.threshold);
        expect(acc.qk[l][h]).toBe(flat[0]);
      }
      // The named head is clearly above the rest: the runner-up is far below the threshold.
      expect(flat[heads.select_and_copy.length]).toBeLessThan(heads.threshold - 0.3);
    } finally {
      model.dispose();
    }
  }, 120_000);
});
