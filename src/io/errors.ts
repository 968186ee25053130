/** What an import failed on; tests and the UI group messages by it. */
export type ImportProblem = 'magic' | 'header' | 'dtype' | 'shape' | 'values' | 'cap' | 'format' | 'tokens' | 'truncated';

/**
 * A file that cannot be opened. The message names what is wrong and what was expected, in
 * words a user can act on (DESIGN.md §6); `problem` classifies it.
 */
export class ImportError extends Error {
  override name = 'ImportError';
  constructor(
    readonly problem: ImportProblem,
    message: string,
  ) {
    super(message);
  }
}

/** Throws an {@link ImportError} (an expression, for `x ?? fail(...)`). */
export function fail(problem: ImportProblem, message: string): never {
  throw new ImportError(problem, message);
}

/** Caps on what an import may hold, so that a hostile or mistaken file cannot hang the tab. */
export const IMPORT_CAPS = {
  /** Largest file read into memory. */
  maxBytes: 2 ** 31 - 1,
  /** Largest number of values of one array (2 GiB of float32). */
  maxElements: 2 ** 29,
  maxRank: 6,
  /** Token axis of the main views (whole maps). */
  maxTokens: 4096,
  /** Token axis of the long-context view (Q/K dumps only: maps computed in tiles). */
  maxLongTokens: 16384,
  maxLayers: 1024,
  maxHeads: 1024,
  /** Entries of an archive or safetensors header. */
  maxEntries: 10_000,
  /** Bytes of a safetensors JSON header or an npy header. */
  maxHeaderBytes: 100 * 2 ** 20,
  /** Largest head dimension of a Q/K/V dump. */
  maxHeadDim: 4096,
  /** Files above this are read in chunks with a progress bar. */
  streamAbove: 50 * 2 ** 20,
} as const;
