import { exportTensors, type ExportFormat, type ExportedFile } from '../io/exportTensors';
import { diffHead, shownArrays } from '../views/shared/mapSpec';
import { methodActive, methodName, type ViewResult } from '../state/result';
import type { Compare } from '../state/types';

/**
 * The maps on screen for every head, `[H, N, Nk]`: the source's attention, or — with a method
 * active — the method's maps, the reference, or their difference, as the compare switch shows.
 */
export function shownMaps(r: ViewResult, compare: Compare): { data: Float32Array; what: string } {
  const n2 = r.N * r.Nk;
  if (!methodActive(r)) return { data: r.weights, what: 'attention weights' };
  const out = new Float32Array(r.H * n2);
  for (let h = 0; h < r.H; h++) {
    if (compare === 'diff') out.set(diffHead(r.method, h, n2), h * n2);
    else {
      const s = shownArrays(r, h, compare);
      out.set(s.weights.subarray(s.offset, s.offset + n2), h * n2);
    }
  }
  const name = methodName(r.method);
  return { data: out, what: compare === 'diff' ? `${name} − reference weights` : compare === 'reference' ? 'reference weights' : `${name} weights` };
}

/** Writes what is on screen as a data file (see `exportTensors`). */
export function exportShown(r: ViewResult, compare: Compare, format: ExportFormat, label: string): ExportedFile {
  const { data, what } = shownMaps(r, compare);
  return exportTensors({ weights: { shape: [r.H, r.N, r.Nk], data }, queryTokens: r.tokens, keyTokens: r.keyTokens, what: `${label}: ${what}`, basename: `qkscope-${label}-${what}` }, format);
}

/** Saves bytes as a download (nothing leaves the machine). */
export function download(file: ExportedFile): void {
  saveBlob(new Blob([file.bytes as BlobPart], { type: file.mime }), file.filename);
}

/** Saves a blob as a download under `filename` (nothing leaves the machine). */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
