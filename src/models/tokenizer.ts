import { Tokenizer } from '@huggingface/tokenizers';
import { ModelError } from './config';

/** Text → token ids and back, from a checkpoint's `tokenizer.json` (Hugging Face format). */
export interface TextTokenizer {
  encode(text: string): { ids: number[]; tokens: string[] };
  decode(ids: number[]): string;
  /** One more than the largest id the tokenizer can produce (its vocabulary and added tokens). */
  vocabSize: number;
  /** The id text outside the vocabulary becomes (a word-level or WordPiece `unk_token`), or null when there is none. */
  unknownId: number | null;
}

/** The largest id a `tokenizer.json` can produce, plus one: its model's vocabulary and its added tokens. */
function idSpan(json: Record<string, unknown>): number {
  let max = -1;
  const model = json.model as { vocab?: unknown } | undefined;
  const vocab = model?.vocab;
  if (vocab && typeof vocab === 'object') {
    if (Array.isArray(vocab)) max = vocab.length - 1; // Unigram: [[piece, score], …] by id
    else for (const v of Object.values(vocab as Record<string, unknown>)) if (typeof v === 'number' && v > max) max = v;
  }
  for (const t of (json.added_tokens as { id?: unknown }[] | undefined) ?? []) if (typeof t?.id === 'number' && t.id > max) max = t.id;
  return max + 1;
}

/**
 * Builds the tokenizer of `tokenizer.json` (and `tokenizer_config.json` when given) with
 * Hugging Face's own JavaScript tokenizers (@huggingface/tokenizers), not a hand-written BPE.
 * Encoding adds no special tokens: the views show exactly the text's tokens. With `vocab`,
 * a tokenizer that can produce ids the model does not have is refused.
 */
export function loadTokenizer(json: unknown, config: unknown = {}, vocab?: number, file = 'tokenizer.json'): TextTokenizer {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new ModelError(file, 'must be a JSON object (the Hugging Face tokenizers format)');
  const j = json as Record<string, unknown>;
  const type = (j.model as { type?: unknown } | undefined)?.type;
  if (typeof type !== 'string') throw new ModelError(file, 'has no "model" with a "type" (BPE, WordPiece, Unigram…): is this a tokenizer.json?');
  const span = idSpan(j);
  if (vocab !== undefined && span > vocab) throw new ModelError(file, `can produce ids up to ${span - 1}, but config.json has vocab_size ${vocab}: the tokenizer does not belong to this model`);
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(j, config && typeof config === 'object' ? config : {});
  } catch (e) {
    throw new ModelError(file, `could not be read as a ${type} tokenizer (${(e as Error).message.slice(0, 120)})`);
  }
  const model = j.model as { unk_token?: unknown; vocab?: unknown };
  const unk = typeof model.unk_token === 'string' && model.vocab && typeof model.vocab === 'object' && !Array.isArray(model.vocab) ? (model.vocab as Record<string, unknown>)[model.unk_token] : undefined;
  return {
    vocabSize: span,
    unknownId: typeof unk === 'number' ? unk : null,
    encode: (text) => {
      const e = tok.encode(text, { add_special_tokens: false });
      return { ids: e.ids.map(Number), tokens: e.tokens };
    },
    // The library refuses an empty list; its default clean-up would also drop spaces before punctuation.
    decode: (ids) => (ids.length ? tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false }) : ''),
  };
}
