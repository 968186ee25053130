/**
 * QK-score and Attention Score of select-and-copy heads (ALGORITHMS.md §11, "Listening to the
 * Wise Few", arXiv 2410.02343; the computation as in the same group's follow-up code).
 *
 * For every layer l and query head h, with p_N the last prompt token and p_i the token that
 * ends option i's line (the `\n` of "X. <text>\n"):
 *   S_QK(i)  = q · k_i, q = q_proj output at p_N (pre-RoPE, no 1/√d), k_i = k_proj output at
 *              p_i of KV head κ(h) = floor(h / (H / Hkv));
 *   S_Att(i) = the model's causal softmax weight A[p_N, p_i] (post-RoPE, scale 1/√d);
 *   prediction = argmax_i, first index on ties.
 * Pure functions on `[H, N, d]` tensors; no tfjs.
 */
import type { Tensor } from '../../core/tensor';

export const LETTERS = ['A', 'B', 'C', 'D'] as const;
export type Letter = (typeof LETTERS)[number];

/** Where the scores are read: the last prompt token and each option's line end. */
export interface OptionPositions {
  pN: number;
  /** Token index of each option's line end, in option order A, B, C, D. */
  positions: number[];
  /**
   * Per option: true when that token decodes to text ending in `\n`. False when the tokenizer
   * merged the newline into a token with more text after it (§11 [U]: that token is used).
   */
  exact: boolean[];
}

/** A prompt the readout cannot read, with what was expected. */
export class McqaError extends Error {}

/**
 * Finds p_N and the option line ends on the real tokenization (`tokens` = each id decoded, in
 * order). The option lines are the last run of lines "A. …", "B. …", "C. …", "D. …", each ended
 * by a newline; p_N is the last token.
 */
export function locateOptions(tokens: readonly string[]): OptionPositions {
  if (tokens.length === 0) throw new McqaError('the prompt has no tokens');
  const starts: number[] = [];
  let text = '';
  for (const t of tokens) {
    starts.push(text.length);
    text += t;
  }
  const tokenAt = (ch: number) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= ch) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const re = /(?:^|\n)[ \t]*([A-D])\.[^\n]*\n/g;
  const found: { letter: string; end: number }[] = [];
  for (let m = re.exec(text); m; m = re.exec(text)) {
    found.push({ letter: m[1], end: m.index + m[0].length - 1 });
    re.lastIndex = m.index + m[0].length - 1; // the newline that ends a line may start the next
  }
  // The last A, B, C, D run in order.
  for (let i = found.length - 4; i >= 0; i--) {
    if (LETTERS.every((l, j) => found[i + j].letter === l)) {
      const positions = found.slice(i, i + 4).map((f) => tokenAt(f.end));
      const exact = positions.map((p) => tokens[p].endsWith('\n'));
      const pN = tokens.length - 1;
      if (positions[3] >= pN) throw new McqaError('the prompt ends at the options: it needs a last token after them (e.g. "Answer:")');
      return { pN, positions, exact };
    }
  }
  throw new McqaError('no option lines "A. …", "B. …", "C. …", "D. …" (each ending in a new line) were found in the prompt');
}

/** The prompt of one question, in the §11 zero-shot layout (context optional). */
export interface McqaQuestion {
  context?: string;
  question: string;
  options: string[];
  /** The right option's letter, when known. */
  answer?: Letter;
}

/**
 * `[Context: <c>\n]Question: <q>\nOptions:\nA. <a>\nB. <b>\nC. <c>\nD. <d>\nAnswer:` — the
 * layout of §11 (its exact wording is [U] for the 2024 paper).
 */
export function formatPrompt(q: McqaQuestion): string {
  const ctx = q.context ? `Context: ${q.context}\n` : '';
  return `${ctx}Question: ${q.question}\nOptions:\n${q.options.map((o, i) => `${LETTERS[i]}. ${o}\n`).join('')}Answer:`;
}

/**
 * The question a prompt in the layout of {@link formatPrompt} holds (no right answer: a prompt
 * does not say it), or null when the text is not such a prompt. `parsePrompt(formatPrompt(q))`
 * gives back `q` without its answer.
 */
