import { mulberry32 } from './prng';

const NAMES = ['Mary', 'John', 'Ada', 'Alan', 'Grace', 'Edsger', 'Barbara', 'Donald'];
const PLACES = ['store', 'park', 'library', 'station', 'museum', 'harbour', 'market', 'garden'];
const THINGS = ['a drink', 'a ball', 'a book', 'a map', 'a letter', 'a key', 'a lamp', 'a coin'];
const VERBS = ['gave', 'handed', 'showed', 'sent'];

/**
 * The built-in long text: seeded sentences in the pattern of the default example ("When Mary and
 * John went to the store, John gave a drink to Mary."), so names, places and whole phrases recur
 * at every distance and induction heads have something to copy. Words until `tokens` tokens of
 * the teaching tokenizer (each word and punctuation mark is one); the text may run a few over.
 */
export function longText(tokens: number, seed = 1): string {
  const rnd = mulberry32(seed);
  const pick = <T,>(a: T[]) => a[Math.floor(rnd() * a.length)];
  const parts: string[] = [];
  let n = 0;
  while (n < tokens) {
    const a = pick(NAMES);
    let b = pick(NAMES);
    if (b === a) b = NAMES[(NAMES.indexOf(a) + 1) % NAMES.length];
    const [giver, taker] = rnd() < 0.5 ? [a, b] : [b, a];
    // "When A and B went to the P , G V T T to R ." — 16 tokens.
    const s = `When ${a} and ${b} went to the ${pick(PLACES)}, ${giver} ${pick(VERBS)} ${pick(THINGS)} to ${taker}.`;
    parts.push(s);
    n += 16;
  }
  return parts.join(' ');
}
