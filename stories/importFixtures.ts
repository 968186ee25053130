import { createQkStore, type QkStore } from '../src/state/store';
import { importTensors } from '../src/io/importTensors';
import { writeNpy } from '../src/io/npy';
import { softmaxRows } from '../src/io/layout';
import { mulberry32, gaussian } from '../src/core/prng';
import { weightsOnlyResult } from '../src/app/importedResult';
import type { ImportedSource } from '../src/io/types';

/** Seeded attention weights `[H, q, k]` from Gaussian logits (causal when asked), as nested lists. */
function attention(H: number, q: number, k: number, seed: number, causal: boolean): number[][][] {
  const g = gaussian(mulberry32(seed));
  const logits = Float32Array.from({ length: H * q * k }, (_, i) => {
    const j = i % k;
    const r = Math.floor(i / k) % q;
    return causal && j > r ? -Infinity : 2 * g();
  });
  const w = softmaxRows(logits, k);
  return Array.from({ length: H }, (_, h) => Array.from({ length: q }, (_, r) => Array.from(w.subarray((h * q + r) * k, (h * q + r + 1) * k))));
}

/** A BertViz-style encoder-decoder document (2 layers, 4 heads) with markup in its tokens. */
export function encoderDecoderDoc(): string {
  const enc = ['<s>', '▁The', '▁cat', '▁<b>sat</b>', '▁on', '▁the', '▁mat', '</s>'];
  const dec = ['<pad>', '▁Die', '▁Katze', '▁saß', '</s>'];
  const L = 2;
  return JSON.stringify({
    encoder_attention: Array.from({ length: L }, (_, l) => [attention(4, enc.length, enc.length, 10 + l, false)]),
    decoder_attention: Array.from({ length: L }, (_, l) => [attention(4, dec.length, dec.length, 20 + l, true)]),
    cross_attention: Array.from({ length: L }, (_, l) => [attention(4, dec.length, enc.length, 30 + l, false)]),
    encoder_tokens: enc,
    decoder_tokens: dec,
  });
}

function ready(bytes: Uint8Array, name: string): ImportedSource {
  const o = importTensors(bytes, name);
  if (o.status !== 'ready') throw new Error(`${name} needs a layout confirmation`);
  return o.source;
}

/** A store showing an opened file's layer (weights as read), as the app's controller would. */
export function importedStore(layer = 4): QkStore {
  const src = ready(new TextEncoder().encode(encoderDecoderDoc()), 'translation-attention.json');
  const store = createQkStore();
  store.getState().setImported(src);
  store.getState().setSource({ layer });
  store.getState().setDerived({ status: 'done', result: weightsOnlyResult(src.layers[layer], `story:${layer}`), error: null });
  return store;
}

/** A store whose import waits for the user to confirm the layout of a `[3, 6, 5, 5]` array. */
export function confirmStore(): QkStore {
  const store = importedStore(0);
  const w = new Float32Array(3 * 6 * 5 * 5);
  for (let r = 0; r < 3 * 6 * 5; r++) for (let j = 0; j < 5; j++) w[r * 5 + j] = 0.2;
  const o = importTensors(writeNpy([3, 6, 5, 5], w), 'stacked.npy');
  if (o.status !== 'confirm') throw new Error('expected a layout question');
  store.getState().setImportState({ confirm: { pending: o.pending, finish: o.finish, url: null } });
  return store;
}
