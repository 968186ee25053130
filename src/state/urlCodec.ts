import { deflateSync, inflateSync, strFromU8, strToU8 } from 'fflate';
import { PATTERNS, type Pattern } from '../core/synthetic';
import { SEQUENTIAL_MAPS, type SequentialMap } from '../core/colormapNames';
import { BACKENDS, type BackendChoice } from '../core/backendNames';
import { DEFAULT_INPUTS, LIMITS } from './defaults';
import type { Cell, Compare, Inputs, MapMode } from './types';

/** Page parameters that are not shared state: test hooks, and how the page shows it (embed, presentation). */
const TEST_HOOKS = ['fail', 'worker', 'embed', 'present', 'lesson', 'lstep'];

/** True when a query string shares nothing (empty, or test hooks only): the page then opens its default example. */
export function isBlankLink(search: string): boolean {
  try {
    const p = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search);
    return ![...p.keys()].some((k) => !TEST_HOOKS.includes(k));
  } catch {
    return false;
  }
}

/** Version of the link format; bump it when a parameter changes meaning. */
export const URL_VERSION = 1;

/** What a link holds: the shareable inputs and the locked selection. */
export interface Shareable {
  inputs: Inputs;
  locked: Cell | null;
}

/** Base64url (RFC 4648 §5, no padding) of bytes, and back. */
function toBase64url(b: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < b.length; i++) bin += String.fromCharCode(b[i]);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
function fromBase64url(s: string): Uint8Array {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** A text as `tz`: raw DEFLATE of its UTF-8, base64url (what a short link carries for a long text). */
export function compressText(text: string): string {
  return toBase64url(deflateSync(strToU8(text), { level: 9 }));
}

/** The text of a `tz` value; throws when it is not one. */
export function decompressText(tz: string): string {
  if (!/^[A-Za-z0-9_-]*$/.test(tz)) throw new Error('not base64url');
  return strFromU8(inflateSync(fromBase64url(tz)));
}

/**
 * Encodes the shareable state as a readable query string (without the leading `?`). `short`
 * leaves out every value equal to the default and compresses a long text (`tz`), for links to
 * paste; both forms open the same figure.
 */
export function encodeState({ inputs, locked }: Shareable, opts: { short?: boolean } = {}): string {
  const full = encodeFull({ inputs, locked });
  if (!opts.short) return full;
  const base = new URLSearchParams(encodeFull({ inputs: DEFAULT_INPUTS, locked: null }));
  const p = new URLSearchParams();
  for (const [k, val] of new URLSearchParams(full)) {
    if (k !== 'v' && base.get(k) === val && !(k === 'head' && (inputs.source.kind === 'imported'))) continue;
    if (k === 'text' && val.length > 120) {
      const tz = compressText(val);
      if (tz.length < encodeURIComponent(val).length) {
        p.set('tz', tz);
        continue;
      }
    }
    p.set(k, val);
  }
  return p.toString();
}

function encodeFull({ inputs, locked }: Shareable): string {
  const { source: s, compute: c, view: v } = inputs;
  const p = new URLSearchParams();
  p.set('v', String(URL_VERSION));
  if (s.kind === 'imported' && s.url) {
    p.set('src', s.url);
    p.set('layer', String(s.layer));
    if (s.positions === 'preRope') p.set('pos', 'pre');
  }
  if (s.kind === 'imported' && s.model) {
    p.set('model', s.model.id);
    p.set('mstep', String(s.model.step));
    p.set('layer', String(s.layer));
    if (s.positions === 'preRope') p.set('pos', 'pre');
  }
  if (s.kind === 'video') p.set('video', `${s.grid.T}x${s.grid.Hp}x${s.grid.Wp}`);
  else {
    p.set('text', s.text);
    p.set('pattern', s.pattern);
  }
  p.set('h', String(s.heads));
  p.set('kv', String(s.kvHeads));
  p.set('d', String(s.headDim));
  p.set('T', String(s.temperature));
  p.set('seed', String(s.seed));
  p.set('backend', c.backend);
  p.set('causal', c.causal ? '1' : '0');
  if (c.scale !== null) p.set('scale', String(c.scale));
  if (inputs.method.id !== 'mha') {
    p.set('method', inputs.method.id);
    for (const [k, val] of Object.entries(inputs.method.params)) p.set(`mp.${k}`, String(val));
  }
  if (inputs.method.versus) {
    p.set('vs', inputs.method.versus.id);
    for (const [k, val] of Object.entries(inputs.method.versus.params)) p.set(`vp.${k}`, String(val));
  }
  if (v.compare !== 'method') p.set('cmp', v.compare);
  p.set('head', String(v.head));
  p.set('mode', v.mode);
  p.set('grid', v.gridScale);
  p.set('cmap', v.colormap);
  if (locked) p.set('lock', locked.k === null ? String(locked.q) : `${locked.q},${locked.k}`);
  return p.toString();
}

/** Reads a number in [lo, hi] (a whole number when `whole`), explaining every replacement. */
function numberIn(raw: string | null, lo: number, hi: number, name: string, fallback: number, msgs: string[], whole: boolean): number {
  if (raw === null) return fallback;
  const x = Number(raw);
  if (!Number.isFinite(x) || (whole && !Number.isInteger(x))) {
    msgs.push(`link: ${name}="${raw.slice(0, 40)}" is not ${whole ? 'a whole number' : 'a number'}; using ${fallback}`);
    return fallback;
  }
  if (x < lo || x > hi) {
    const y = Math.min(hi, Math.max(lo, x));
    msgs.push(`link: ${name}=${x} is outside ${lo}…${hi}; clamped to ${y}`);
    return y;
  }
  return x;
}
const intIn = (raw: string | null, lo: number, hi: number, name: string, fallback: number, msgs: string[]) => numberIn(raw, lo, hi, name, fallback, msgs, true);
const numIn = (raw: string | null, lo: number, hi: number, name: string, fallback: number, msgs: string[]) => numberIn(raw, lo, hi, name, fallback, msgs, false);

function oneOf<T extends string>(raw: string | null, allowed: readonly T[], name: string, fallback: T, msgs: string[]): T {
  if (raw === null) return fallback;
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  msgs.push(`link: ${name}="${raw.slice(0, 40)}" is not one of ${allowed.join(', ')}; using ${fallback}`);
  return fallback;
}

function flag(raw: string | null, name: string, fallback: boolean, msgs: string[]): boolean {
  if (raw === null) return fallback;
  if (raw === '1') return true;
  if (raw === '0') return false;
  msgs.push(`link: ${name}="${raw.slice(0, 40)}" is not 1 or 0; using ${fallback ? 1 : 0}`);
  return fallback;
}

/** Largest divisor of `n` that is ≤ `k` (so query heads share KV heads evenly). */
export function largestDivisorAtMost(n: number, k: number): number {
  for (let x = Math.min(n, Math.max(1, k)); x >= 1; x--) if (n % x === 0) return x;
  return 1;
}

/**
 * A file to open from the link: a relative or http(s) URL (the app fetches it only when it is
 * same-origin). Other schemes (javascript:, data:, file:) are refused here.
 */
function decodeSrc(raw: string | null, msgs: string[]): string | null {
  if (raw === null || raw === '') return null;
  if (raw.length > 2000 || /[\u0000-\u001f]/.test(raw) || (/^[a-z][a-z0-9+.-]*:/i.test(raw) && !/^https?:\/\//i.test(raw))) {
    msgs.push(`link: src="${raw.slice(0, 40)}" is not a same-origin file URL; showing the default example`);
    return null;
  }
  return raw;
}

/**
 * The method id and its raw parameters (`mp.<key>=<value>`). Only their form is checked here;
 * the app checks them against the method registry (the state layer does not load methods).
 */
function decodeMethod(p: URLSearchParams, base: Inputs, msgs: string[]): Inputs['method'] {
  const id = p.get('method');
  const vs = p.get('vs');
  let versus: Inputs['method']['versus'] = null;
  if (vs !== null) {
    if (/^[a-z0-9]{1,16}$/.test(vs)) versus = { id: vs, params: decodeParams(p, 'vp.', msgs) };
    else msgs.push(`link: vs="${vs.slice(0, 40)}" is not a method name; ignored`);
  }
  if (id === null) return versus ? { ...base.method, versus } : base.method;
  if (!/^[a-z0-9]{1,16}$/.test(id)) {
    msgs.push(`link: method="${id.slice(0, 40)}" is not a method name; using ${base.method.id}`);
    return base.method;
  }
  const params = decodeParams(p, 'mp.', msgs);
  return versus ? { id, params, versus } : { id, params };
}

/** Raw parameters under a prefix (`mp.` for the method, `vp.` for the one side by side). */
function decodeParams(p: URLSearchParams, prefix: string, msgs: string[]): Record<string, string | number> {
  const params: Record<string, string | number> = {};
  let n = 0;
  for (const [k, v] of p) {
    if (!k.startsWith(prefix)) continue;
    const key = k.slice(prefix.length);
    if (!/^[A-Za-z]{1,24}$/.test(key) || v.length > 40 || ++n > 16) {
      msgs.push(`link: method parameter "${k.slice(0, 40)}" is not readable; ignored`);
      continue;
    }
    params[key] = v !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
  }
  return params;
}

/**
 * Reads `video=TxHxW`, the synthetic video grid: whole numbers, at least one token, at most the
 * token cap. Null when absent or unreadable (explained in `msgs`).
 */
function decodeGrid(raw: string | null, base: { T: number; Hp: number; Wp: number }, msgs: string[]): { T: number; Hp: number; Wp: number } | null {
  if (raw === null) return null;
  const m = /^(\d{1,4})x(\d{1,4})x(\d{1,4})$/.exec(raw);
  if (!m) {
    msgs.push(`link: video="${raw.slice(0, 40)}" is not frames×height×width (e.g. 4x8x8); showing the text example`);
    return null;
  }
  const [T, Hp, Wp] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const cap = Math.min(LIMITS.maxTokens, LIMITS.maxVideoTokens);
  if (T < 1 || Hp < 1 || Wp < 1 || T * Hp * Wp > cap) {
    msgs.push(`link: video=${raw} has ${T * Hp * Wp} tokens; the video grid takes 1 to ${cap}; using ${base.T}x${base.Hp}x${base.Wp}`);
    return base;
  }
  return { T, Hp, Wp };
}

/**
 * Decodes a query string into safe inputs. Every value is validated and clamped; each change is
 * explained in `messages`. Never throws and never returns a value that could hang the page.
 */
export function decodeState(search: string, base: Inputs = DEFAULT_INPUTS): Shareable & { messages: string[] } {
  const msgs: string[] = [];
  let p: URLSearchParams;
  try {
    p = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search);
  } catch {
    return { inputs: base, locked: null, messages: ['link: the query string could not be read; showing the default example'] };
  }
  if (isBlankLink(search)) return { inputs: base, locked: null, messages: [] };
  const ver = p.get('v');
  if (ver !== null && ver !== String(URL_VERSION)) {
    msgs.push(`link: version ${ver.slice(0, 10)} is not supported (this app reads version ${URL_VERSION}); the values it shares were read as version ${URL_VERSION}`);
  }
  let text = p.get('text') ?? base.source.text;
  const tz = p.get('tz');
  if (tz !== null && p.get('text') === null) {
    try {
      text = decompressText(tz);
    } catch {
      msgs.push(`link: tz="${tz.slice(0, 20)}…" is not a compressed text; showing the default text`);
    }
  }
  if (text.length > LIMITS.maxTextChars) {
    msgs.push(`link: the text has ${text.length} characters; cut to the first ${LIMITS.maxTextChars}`);
    text = text.slice(0, LIMITS.maxTextChars);
  }
  const heads = intIn(p.get('h'), 1, LIMITS.maxHeads, 'h (heads)', base.source.heads, msgs);
  let kv = intIn(p.get('kv'), 1, heads, 'kv (KV heads)', Math.min(base.source.kvHeads, heads), msgs);
  if (heads % kv !== 0) {
    const fixed = largestDivisorAtMost(heads, kv);
    msgs.push(`link: ${heads} heads cannot share ${kv} KV heads evenly; using ${fixed}`);
    kv = fixed;
  }
  const src = decodeSrc(p.get('src'), msgs);
  const grid = decodeGrid(p.get('video'), base.source.grid, msgs);
  const modelId = p.get('model');
  let model: { id: string; step: number } | null = null;
  if (modelId !== null) {
    if (/^[a-z0-9][a-z0-9-]{0,40}$/.test(modelId)) model = { id: modelId, step: intIn(p.get('mstep'), -1, 10_000, 'mstep (training step)', -1, msgs) };
    else msgs.push(`link: model="${modelId.slice(0, 40)}" is not the name of a built-in model; ignored`);
  }
  const inputs: Inputs = {
    source: {
      kind: src || model ? 'imported' : grid ? 'video' : 'synthetic',
      model: src ? null : model,
      grid: grid ?? base.source.grid,
      url: src,
      layer: src || model ? intIn(p.get('layer'), 0, 1023, 'layer', 0, msgs) : 0,
      positions: (src || model) && p.get('pos') === 'pre' ? 'preRope' : 'captured',
      text,
      pattern: oneOf<Pattern>(p.get('pattern'), PATTERNS, 'pattern', base.source.pattern, msgs),
      heads,
      kvHeads: kv,
      headDim: intIn(p.get('d'), 1, LIMITS.maxHeadDim, 'd (head dimension)', base.source.headDim, msgs),
      temperature: numIn(p.get('T'), LIMITS.minTemperature, LIMITS.maxTemperature, 'T (temperature)', base.source.temperature, msgs),
      seed: intIn(p.get('seed'), 0, 2 ** 31 - 1, 'seed', base.source.seed, msgs),
    },
    compute: {
      backend: oneOf<BackendChoice>(p.get('backend'), ['auto', ...BACKENDS], 'backend', base.compute.backend, msgs),
      causal: flag(p.get('causal'), 'causal', base.compute.causal, msgs),
      scale: p.get('scale') === null ? null : numIn(p.get('scale'), 1e-4, 1e4, 'scale', 1, msgs),
    },
    view: {
      // A file's heads are known only once it is read: the store clamps the head then.
      head: src || model ? intIn(p.get('head'), 0, 1023, 'head', 0, msgs) : intIn(p.get('head'), 0, heads - 1, 'head', Math.min(base.view.head, heads - 1), msgs),
      mode: oneOf<MapMode>(p.get('mode'), ['weights', 'scores', 'logWeights'], 'mode', base.view.mode, msgs),
      gridScale: oneOf(p.get('grid'), ['shared', 'perHead'] as const, 'grid', base.view.gridScale, msgs),
      colormap: oneOf<SequentialMap>(p.get('cmap'), SEQUENTIAL_MAPS, 'cmap', base.view.colormap, msgs),
      compare: oneOf<Compare>(p.get('cmp'), ['method', 'reference', 'diff'], 'cmp', base.view.compare, msgs),
    },
    method: decodeMethod(p, base, msgs),
  };
  let locked: Cell | null = null;
  const lock = p.get('lock');
  if (lock !== null) {
    const m = /^(\d{1,6})(?:,(\d{1,6}))?$/.exec(lock);
    if (!m) msgs.push(`link: lock="${lock.slice(0, 40)}" is not "query" or "query,key"; ignored`);
    else locked = { q: Number(m[1]), k: m[2] === undefined ? null : Number(m[2]) };
  }
  return { inputs, locked, messages: msgs };
}
