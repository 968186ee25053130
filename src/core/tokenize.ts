/** A token of the synthetic source: its text and where it came from in the input. */
export interface Token {
  text: string;
  start: number;
  end: number;
}

// Words (letters, marks, digits, inner apostrophes and hyphens), numbers, or any single
// character that is neither a letter, a digit nor whitespace (punctuation, symbols, emoji).
const TOKEN_RE = /[\p{L}\p{M}][\p{L}\p{M}\p{N}]*(?:['’-][\p{L}\p{M}\p{N}]+)*|\p{N}+(?:[.,]\p{N}+)*|[^\s\p{L}\p{M}\p{N}]/gu;

/**
 * Splits text into words and punctuation. This is the teaching tokenizer of the synthetic
 * source; real models bring their own tokenizer. `limit` stops early so that a pasted book
 * cannot stall the page: at most `limit + 1` tokens are returned, enough to tell that the
 * cap was exceeded.
 */
export function tokenize(text: string, limit = Infinity): Token[] {
  const out: Token[] = [];
  TOKEN_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = TOKEN_RE.exec(text)) !== null) {
    out.push({ text: m[0], start: m.index, end: m.index + m[0].length });
    if (out.length > limit) break;
  }
  return out;
}
