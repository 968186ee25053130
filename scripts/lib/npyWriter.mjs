// Writers of the two binary formats the benchmark feeds to the app (plain JS, so that
// `npm run bench` needs no TypeScript loader). The app's own writers are src/io/npy.ts and
// src/io/safetensors.ts; the unit tests check those, and the app reading these files checks these.

/** A float32 C-order .npy (version 1) of `shape`. */
export function writeNpy(shape, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 11, ' ') + '\n';
  const out = Buffer.alloc(total + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, 'latin1');
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return out;
}

/** A safetensors file of float32 `{ name: { shape, data } }` with string metadata. */
export function writeSafetensors(tensors, metadata = {}) {
  const header = { __metadata__: metadata };
  let at = 0;
  for (const [k, t] of Object.entries(tensors)) {
    header[k] = { dtype: 'F32', shape: t.shape, data_offsets: [at, at + t.data.byteLength] };
    at += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const h = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + h.length + at);
  out.writeBigUInt64LE(BigInt(h.length), 0);
  out.set(h, 8);
  let o = 8 + h.length;
  for (const t of Object.values(tensors)) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), o);
    o += t.data.byteLength;
  }
  return out;
}
