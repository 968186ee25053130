import { fail } from './errors';
import { checkShape } from './npy';
import type { Tensor } from '../core/tensor';

/**
 * Converts a JSON nested array of numbers to a row-major float32 tensor, checking that it is
 * rectangular (the message names the first ragged path) and that every leaf is a number.
 * `null` (how JSON writers spell NaN and −∞) is read as −∞, the value of a masked score; an
 * array of weights containing it is refused later.
 */
export function nestedToTensor(x: unknown, name: string): Tensor {
  const shape: number[] = [];
  let cur: unknown = x;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  if (shape.length === 0) fail('shape', `${name} is not an array of numbers`);
  const n = checkShape(shape, name);
  const data = new Float32Array(n);
  let at = 0;
  const path: number[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (typeof v === 'number') data[at++] = v;
      else if (v === null) data[at++] = -Infinity;
      else fail('values', `${name}${path.map((p) => `[${p}]`).join('')} is ${JSON.stringify(v)?.slice(0, 30) ?? typeof v}; expected a number`);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      fail('shape', `${name}${path.map((p) => `[${p}]`).join('')} has ${Array.isArray(v) ? `${v.length} entries` : 'a non-array value'}; expected ${shape[depth]} like the first (the array must be rectangular, shape [${shape.join(', ')}])`);
    }
    for (let i = 0; i < v.length; i++) {
      path.push(i);
      walk(v[i], depth + 1);
      path.pop();
    }
  };
  walk(x, 0);
  return { shape, data };
}
