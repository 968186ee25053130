import { fail, IMPORT_CAPS } from './errors';

/** Longest token string kept; longer ones are cut (and the import notes say so). */
export const MAX_TOKEN_CHARS = 200;

/**
 * Validates a token list from a file: an array of strings (numbers are turned into strings).
 * Token text is untrusted and is only ever shown as text; here it is only length-checked.
 */
export function readTokens(x: unknown, name: string, notes: string[]): string[] {
  if (!Array.isArray(x)) fail('tokens', `${name} must be a list of strings; found ${x === null ? 'null' : typeof x}`);
  if (x.length > IMPORT_CAPS.maxTokens * 4) fail('cap', `${name} has ${x.length} tokens; the cap is ${IMPORT_CAPS.maxTokens}`);
  let cut = 0;
  const out = x.map((t, i) => {
    if (typeof t !== 'string' && typeof t !== 'number') fail('tokens', `${name}[${i}] is ${t === null ? 'null' : typeof t}; tokens must be strings`);
    const s = String(t);
    if (s.length > MAX_TOKEN_CHARS) {
      cut++;
      return s.slice(0, MAX_TOKEN_CHARS) + '…';
    }
    return s;
  });
  if (cut) notes.push(`${cut} token${cut > 1 ? 's were' : ' was'} longer than ${MAX_TOKEN_CHARS} characters and cut.`);
  return out;
}

/** Placeholder tokens `#0, #1, …` for files without any. */
export function numbered(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `#${i}`);
}
