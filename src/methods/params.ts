import type { MethodDescriptor, MethodDims, ParamSpec, Params, ParamValue } from './types';

function resolve(x: number | ((d: MethodDims) => number) | undefined, d: MethodDims): number | undefined {
  return typeof x === 'function' ? x(d) : x;
}

/** The default value of a parameter for these dimensions. */
export function defaultOf(spec: ParamSpec, dims: MethodDims): ParamValue {
  return spec.kind === 'int' ? resolve(spec.default, dims)! : spec.default;
}

/** Allowed whole numbers of an int parameter, when it has a list. */
export function choicesOf(spec: ParamSpec, dims: MethodDims): number[] | null {
  return spec.kind === 'int' && spec.choices ? spec.choices(dims) : null;
}

/** Range of a numeric parameter. */
export function rangeOf(spec: ParamSpec, dims: MethodDims): [number, number] {
  if (spec.kind === 'int') return [resolve(spec.min, dims) ?? 0, resolve(spec.max, dims) ?? 2 ** 31 - 1];
  if (spec.kind === 'number') return [spec.min, spec.max];
  if (spec.kind === 'seed') return [0, 2 ** 31 - 1];
  return [0, 0];
}

/** Why a value does not fit a parameter, or null when it fits. */
function problem(spec: ParamSpec, v: ParamValue, dims: MethodDims): string | null {
  if (spec.kind === 'enum') {
    return spec.options.some((o) => o.value === v) ? null : `must be one of ${spec.options.map((o) => o.value).join(', ')}`;
  }
  const x = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(x)) return 'must be a number';
  if (spec.kind !== 'number' && !Number.isInteger(x)) return 'must be a whole number';
  const choices = choicesOf(spec, dims);
  if (choices) return choices.includes(x) ? null : `must be one of ${choices.join(', ')} here`;
  const [lo, hi] = rangeOf(spec, dims);
  return x >= lo && x <= hi ? null : `must be between ${lo} and ${hi}`;
}

/**
 * Fills defaults and checks every parameter against the method's schema. `strict` throws on the
 * first bad value (the library call); otherwise a bad value is replaced by its default and the
 * replacement explained in `messages` (links and restored state).
 */
export function normalizeParams(m: Pick<MethodDescriptor, 'id' | 'params'>, dims: MethodDims, given: Record<string, unknown> = {}, strict = false): { params: Params; messages: string[] } {
  const params: Params = {};
  const messages: string[] = [];
  for (const key of Object.keys(given)) {
    if (!m.params.some((p) => p.key === key)) {
      const msg = `${m.id}: unknown parameter "${key.slice(0, 40)}" (it has ${m.params.map((p) => p.key).join(', ') || 'none'})`;
      if (strict) throw new Error(msg);
      messages.push(`${msg}; ignored`);
    }
  }
  for (const spec of m.params) {
    const def = spec.kind === 'enum' && spec.defaultFor ? spec.defaultFor(given) : defaultOf(spec, dims);
    const raw = given[spec.key];
    if (raw === undefined || raw === null || raw === '') {
      params[spec.key] = def;
      continue;
    }
    const v: ParamValue = spec.kind === 'enum' ? String(raw) : typeof raw === 'number' ? raw : Number(raw);
    const why = problem(spec, v, dims);
    if (why) {
      const msg = `${m.id}: ${spec.key}=${String(raw).slice(0, 40)} ${why}`;
      if (strict) throw new Error(msg);
      messages.push(`${msg}; using ${def}`);
      params[spec.key] = def;
    } else params[spec.key] = v;
  }
  return { params, messages };
}
