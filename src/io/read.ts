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

/**
 * Reads a blob straight into `out` with a BYOB ("bring your own buffer") reader, where the
 * browser's blob stream supports one: no intermediate chunks, so no garbage as large as the
 * file. Returns null when the stream cannot be read that way (the caller reads in slices).
 * Each read detaches the buffer and hands it back, so the result is a view of the last one.
 */
async function readByob(file: Blob, onProgress: OnProgress, signal?: AbortSignal): Promise<Uint8Array | null> {
  let reader: ReadableStreamBYOBReader;
  try {
    reader = file.stream().getReader({ mode: 'byob' });
  } catch {
    return null;
  }
  const size = file.size;
  let at = 0;
  let buf = new ArrayBuffer(size);
  try {
    while (at < size) {
      if (signal?.aborted) throw new DOMException('The import was cancelled.', 'AbortError');
      // Each read transfers the buffer and hands it back; views of it stay valid only through the result.
      const { done, value } = await reader.read(new Uint8Array(buf, at, Math.min(PIECE, size - at)));
      if (!value) break;
      buf = value.buffer as ArrayBuffer;
      at += value.length;
      if (done) break;
      onProgress(at, size);
    }
  } finally {
    reader.releaseLock();
  }
  if (at !== size) fail('truncated', `the file ended after ${at} of its ${size} bytes`);
  onProgress(at, size);
  return new Uint8Array(buf);
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
  const byob = await readByob(file, onProgress, signal);
  if (byob) return byob;
  const out = new Uint8Array(file.size);
  for (let at = 0; at < file.size; at += PIECE) {
    if (signal?.aborted) throw new DOMException('The import was cancelled.', 'AbortError');
    const piece = new Uint8Array(await file.slice(at, Math.min(file.size, at + PIECE)).arrayBuffer());
    out.set(piece, at);
    onProgress(at + piece.length, file.size);
  }
  return out;
}
