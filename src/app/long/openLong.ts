import { tokenize } from '../../core/tokenize';

/** Token counts the long-context page offers. */
export const LONG_SIZES = [1024, 2048, 4096, 8192, 16384] as const;
const KEY = 'qk-long-text';

/**
 * Opens the long-context page. A text of more than 1024 tokens goes with it (through session
 * storage: a long text does not fit in an address) at the smallest size that holds it; a short
 * one opens the built-in long text at 8192 tokens.
 */
export function openLong(text: string): void {
  const n = tokenize(text, 16384).length;
  if (n <= 1024) {
    location.assign('?long=8192');
    return;
  }
  try {
    sessionStorage.setItem(KEY, text);
    location.assign(`?long=${LONG_SIZES.find((s) => s >= n) ?? 16384}&text=session`);
  } catch {
    location.assign('?long=8192'); // storage refused (private mode, quota): the built-in text
  }
}

/** The text handed over by {@link openLong}, or null. */
export function handedText(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}
