import { fail, IMPORT_CAPS } from './errors';

/** Progress callback: bytes read so far and the total (0 when unknown). */
export type OnProgress = (read: number, total: number) => void;

/**
 * Reads a stream into one buffer, reporting progress as chunks arrive. With a known size the
 * buffer is allocated once, so a 150 MB file is never held twice; without one, chunks are
 * collected and joined at the end.
 */
export async function readStream(stream: ReadableStream<Uint8Array>, size: number, onProgress: OnProgress, signal?: AbortSignal): Promise<Uint8Array> {
  const reader = stream.getReader();
  const known = size > 0;
  if (size > IMPORT_CAPS.maxBytes) fail('cap', `the file is ${size} bytes; the cap is ${IMPORT_CAPS.maxBytes}`);
  const out = known ? new Uint8Array(size) : null;
  const chunks: Uint8Array[] = [];
  let at = 0;
  try {
    for (;;) {
      if (signal?.aborted) throw new DOMException('The import was cancelled.', 'AbortError');
      const { done, value } = await reader.read();
      if (done) break;
      if (at + value.length > IMPORT_CAPS.maxBytes) fail('cap', `the file is more than ${IMPORT_CAPS.maxBytes} bytes`);
      if (out) {
        if (at + value.length > size) fail('truncated', `the file grew while it was read (more than its ${size} bytes)`);
        out.set(value, at);
      } else chunks.push(value);
      at += value.length;
      onProgress(at, size);
    }
  } finally {
    reader.releaseLock();
  }
  if (out) return at === size ? out : out.subarray(0, at);
  const joined = new Uint8Array(at);
  let o = 0;
  for (const c of chunks) {
    joined.set(c, o);
    o += c.length;
  }
  return joined;
}

/** Piece size of a large file read: small enough for a smooth bar, large enough to cost nothing. */
const PIECE = 8 * 2 ** 20;

/**
 * Reads a file the user picked or dropped. Files over 50 MB are read in 8 MiB pieces into one
 * buffer allocated once, so the page can show a progress bar (and stay responsive between
 * pieces); smaller ones are read at once.
 */
export async function readBlob(file: Blob, onProgress: OnProgress, signal?: AbortSignal): Promise<Uint8Array> {
  if (file.size > IMPORT_CAPS.maxBytes) fail('cap', `the file is ${(file.size / 2 ** 30).toFixed(2)} GiB; the cap is 2 GiB`);
  if (file.size <= IMPORT_CAPS.streamAbove) {
    const b = new Uint8Array(await file.arrayBuffer());
    onProgress(b.length, b.length);
    return b;
  }
  const out = new Uint8Array(file.size);
  for (let at = 0; at < file.size; at += PIECE) {
    if (signal?.aborted) throw new DOMException('The import was cancelled.', 'AbortError');
    const piece = new Uint8Array(await file.slice(at, Math.min(file.size, at + PIECE)).arrayBuffer());
    out.set(piece, at);
    onProgress(at + piece.length, file.size);
  }
  return out;
}
