import { unzipSync } from 'fflate';
import { fail, ImportError, IMPORT_CAPS } from './errors';
import { parseNpy, type NdArray } from './npy';

/** Whether bytes start with a zip local-file or empty-archive signature. */
export function isZip(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && ((b[2] === 3 && b[3] === 4) || (b[2] === 5 && b[3] === 6));
}

/**
 * Reads a NumPy `.npz` archive (stored or deflated, as `np.savez` / `np.savez_compressed`
 * write it) with fflate, returning its arrays by name (without the `.npy` suffix). Entries that
 * are not `.npy` are ignored; a damaged archive or array is an `ImportError` naming the entry.
 */
export function parseNpz(bytes: Uint8Array, name = 'the .npz file'): Map<string, NdArray> {
  if (!isZip(bytes)) fail('magic', `${name} is not a zip archive (an .npz starts with "PK")`);
  let files: Record<string, Uint8Array>;
  let total = 0;
  let count = 0;
  try {
    files = unzipSync(bytes, {
      filter: (f) => {
        if (++count > IMPORT_CAPS.maxEntries) fail('cap', `${name} has more than ${IMPORT_CAPS.maxEntries} entries`);
        if (!f.name.endsWith('.npy')) return false;
        total += f.originalSize;
        if (total > IMPORT_CAPS.maxBytes) fail('cap', `${name} would unpack to more than ${IMPORT_CAPS.maxBytes} bytes (entry "${f.name.slice(0, 60)}")`);
        return true;
      },
    });
  } catch (e) {
    if (e instanceof ImportError) throw e;
    fail('format', `${name} is a damaged zip archive: ${(e as Error).message || 'unreadable'}`);
  }
  const out = new Map<string, NdArray>();
  for (const [entry, data] of Object.entries(files)) out.set(entry.slice(0, -4), parseNpy(data, `${name}, entry "${entry.slice(0, 80)}"`));
  if (out.size === 0) fail('format', `${name} holds no .npy arrays`);
  return out;
}
