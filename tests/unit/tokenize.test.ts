import { describe, expect, it } from 'vitest';
import { tokenize } from '../../src/core/tokenize';

const texts = (s: string, limit?: number) => tokenize(s, limit).map((t) => t.text);

/** Every token's offsets slice back to its text, in order and without overlap. */
function checkOffsets(s: string): void {
  const toks = tokenize(s);
  let prevEnd = 0;
  for (const t of toks) {
    expect(s.slice(t.start, t.end)).toBe(t.text);
    expect(t.end).toBeGreaterThan(t.start);
    expect(t.start).toBeGreaterThanOrEqual(prevEnd);
    // nothing but whitespace is skipped between tokens
    expect(s.slice(prevEnd, t.start).trim()).toBe('');
    prevEnd = t.end;
  }
  expect(s.slice(prevEnd).trim()).toBe('');
}

describe('tokenize', () => {
  it('splits words and punctuation', () => {
    expect(texts('Hello, world! How are you?')).toEqual(['Hello', ',', 'world', '!', 'How', 'are', 'you', '?']);
    expect(texts('a.b;c:d')).toEqual(['a', '.', 'b', ';', 'c', ':', 'd']);
    expect(texts('"quoted" (parens) [brackets]')).toEqual(['"', 'quoted', '"', '(', 'parens', ')', '[', 'brackets', ']']);
  });

  it('gives each punctuation character its own token', () => {
    expect(texts('Wait...')).toEqual(['Wait', '.', '.', '.']);
    expect(texts('?!')).toEqual(['?', '!']);
  });

  it('keeps decimal numbers and thousands separators in one token', () => {
    expect(texts('pi is 3.14 and 1,000 or 1,000,000.5')).toEqual(['pi', 'is', '3.14', 'and', '1,000', 'or', '1,000,000.5']);
    expect(texts('42')).toEqual(['42']);
  });

  it('does not glue a sentence-final period or a list comma to a number', () => {
    expect(texts('It cost 3.')).toEqual(['It', 'cost', '3', '.']);
    expect(texts('1, 2, 3.')).toEqual(['1', ',', '2', ',', '3', '.']);
    expect(texts('3.14.')).toEqual(['3.14', '.']);
  });

  it('keeps inner apostrophes and hyphens inside words', () => {
    expect(texts("don't stop")).toEqual(["don't", 'stop']);
    expect(texts('it’s fine')).toEqual(['it’s', 'fine']);
    expect(texts('a well-known state-of-the-art model')).toEqual(['a', 'well-known', 'state-of-the-art', 'model']);
    expect(texts("rock 'n' roll")).toEqual(['rock', "'", 'n', "'", 'roll']);
  });

  it('splits leading and trailing apostrophes and hyphens off words', () => {
    expect(texts("'quoted'")).toEqual(["'", 'quoted', "'"]);
    expect(texts('pre- and -post')).toEqual(['pre', '-', 'and', '-', 'post']);
    expect(texts('a--b')).toEqual(['a', '-', '-', 'b']);
  });

  it('reads letters of any script', () => {
    expect(texts('café naïve')).toEqual(['café', 'naïve']);
    expect(texts('Straße groß')).toEqual(['Straße', 'groß']);
    expect(texts('Привет, мир')).toEqual(['Привет', ',', 'мир']);
    expect(texts('ελληνικά')).toEqual(['ελληνικά']);
    expect(texts('你好世界。')).toEqual(['你好世界', '。']);
    expect(texts('日本語 テキスト')).toEqual(['日本語', 'テキスト']);
  });

  it('keeps combining marks with their letter', () => {
    const decomposed = 'cafe\u0301 ok'; // e + COMBINING ACUTE ACCENT
    expect(texts(decomposed)).toEqual(['cafe\u0301', 'ok']);
    checkOffsets(decomposed);
  });

  it('keeps letters and digits together in identifiers', () => {
    expect(texts('GPT4 x86_64')).toEqual(['GPT4', 'x86', '_', '64']);
  });

  it('makes a single-code-point emoji one token, even next to words', () => {
    expect(texts('I 😀 you')).toEqual(['I', '😀', 'you']);
    expect(texts('great👍')).toEqual(['great', '👍']);
    expect(texts('🚀🚀')).toEqual(['🚀', '🚀']);
    checkOffsets('great👍 🚀🚀 done');
  });

  // Emoji that are several code points but one picture must stay one token: a token column
  // that shows an invisible selector or a lone skin-tone swatch is wrong.
  it('makes an emoji with a variation selector one token (❤️ = U+2764 U+FE0F)', () => {
    expect(texts('I ❤️ you')).toEqual(['I', '❤️', 'you']);
  });

  it('makes an emoji with a skin-tone modifier one token (👍🏽)', () => {
    expect(texts('ok 👍🏽')).toEqual(['ok', '👍🏽']);
  });

  it('makes a ZWJ emoji sequence one token (👨‍👩‍👧)', () => {
    expect(texts('👨‍👩‍👧 home')).toEqual(['👨‍👩‍👧', 'home']);
  });

  it('makes a flag (pair of regional indicators) one token (🇫🇷)', () => {
    expect(texts('🇫🇷 France')).toEqual(['🇫🇷', 'France']);
  });

  it('skips whitespace runs of any kind', () => {
    expect(texts('  a   b\t\tc\n\n d \r\n')).toEqual(['a', 'b', 'c', 'd']);
    expect(texts('a\u00a0b\u2003c')).toEqual(['a', 'b', 'c']); // no-break and em spaces
    expect(tokenize('')).toEqual([]);
    expect(tokenize('   \n\t ')).toEqual([]);
  });

  it('gives offsets that slice back to the token text', () => {
    const s = '  The café’s 3.14 "best"—no, 1,000!\n新しい 😀 well-known   <b>x</b> ';
    const toks = tokenize(s);
    expect(toks.length).toBeGreaterThan(10);
    checkOffsets(s);
    expect(toks[0]).toEqual({ text: 'The', start: 2, end: 5 });
  });

  it('counts offsets in UTF-16 code units (astral characters take two)', () => {
    const toks = tokenize('😀 a');
    expect(toks).toEqual([
      { text: '😀', start: 0, end: 2 },
      { text: 'a', start: 3, end: 4 },
    ]);
  });

  it('returns at most limit + 1 tokens', () => {
    const s = Array.from({ length: 100 }, (_, i) => `w${i}`).join(' ');
    expect(tokenize(s)).toHaveLength(100);
    for (const limit of [0, 1, 5, 50, 99]) {
      const t = tokenize(s, limit);
      expect(t).toHaveLength(limit + 1);
      expect(t.map((x) => x.text)).toEqual(texts(s).slice(0, limit + 1));
    }
    expect(tokenize(s, 100)).toHaveLength(100);
    expect(tokenize(s, 1000)).toHaveLength(100);
  });

  it('stops early on huge input when limited', () => {
    const s = 'word '.repeat(200_000);
    const t = tokenize(s, 10);
    expect(t).toHaveLength(11);
  });

  it('is not affected by a previous limited call (no leftover regex state)', () => {
    tokenize('one two three four', 1);
    expect(texts('alpha beta')).toEqual(['alpha', 'beta']);
  });

  it('turns HTML-ish text into punctuation and word tokens without dropping anything', () => {
    expect(texts('<script>alert(1)</script>')).toEqual(['<', 'script', '>', 'alert', '(', '1', ')', '<', '/', 'script', '>']);
    expect(texts('a && b <= c')).toEqual(['a', '&', '&', 'b', '<', '=', 'c']);
    expect(texts('&amp;')).toEqual(['&', 'amp', ';']);
    checkOffsets('<img src=x onerror="alert(1)">');
  });

  it('covers every non-whitespace character of any text', () => {
    const samples = ['x = f(a, b) + 2.5e-3 * y;', 'email: a.b@c.de — #tag @user $5 50%', '¿Qué? ¡Sí! «citation» „Zitat“', 'tab\tsep\u200bzero-width'];
    for (const s of samples) {
      checkOffsets(s);
      const joined = tokenize(s)
        .map((t) => t.text)
        .join('');
      expect(joined).toBe(s.replace(/\s+/g, ''));
    }
  });
});