export function parsePrompt(text: string): McqaQuestion | null {
  const m = /^(?:Context: ([^\n]*)\n)?Question: ([^\n]*)\nOptions:\nA\. ([^\n]*)\nB\. ([^\n]*)\nC\. ([^\n]*)\nD\. ([^\n]*)\nAnswer:$/.exec(text);
  if (!m) return null;
  return { ...(m[1] ? { context: m[1] } : {}), question: m[2], options: [m[3], m[4], m[5], m[6]] };
}

/** First index of the largest value. */
export function argmaxFirst(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

function dims(q: Tensor, k: Tensor) {
  const [H, N, d] = q.shape;
  const [Hkv, Nk, dk] = k.shape;
  if (dk !== d || Nk !== N) throw new McqaError(`q ${q.shape.join('×')} and k ${k.shape.join('×')} do not match`);
  if (H % Hkv) throw new McqaError(`${H} query heads cannot share ${Hkv} KV heads evenly`);
  return { H, Hkv, N, d, g: H / Hkv };
}

/** S_QK [H][options]: raw dot products of the query at p_N with each option's key (κ(h) = floor(h/g)). */
export function qkScores(q: Tensor, k: Tensor, pN: number, positions: readonly number[]): number[][] {
  const { H, N, d, g } = dims(q, k);
  return Array.from({ length: H }, (_, h) => {
    const kv = Math.floor(h / g);
    const qo = (h * N + pN) * d;
    return positions.map((p) => {
      const ko = (kv * N + p) * d;
      let s = 0;
      for (let c = 0; c < d; c++) s += q.data[qo + c] * k.data[ko + c];
      return s;
    });
  });
}

/** S_Att [H][options]: the causal softmax row of p_N (scale 1/√d unless given), read at each option's key. */
export function attentionScores(q: Tensor, k: Tensor, pN: number, positions: readonly number[], scale?: number | null): number[][] {
  const { H, N, d, g } = dims(q, k);
  const s = scale ?? 1 / Math.sqrt(d);
  return Array.from({ length: H }, (_, h) => {
    const kv = Math.floor(h / g);
    const qo = (h * N + pN) * d;
    const logits = new Float64Array(pN + 1);
    let max = -Infinity;
    for (let j = 0; j <= pN; j++) {
      const ko = (kv * N + j) * d;
      let x = 0;
      for (let c = 0; c < d; c++) x += q.data[qo + c] * k.data[ko + c];
      logits[j] = x * s;
      if (logits[j] > max) max = logits[j];
    }
    let z = 0;
    for (let j = 0; j <= pN; j++) z += Math.exp(logits[j] - max);
    return positions.map((p) => Math.exp(logits[p] - max) / z);
  });
}

/** One layer's readout: scores per head and option, and each head's pick. */
export interface LayerReadout {
  qk: number[][];
  att: number[][];
  pickQk: number[];
  pickAtt: number[];
}

/**
 * The readout of every layer for one prompt. `layers[l]` holds the post-RoPE `q`, `k` and, for
 * RoPE models, the pre-RoPE `qPre`, `kPre` (QK-score uses those unless `postRope`).
 */
export function qkReadout(layers: readonly { q: Tensor; k: Tensor; qPre?: Tensor; kPre?: Tensor }[], at: OptionPositions, opts: { postRope?: boolean; scale?: number | null } = {}): LayerReadout[] {
  return layers.map((l) => {
    const qk = opts.postRope ? qkScores(l.q, l.k, at.pN, at.positions) : qkScores(l.qPre ?? l.q, l.kPre ?? l.k, at.pN, at.positions);
    const att = attentionScores(l.q, l.k, at.pN, at.positions, opts.scale);
    return { qk, att, pickQk: qk.map(argmaxFirst), pickAtt: att.map(argmaxFirst) };
  });
}

/** Accuracy of every (layer, head) over a question set, for both scores, and the best head of each (first on ties). */
export interface HeadAccuracy {
  qk: number[][];
  att: number[][];
  bestQk: [number, number];
  bestAtt: [number, number];
}

export function headAccuracy(readouts: readonly LayerReadout[][], answers: readonly number[]): HeadAccuracy {
  if (readouts.length === 0 || readouts.length !== answers.length) throw new McqaError(`${readouts.length} readouts for ${answers.length} answers`);
  const L = readouts[0].length;
  const H = readouts[0][0]?.pickQk.length ?? 0;
  const acc = (key: 'pickQk' | 'pickAtt') => Array.from({ length: L }, (_, l) => Array.from({ length: H }, (_, h) => readouts.reduce((a, r, i) => a + (r[l][key][h] === answers[i] ? 1 : 0), 0) / readouts.length));
  const best = (m: number[][]): [number, number] => {
    let b: [number, number] = [0, 0];
    m.forEach((row, l) => row.forEach((v, h) => (v > m[b[0]][b[1]] ? (b = [l, h]) : null)));
    return b;
  };
  const qk = acc('pickQk');
  const att = acc('pickAtt');
  return { qk, att, bestQk: best(qk), bestAtt: best(att) };
}

/**
 * Reads a question set: JSON `{ "format": "qkscope-mcqa-1", "questions": [{ context?, question,
 * options: [4 strings], answer: "A"…"D" }] }` (or the bare array), or CSV with the header
 * `context,question,A,B,C,D,answer` (RFC 4180 quoting). Every problem names the file, the
 * question and what was expected.
 */
export function parseQuestionSet(text: string, file = 'questions'): McqaQuestion[] {
  const trimmed = text.trim();
  let rows: unknown[];
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let j: unknown;
    try {
      j = JSON.parse(trimmed);
    } catch (e) {
      throw new McqaError(`${file}: is not valid JSON (${(e as Error).message.slice(0, 80)})`);
    }
    const list = Array.isArray(j) ? j : (j as { questions?: unknown })?.questions;
    if (!Array.isArray(list)) throw new McqaError(`${file}: expected {"questions": [...]} or an array of questions`);
    rows = list;
  } else rows = csvQuestions(trimmed, file);
  if (rows.length === 0) throw new McqaError(`${file}: holds no questions`);
  if (rows.length > 5000) throw new McqaError(`${file}: holds ${rows.length} questions; the cap is 5000`);
  return rows.map((r, i) => {
    const where = `${file}: question ${i + 1}`;
    if (!r || typeof r !== 'object') throw new McqaError(`${where} is not an object`);
    const o = r as Record<string, unknown>;
    const str = (v: unknown, name: string) => {
      if (typeof v !== 'string' || !v.trim()) throw new McqaError(`${where}: "${name}" must be non-empty text`);
      if (v.includes('\n')) throw new McqaError(`${where}: "${name}" must be one line (the prompt's line ends mark the options)`);
      return v;
    };
    if (!Array.isArray(o.options) || o.options.length !== 4) throw new McqaError(`${where}: "options" must be a list of 4 texts (A–D)`);
    const answer = o.answer === undefined || o.answer === null || o.answer === '' ? undefined : String(o.answer).trim().toUpperCase();
    if (answer !== undefined && !(LETTERS as readonly string[]).includes(answer)) throw new McqaError(`${where}: "answer" must be A, B, C or D; it is ${JSON.stringify(o.answer).slice(0, 20)}`);
    return {
      context: o.context === undefined || o.context === null || o.context === '' ? undefined : str(o.context, 'context'),
      question: str(o.question, 'question'),
      options: o.options.map((x, j) => str(x, `options[${j}]`)),
      answer: answer as Letter | undefined,
    };
  });
}

/** CSV rows (header context,question,A,B,C,D,answer) as question objects. */
function csvQuestions(text: string, file: string): unknown[] {
  const records: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      records.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  if (quoted) throw new McqaError(`${file}: a quoted CSV field is not closed`);
  row.push(cell);
  records.push(row);
  const header = records[0].map((h) => h.trim().toLowerCase());
  const need = ['question', 'a', 'b', 'c', 'd'];
  const missing = need.filter((n) => !header.includes(n));
  if (missing.length) throw new McqaError(`${file}: the CSV header needs the columns context (optional), question, A, B, C, D, answer; missing: ${missing.join(', ')}`);
  const col = (r: string[], n: string) => (header.includes(n) ? r[header.indexOf(n)] : undefined);
  return records
    .slice(1)
    .filter((r) => r.some((c) => c.trim()))
    .map((r) => ({ context: col(r, 'context'), question: col(r, 'question'), options: ['a', 'b', 'c', 'd'].map((n) => col(r, n)), answer: col(r, 'answer') }));
}
