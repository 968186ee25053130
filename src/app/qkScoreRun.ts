import { LETTERS, formatPrompt, headAccuracy, locateOptions, qkReadout, type HeadAccuracy, type LayerReadout, type McqaQuestion } from '../methods/positional/qkscore';
import type { TextTokenizer } from '../models/tokenizer';
import { modelClient, type LoadedCheckpoint } from './modelLoader';

/**
 * Token ids that can stand for each answer letter after "Answer:" (" A" and "A", where the
 * tokenizer makes either a single token). A letter with none cannot be read from the logits.
 */
export function letterIds(tok: TextTokenizer): number[][] {
  return LETTERS.map((L) => [` ${L}`, L].map((s) => tok.encode(s).ids).filter((ids) => ids.length === 1).map((ids) => ids[0]));
}

/** The model's own answer: the letter whose best token has the largest logit, with the softmax over the four. */
export function modelAnswer(lastLogits: ArrayLike<number>, letters: number[][]): { pick: number; probs: number[] } | null {
  if (letters.some((ids) => ids.length === 0)) return null;
  const best = letters.map((ids) => Math.max(...ids.map((i) => lastLogits[i])));
  const m = Math.max(...best);
  const z = best.reduce((a, x) => a + Math.exp(x - m), 0);
  const probs = best.map((x) => Math.exp(x - m) / z);
  return { pick: probs.indexOf(Math.max(...probs)), probs };
}

/** The outcome of a question set: per-head accuracies and the model's own accuracy. */
export interface QuestionSetResult {
  n: number;
  accuracy: HeadAccuracy;
  /** The model's accuracy from its letter logits (null when a letter has no token). */
  modelAccuracy: number | null;
  /** Questions whose option lines end inside a merged token (§11 [U]). */
  inexact: number;
}

/**
 * Runs every question of a set through the loaded model in the worker (the page's view stays as
 * it is) and scores every head: QK-score (pre-RoPE unless `postRope`) and Attention Score.
 */
export async function runQuestionSet(model: LoadedCheckpoint, questions: McqaQuestion[], opts: { postRope?: boolean; onProgress?: (done: number) => void; cancelled?: () => boolean } = {}): Promise<QuestionSetResult> {
  const client = modelClient();
  if (!client) throw new Error('the compute client is not ready');
  const tok = model.tokenizer;
  if (!tok) throw new Error('the model came without tokenizer.json, so it cannot read a question');
  const asked = questions.filter((q) => q.answer);
  if (asked.length === 0) throw new Error('no question has an answer to score against');
  const letters = letterIds(tok);
  const readouts: LayerReadout[][] = [];
  const answers: number[] = [];
  let right = 0;
  let inexact = 0;
  const canAnswer = letters.every((ids) => ids.length > 0);
  for (let i = 0; i < asked.length; i++) {
    if (opts.cancelled?.()) throw new Error('cancelled');
    const q = asked[i];
    const ids = tok.encode(formatPrompt(q)).ids;
    const tokens = ids.map((id) => tok.decode([id]));
    const at = locateOptions(tokens);
    if (at.exact.some((e) => !e)) inexact++;
    const r = await client.runModel(ids);
    readouts.push(qkReadout(r.layers, at, { postRope: opts.postRope }));
    const answer = LETTERS.indexOf(q.answer!);
    answers.push(answer);
    if (canAnswer && r.logits) {
      const a = modelAnswer(r.logits.data.subarray(r.logits.data.length - model.info.config.vocab), letters);
      if (a && a.pick === answer) right++;
    }
    opts.onProgress?.(i + 1);
  }
  return { n: asked.length, accuracy: headAccuracy(readouts, answers), modelAccuracy: canAnswer ? right / asked.length : null, inexact };
}
