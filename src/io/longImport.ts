import { fail, IMPORT_CAPS } from './errors';
import { importTensors } from './importTensors';
import type { ImportedSource } from './types';

/** Token cap of the long-context view (the foundation views stop at IMPORT_CAPS.maxTokens). */
export const LONG_MAX_TOKENS = IMPORT_CAPS.maxLongTokens;

/**
 * Reads a Q/K dump for the long-context view: the same readers and checks as every import, with
 * the token cap raised to {@link LONG_MAX_TOKENS}. Attention weights are refused (a long map is
 * computed from Q and K, never read whole).
 */
export function importLongTensors(bytes: Uint8Array, filename: string): ImportedSource {
  const caps = IMPORT_CAPS as { maxTokens: number };
  const saved = caps.maxTokens;
  caps.maxTokens = LONG_MAX_TOKENS;
  try {
    const o = importTensors(bytes, filename);
    if (o.status !== 'ready' || o.source.kind !== 'qkv')
      fail('format', `${filename || 'the file'} holds attention weights; the long-context view computes maps from a Q/K dump (arrays q [H, N, d] and k [Hkv, N, d] per layer). Open weights in the main view.`);
    return o.source;
  } finally {
    caps.maxTokens = saved;
  }
}
