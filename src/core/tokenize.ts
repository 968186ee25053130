/** A token of the synthetic source: its text and where it came from in the input. */
export interface Token {
  text: string;
  start: number;
  end: number;
}

// An emoji as one token: flags (two regional indicators), keycaps, and pictographs with their
// variation selector, skin tone and zero-width-joiner sequences.
const EMOJI = String.raw`\p{RI}\p{RI}|[0-9#*]\uFE0F?\u20E3|\p{Extended_Pictographic}(?:\uFE0F|\p{EMod})?(?:\u200D\p{Extended_Pictographic}(?:\uFE0F|\p{EMod})?)*`;
// Then words (letters, marks, digits, inner apostrophes and hyphens), numbers, or any single
// character that is neither a letter, a digit nor whitespace (punctuation, symbols).
const TOKEN_RE = new RegExp(`${EMOJI}|[\\p{L}][\\p{L}\\p{M}\\p{N}]*(?:['’-][\\p{L}\\p{M}\\p{N}]+)*|\\p{N}+(?:[.,]\\p{N}+)*|[^\\s\\p{L}\\p{M}\\p{N}]\\p{M}*`, 'gu');

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
