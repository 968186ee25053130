import { describe, expect, it } from 'vitest';
import { compressText, decodeState, decompressText, encodeState, largestDivisorAtMost, URL_VERSION, type Shareable } from '../../src/state/urlCodec';
import { DEFAULT_INPUTS, LIMITS } from '../../src/state/defaults';
import { PATTERNS } from '../../src/core/synthetic';
import { SEQUENTIAL_MAPS } from '../../src/core/colormap';
import { BACKENDS } from '../../src/core/backendNames';
import type { Inputs } from '../../src/state/types';
import { mulberry32 } from '../../src/core/prng';

const clone = (x: Inputs): Inputs => JSON.parse(JSON.stringify(x));

function withInputs(patch: { source?: Partial<Inputs['source']>; compute?: Partial<Inputs['compute']>; view?: Partial<Inputs['view']>; method?: Inputs['method'] }): Inputs {
  return {
    source: { ...DEFAULT_INPUTS.source, ...patch.source },
    compute: { ...DEFAULT_INPUTS.compute, ...patch.compute },
    method: patch.method ?? DEFAULT_INPUTS.method,
    view: { ...DEFAULT_INPUTS.view, ...patch.view },
  };
}

/** Decodes `query` and returns the messages, asserting that at least one names `param`. */
function expectMessage(query: string, param: RegExp) {
  const r = decodeState(query);
  expect(r.messages.length, `no message for ${query}`).toBeGreaterThan(0);
  expect(
    r.messages.some((m) => param.test(m)),
    `no message for ${query} names ${param}: ${JSON.stringify(r.messages)}`,
  ).toBe(true);
  return r;
}

/** What in a decoded state lies outside LIMITS or the allowed sets (empty when all is well). */
function violations(s: Shareable): string[] {
  const bad: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) bad.push(what);
  };
  const int = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);
  const { source, compute, view } = s.inputs;
  check(typeof source.text === 'string' && source.text.length <= LIMITS.maxTextChars, `text length ${source.text?.length}`);
  check((PATTERNS as readonly string[]).includes(source.pattern), `pattern ${source.pattern}`);
  check(int(source.heads) && source.heads >= 1 && source.heads <= LIMITS.maxHeads, `heads ${source.heads}`);
  check(int(source.kvHeads) && source.kvHeads >= 1 && source.kvHeads <= source.heads && source.heads % source.kvHeads === 0, `kvHeads ${source.kvHeads} of ${source.heads}`);
  check(int(source.headDim) && source.headDim >= 1 && source.headDim <= LIMITS.maxHeadDim, `headDim ${source.headDim}`);
  check(
    Number.isFinite(source.temperature) && source.temperature >= LIMITS.minTemperature && source.temperature <= LIMITS.maxTemperature,
    `temperature ${source.temperature}`,
  );
  check(int(source.seed) && source.seed >= 0 && source.seed <= 2 ** 31 - 1, `seed ${source.seed}`);
  check((['auto', ...BACKENDS] as string[]).includes(compute.backend), `backend ${compute.backend}`);
  check(typeof compute.causal === 'boolean', `causal ${compute.causal}`);
  check(compute.scale === null || (Number.isFinite(compute.scale) && compute.scale > 0), `scale ${compute.scale}`);
  check(int(view.head) && view.head >= 0 && view.head < source.heads, `head ${view.head} of ${source.heads}`);
  check(['weights', 'scores', 'logWeights'].includes(view.mode), `mode ${view.mode}`);
  check(['shared', 'perHead'].includes(view.gridScale), `grid ${view.gridScale}`);
  check((SEQUENTIAL_MAPS as readonly string[]).includes(view.colormap), `cmap ${view.colormap}`);
  if (s.locked) {
    check(int(s.locked.q) && s.locked.q >= 0, `lock q ${s.locked.q}`);
    check(s.locked.k === null || (int(s.locked.k) && s.locked.k >= 0), `lock k ${s.locked.k}`);
  }
  return bad;
}

const TRICKY_TEXTS = [
  DEFAULT_INPUTS.source.text,
  'a & b = c # d % e ? f + g',
  'line one\nline two\r\nline three\ttabbed',
  'emoji 😀👍🏽👨‍👩‍👧 🇫🇷 ❤️',
  '<script>alert("x")</script> & <b>bold</b>',
  '%20 %zz %% %E2%82%AC 100%',
  'plus+sign and space',
  '  leading and trailing spaces  ',
  'café Straße Привет 你好',
  '',
  'x',
  '?v=2&h=999#frag',
  "quotes ' \" ` and backslash \\",
];

describe('largestDivisorAtMost', () => {
  it('returns the largest divisor of n that is ≤ k', () => {
    expect(largestDivisorAtMost(8, 3)).toBe(2);
    expect(largestDivisorAtMost(8, 4)).toBe(4);
    expect(largestDivisorAtMost(12, 5)).toBe(4);
    expect(largestDivisorAtMost(12, 12)).toBe(12);
    expect(largestDivisorAtMost(7, 6)).toBe(1);
    expect(largestDivisorAtMost(7, 7)).toBe(7);
    expect(largestDivisorAtMost(6, 100)).toBe(6);
    expect(largestDivisorAtMost(6, 0)).toBe(1);
    expect(largestDivisorAtMost(6, -3)).toBe(1);
  });

  it('agrees with brute force', () => {
    for (let n = 1; n <= 40; n++)
      for (let k = 1; k <= 45; k++) {
        let best = 1;
        for (let x = 1; x <= Math.min(n, k); x++) if (n % x === 0) best = x;
        expect(largestDivisorAtMost(n, k)).toBe(best);
      }
  });
});

describe('encodeState', () => {
  it('writes a readable, versioned query string', () => {
    const q = encodeState({ inputs: DEFAULT_INPUTS, locked: { q: 3, k: 5 } });
    const p = new URLSearchParams(q);
    expect(p.get('v')).toBe(String(URL_VERSION));
    expect(p.get('h')).toBe('8');
    expect(p.get('kv')).toBe('4');
    expect(p.get('pattern')).toBe('mixed');
    expect(p.get('lock')).toBe('3,5');
    expect(p.get('scale')).toBeNull(); // default scale is not written
    expect(q.startsWith('?')).toBe(false);
  });

  it('escapes text so that it cannot break the query string', () => {
    const text = 'a&h=1#x?y=%';
    const q = encodeState({ inputs: withInputs({ source: { text } }), locked: null });
    expect(q).not.toContain('&h=1');
    expect(q).not.toContain('#');
    expect(new URLSearchParams(q).get('text')).toBe(text);
    expect(new URLSearchParams(q).getAll('h')).toEqual(['8']);
  });
});

describe('decodeState: round trip', () => {
  it('round-trips the defaults without messages', () => {
    const r = decodeState(encodeState({ inputs: DEFAULT_INPUTS, locked: null }));
    expect(r.messages).toEqual([]);
    expect(r.inputs).toEqual(DEFAULT_INPUTS);
    expect(r.locked).toBeNull();
  });

  it('round-trips the synthetic video grid, and explains a bad or oversized one', () => {
    const inputs = withInputs({ source: { kind: 'video', grid: { T: 3, Hp: 6, Wp: 10 } }, compute: { causal: false } });
    const q = encodeState({ inputs, locked: null });
    expect(new URLSearchParams(q).get('video')).toBe('3x6x10');
    expect(new URLSearchParams(q).get('text')).toBeNull(); // the video has no text
    const r = decodeState(q);
    expect(r.messages).toEqual([]);
    expect(r.inputs.source.kind).toBe('video');
    expect(r.inputs.source.grid).toEqual({ T: 3, Hp: 6, Wp: 10 });
    const bad = decodeState('?video=4x8');
    expect(bad.inputs.source.kind).toBe('synthetic');
    expect(bad.messages.join()).toMatch(/video="4x8" is not frames×height×width \(e.g. 4x8x8\)/);
    const big = decodeState('?video=64x64x64');
    expect(big.inputs.source.kind).toBe('video');
    expect(big.inputs.source.grid).toEqual(DEFAULT_INPUTS.source.grid);
    expect(big.messages.join()).toMatch(/262144 tokens; the video grid takes 1 to 1024/);
  });

  it('round-trips a built-in model at a training step, and refuses a name that is not one', () => {
    const inputs = withInputs({ source: { kind: 'imported', model: { id: 'sotu-llama', step: 3 }, layer: 2, positions: 'preRope' } });
    const q = encodeState({ inputs, locked: null });
    const p = new URLSearchParams(q);
    expect([p.get('model'), p.get('mstep'), p.get('layer'), p.get('pos')]).toEqual(['sotu-llama', '3', '2', 'pre']);
    const r = decodeState(q);
    expect(r.messages).toEqual([]);
    expect(r.inputs.source).toMatchObject({ kind: 'imported', model: { id: 'sotu-llama', step: 3 }, layer: 2, positions: 'preRope' });
    const bad = decodeState('?model=../../etc/passwd');
    expect(bad.inputs.source.kind).toBe('synthetic');
    expect(bad.messages.join()).toMatch(/model="..\/..\/etc\/passwd" is not the name of a built-in model; ignored/);
  });

  it('round-trips tricky texts exactly', () => {
    for (const text of TRICKY_TEXTS) {
      const inputs = withInputs({ source: { text } });
      const q = encodeState({ inputs, locked: null });
      const r = decodeState(q);
      expect(r.messages).toEqual([]);
      expect(r.inputs.source.text).toBe(text);
      expect(r.inputs).toEqual(inputs);
      // also when read with the leading '?' of location.search
      expect(decodeState('?' + q).inputs).toEqual(inputs);
    }
  });

  it('round-trips many varied valid states', () => {
    const rand = mulberry32(2024);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)];
    for (let n = 0; n < 300; n++) {
      const heads = 1 + Math.floor(rand() * LIMITS.maxHeads);
      const divisors = Array.from({ length: heads }, (_, i) => i + 1).filter((x) => heads % x === 0);
      const inputs: Inputs = {
        source: {
          ...DEFAULT_INPUTS.source,
          ...(n % 3 === 0 ? { kind: 'imported' as const, url: `/data/dump ${n}.safetensors`, layer: n % 12, positions: n % 2 ? ('preRope' as const) : ('captured' as const) } : {}),
          text: pick(TRICKY_TEXTS) + ' ' + n,
          pattern: pick(PATTERNS),
          heads,
          kvHeads: pick(divisors),
          headDim: 1 + Math.floor(rand() * LIMITS.maxHeadDim),
          temperature: LIMITS.minTemperature + rand() * (LIMITS.maxTemperature - LIMITS.minTemperature),
          seed: Math.floor(rand() * 2 ** 31),
        },
        compute: {
          backend: pick(['auto', ...BACKENDS] as const),
          causal: rand() < 0.5,
          scale: rand() < 0.5 ? null : 0.001 + rand() * 10,
        },
        view: {
          head: Math.floor(rand() * heads),
          mode: pick(['weights', 'scores', 'logWeights'] as const),
          gridScale: pick(['shared', 'perHead'] as const),
          colormap: pick(SEQUENTIAL_MAPS),
          compare: pick(['method', 'reference', 'diff'] as const),
        },
        method: pick<Inputs['method']>([
          { id: 'mha', params: {} },
          { id: 'kdgqa', params: { groups: 2, mode: 'proportional' } },
          { id: 'dgqa', params: { variant: 'ema', beta: 0.75, step: 3, seed: Math.floor(rand() * 1000) } },
        ]),
      };
      const locked = pick([null, { q: Math.floor(rand() * 500), k: null }, { q: Math.floor(rand() * 500), k: Math.floor(rand() * 500) }]);
      const r = decodeState(encodeState({ inputs, locked }));
      expect(r.messages).toEqual([]);
      expect(r.inputs).toEqual(inputs);
      expect(r.locked).toEqual(locked);
    }
  });

  it('decodes against a custom base', () => {
    const base = clone(DEFAULT_INPUTS);
    base.source.heads = 12;
    base.source.kvHeads = 3;
    const r = decodeState('?pattern=self', base);
    expect(r.messages).toEqual([]);
    expect(r.inputs.source.heads).toBe(12);
    expect(r.inputs.source.kvHeads).toBe(3);
    expect(r.inputs.source.pattern).toBe('self');
  });
});

describe('decodeState: empty and partial links', () => {
  it('gives the defaults with no messages for an empty query', () => {
    for (const q of ['', '?', '?embed=1', '?fail=webgl', 'embed=1&fail=webgpu,webgl']) {
      const r = decodeState(q);
      expect(r.messages).toEqual([]);
      expect(r.inputs).toEqual(DEFAULT_INPUTS);
      expect(r.locked).toBeNull();
    }
  });

  it('fills missing parameters from the defaults without messages', () => {
    const r = decodeState('?v=1&pattern=sink&T=0.5');
    expect(r.messages).toEqual([]);
    expect(r.inputs.source.pattern).toBe('sink');
    expect(r.inputs.source.temperature).toBe(0.5);
    expect(r.inputs.source.text).toBe(DEFAULT_INPUTS.source.text);
    expect(r.inputs.source.heads).toBe(DEFAULT_INPUTS.source.heads);
    expect(r.inputs.view).toEqual(DEFAULT_INPUTS.view);
  });

  it('does not mutate the defaults', () => {
    const before = clone(DEFAULT_INPUTS);
    decodeState('?h=2&kv=2&head=1&text=hello&T=3');
    decodeState('?h=abc&T=1e9');
    expect(DEFAULT_INPUTS).toEqual(before);
  });
});

describe('decodeState: invalid values are clamped or replaced, with a message naming the parameter', () => {
  it('heads 0 → 1', () => {
    const r = expectMessage('?h=0', /\bh\b|heads/);
    expect(r.inputs.source.heads).toBe(1);
    expect(r.inputs.source.kvHeads).toBe(1);
    expect(r.inputs.view.head).toBe(0);
  });

  it('heads 999 → the maximum', () => {
    const r = expectMessage('?h=999', /\bh\b|heads/);
    expect(r.inputs.source.heads).toBe(LIMITS.maxHeads);
  });

  it('heads "abc", "2.5", "" and "Infinity" → the default', () => {
    for (const v of ['abc', '2.5', 'Infinity', 'NaN', '1e400']) {
      const r = expectMessage(`?h=${v}`, /\bh\b|heads/);
      expect(r.inputs.source.heads).toBe(DEFAULT_INPUTS.source.heads);
    }
    const empty = expectMessage('?h=', /\bh\b|heads/);
    expect(empty.inputs.source.heads).toBeGreaterThanOrEqual(1);
  });

  it('kv that does not divide heads → the largest divisor below it', () => {
    const r = expectMessage('?h=8&kv=3', /kv|KV heads/i);
    expect(r.inputs.source.kvHeads).toBe(2);
    const r2 = expectMessage('?h=12&kv=5', /kv|KV heads/i);
    expect(r2.inputs.source.kvHeads).toBe(4);
  });

  it('kv above heads, zero or not a number', () => {
    const a = expectMessage('?h=4&kv=8', /kv|KV heads/i);
    expect(a.inputs.source.kvHeads).toBe(4);
    const b = expectMessage('?h=4&kv=0', /kv|KV heads/i);
    expect(b.inputs.source.kvHeads).toBe(1);
    const c = expectMessage('?h=4&kv=two', /kv|KV heads/i);
    expect(4 % c.inputs.source.kvHeads).toBe(0);
  });

  it('heads that the default kv does not divide', () => {
    // default kvHeads is 4; 6 heads cannot share 4
    const r = decodeState('?h=6');
    expect(r.inputs.source.heads).toBe(6);
    expect(6 % r.inputs.source.kvHeads).toBe(0);
    expect(r.inputs.source.kvHeads).toBe(3);
  });

  it('T out of range is clamped', () => {
    const lo = expectMessage('?T=0', /\bT\b|temperature/);
    expect(lo.inputs.source.temperature).toBe(LIMITS.minTemperature);
    const hi = expectMessage('?T=1000', /\bT\b|temperature/);
    expect(hi.inputs.source.temperature).toBe(LIMITS.maxTemperature);
    const neg = expectMessage('?T=-2', /\bT\b|temperature/);
    expect(neg.inputs.source.temperature).toBe(LIMITS.minTemperature);
    const nan = expectMessage('?T=warm', /\bT\b|temperature/);
    expect(nan.inputs.source.temperature).toBe(DEFAULT_INPUTS.source.temperature);
  });

  it('head dimension and seed out of range', () => {
    const d0 = expectMessage('?d=0', /\bd\b|head dimension/);
    expect(d0.inputs.source.headDim).toBe(1);
    const dBig = expectMessage('?d=100000', /\bd\b|head dimension/);
    expect(dBig.inputs.source.headDim).toBe(LIMITS.maxHeadDim);
    const s = expectMessage('?seed=-5', /seed/);
    expect(s.inputs.source.seed).toBe(0);
    const s2 = expectMessage('?seed=99999999999999', /seed/);
    expect(s2.inputs.source.seed).toBe(2 ** 31 - 1);
    const s3 = expectMessage('?seed=1.5', /seed/);
    expect(s3.inputs.source.seed).toBe(DEFAULT_INPUTS.source.seed);
  });

  it('view head beyond the heads is clamped', () => {
    const r = expectMessage('?h=4&kv=2&head=9', /head/);
    expect(r.inputs.view.head).toBe(3);
    const n = expectMessage('?head=-1', /head/);
    expect(n.inputs.view.head).toBe(0);
  });

  it('unknown pattern, backend, mode, grid and cmap', () => {
    const cases: [string, RegExp, (r: ReturnType<typeof decodeState>) => unknown, unknown][] = [
      ['?pattern=spiral', /pattern/, (r) => r.inputs.source.pattern, DEFAULT_INPUTS.source.pattern],
      ['?pattern=MIXED', /pattern/, (r) => r.inputs.source.pattern, DEFAULT_INPUTS.source.pattern],
      ['?backend=cuda', /backend/, (r) => r.inputs.compute.backend, DEFAULT_INPUTS.compute.backend],
      ['?mode=probabilities', /mode/, (r) => r.inputs.view.mode, DEFAULT_INPUTS.view.mode],
      ['?grid=both', /grid/, (r) => r.inputs.view.gridScale, DEFAULT_INPUTS.view.gridScale],
      ['?cmap=jet', /cmap/, (r) => r.inputs.view.colormap, DEFAULT_INPUTS.view.colormap],
      ['?cmap=RdBu', /cmap/, (r) => r.inputs.view.colormap, DEFAULT_INPUTS.view.colormap],
    ];
    for (const [q, name, get, expected] of cases) {
      const r = expectMessage(q, name);
      expect(get(r)).toBe(expected);
    }
  });

  it('a message quotes a long bad value only in part', () => {
    const r = expectMessage('?pattern=' + 'z'.repeat(5000), /pattern/);
    expect(r.messages.join('\n').length).toBeLessThan(500);
  });

  it('scale that is not a positive number', () => {
    const a = expectMessage('?scale=abc', /scale/);
    expect(a.inputs.compute.scale).not.toBeNaN();
    const b = expectMessage('?scale=0', /scale/);
    expect(b.inputs.compute.scale).toBeGreaterThan(0);
    const c = expectMessage('?scale=-3', /scale/);
    expect(c.inputs.compute.scale).toBeGreaterThan(0);
  });

  it('causal reads 0 and 1, and reports anything else', () => {
    expect(decodeState('?causal=0').inputs.compute.causal).toBe(false);
    expect(decodeState('?causal=1').inputs.compute.causal).toBe(true);
    expect(decodeState('?causal=1').messages).toEqual([]);
    expectMessage('?causal=maybe', /causal/);
  });

  it('malformed lock is ignored with a message', () => {
    for (const v of ['x', '1,2,3', '-1', '1,', ',2', '1;2', '1.5', '9999999', '1,b']) {
      const r = expectMessage(`?lock=${encodeURIComponent(v)}`, /lock/);
      expect(r.locked).toBeNull();
    }
    expect(decodeState('?lock=4').locked).toEqual({ q: 4, k: null });
    expect(decodeState('?lock=4,7').locked).toEqual({ q: 4, k: 7 });
    expect(decodeState('?lock=4%2C7').locked).toEqual({ q: 4, k: 7 });
  });

  it('huge text over LIMITS.maxTextChars is truncated, with a message', () => {
    const text = 'abc '.repeat(LIMITS.maxTextChars / 2); // twice the limit
    const q = new URLSearchParams({ text }).toString();
    const r = expectMessage(q, /text/);
    expect(r.inputs.source.text.length).toBe(LIMITS.maxTextChars);
    expect(r.inputs.source.text).toBe(text.slice(0, LIMITS.maxTextChars));
    expect(r.messages.some((m) => m.includes(String(LIMITS.maxTextChars)))).toBe(true);
    // exactly at the limit: kept, no message
    const exact = 'x'.repeat(LIMITS.maxTextChars);
    const e = decodeState(new URLSearchParams({ text: exact }).toString());
    expect(e.messages).toEqual([]);
    expect(e.inputs.source.text).toBe(exact);
  });

  it('an unsupported version produces a message, and the values are still read', () => {
    const r = expectMessage('?v=99&h=2&kv=1', /version/);
    expect(r.messages.some((m) => m.includes('99'))).toBe(true);
    expect(r.inputs.source.heads).toBe(2);
    expectMessage('?v=abc&pattern=self', /version/);
    expect(decodeState('?v=1&h=2&kv=1').messages).toEqual([]);
  });

  it('reports every bad parameter of one link', () => {
    const r = decodeState('?h=0&T=99&pattern=nope&cmap=jet&lock=zz');
    expect(r.messages.length).toBeGreaterThanOrEqual(5);
    for (const name of [/heads/, /temperature/, /pattern/, /cmap/, /lock/]) expect(r.messages.some((m) => name.test(m))).toBe(true);
  });

  it('messages are plain strings that start with "link:"', () => {
    const r = decodeState('?h=abc&mode=x');
    for (const m of r.messages) {
      expect(typeof m).toBe('string');
      expect(m.startsWith('link:')).toBe(true);
    }
  });
});

describe('decodeState: fuzzing', () => {
  const KEYS = ['v', 'text', 'pattern', 'h', 'kv', 'd', 'T', 'seed', 'backend', 'causal', 'scale', 'head', 'mode', 'grid', 'cmap', 'lock', 'embed', 'fail'];
  const CHARS = '&=%?#,0123456789abcdefxyzABCXYZ-+.e ';

  it('never throws on garbage strings and keeps every value within LIMITS', () => {
    let seed = 12345;
    const lcg = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    let slowest = 0;
    const problems: string[] = [];
    let withMessages = 0;
    for (let n = 0; n < 2000; n++) {
      let s = '';
      const len = Math.floor(lcg() * 80);
      if (n % 2 === 0) {
        // raw characters
        for (let i = 0; i < len; i++) s += CHARS[Math.floor(lcg() * CHARS.length)];
      } else {
        // plausible keys with garbage values, so that every parameter gets exercised
        const parts = 1 + Math.floor(lcg() * 6);
        const seg: string[] = [];
        for (let p = 0; p < parts; p++) {
          let v = '';
          const vl = Math.floor(lcg() * 12);
          for (let i = 0; i < vl; i++) v += CHARS[Math.floor(lcg() * CHARS.length)];
          seg.push(KEYS[Math.floor(lcg() * KEYS.length)] + '=' + v);
        }
        s = (lcg() < 0.5 ? '?' : '') + seg.join('&');
      }
      const t0 = performance.now();
      try {
        const r = decodeState(s);
        slowest = Math.max(slowest, performance.now() - t0);
        if (r.messages.length > 0) withMessages++;
        if (!Array.isArray(r.messages) || r.messages.some((m) => typeof m !== 'string')) problems.push(`${JSON.stringify(s)}: messages ${String(r.messages)}`);
        for (const v of violations(r)) problems.push(`${JSON.stringify(s)}: ${v}`);
      } catch (e) {
        problems.push(`${JSON.stringify(s)} threw ${(e as Error).message}`);
      }
    }
    expect(problems).toEqual([]);
    expect(withMessages).toBeGreaterThan(500); // the fuzz really reaches the validators
    // a hang guard, not a benchmark: one decode of ≤ 80 characters is far below this
    expect(slowest).toBeLessThan(1000);
  });

  it('the LIMITS checker used here catches out-of-range states', () => {
    const good = decodeState('');
    expect(violations(good)).toEqual([]);
    const bad = JSON.parse(JSON.stringify(good)) as Shareable;
    bad.inputs.source.heads = 6;
    bad.inputs.source.kvHeads = 4;
    bad.inputs.source.temperature = 0;
    bad.inputs.view.head = 6;
    bad.inputs.view.colormap = 'jet' as never;
    bad.locked = { q: -1, k: 1.5 };
    expect(violations(bad)).toHaveLength(6);
  });

  it('keeps huge and nasty values within LIMITS', () => {
    const nasty = [
      '?h=' + '9'.repeat(400),
      '?T=' + '1'.repeat(400) + '&d=-0&seed=-0',
      '?head=1e308&h=32&kv=32',
      '?h=32&kv=31&head=31',
      '?lock=' + '1'.repeat(7) + ',' + '2'.repeat(7),
      '?text=' + '%'.repeat(60_000),
      '?text=' + encodeURIComponent('😀'.repeat(30_000)),
      '?h=0x10&kv=0b11&d=0o7',
      '?h=%00&kv=%FF&T=%',
      '&&&===???###',
    ];
    for (const q of nasty) {
      let r: ReturnType<typeof decodeState> | undefined;
      expect(() => {
        r = decodeState(q);
      }, q.slice(0, 60)).not.toThrow();
      expect(violations(r!), q.slice(0, 60)).toEqual([]);
    }
  });

  it('carries the method and its parameters, and refuses unreadable ones with a message', () => {
    const inputs = withInputs({ method: { id: 'kdgqa', params: { groups: 4, mode: 'proportional' } }, view: { compare: 'diff' } });
    const q = encodeState({ inputs, locked: null });
    expect(q).toContain('method=kdgqa');
    expect(q).toContain('mp.groups=4');
    const back = decodeState(q);
    expect(back.messages).toEqual([]);
    expect(back.inputs.method).toEqual({ id: 'kdgqa', params: { groups: 4, mode: 'proportional' } });
    expect(back.inputs.view.compare).toBe('diff');
    const bad = decodeState('v=1&method=%3Cscript%3E&mp.groups=2');
    expect(bad.inputs.method).toEqual(DEFAULT_INPUTS.method);
    expect(bad.messages.join(' ')).toMatch(/method="<script>" is not a method name/);
    const badParam = decodeState(`v=1&method=gqa&mp.${'x'.repeat(30)}=1&mp.groups=${'9'.repeat(50)}`);
    expect(badParam.inputs.method).toEqual({ id: 'gqa', params: {} });
    expect(badParam.messages.length).toBe(2);
  });
});

describe('short links (issue 8: permalinks to paste)', () => {
  it('leave out every default, compress a long text, and open the same state as the full link', () => {
    const long = 'The Congress shall have power to lay and collect taxes, duties, imposts and excises, to pay the debts and provide for the common defence and general welfare of the United States; but all duties, imposts and excises shall be uniform throughout the United States. <b>&</b> “café”';
    const states: Shareable[] = [
      { inputs: DEFAULT_INPUTS, locked: null },
      { inputs: { ...DEFAULT_INPUTS, view: { ...DEFAULT_INPUTS.view, head: 3 } }, locked: { q: 20, k: 14 } },
      { inputs: { ...DEFAULT_INPUTS, source: { ...DEFAULT_INPUTS.source, text: long, heads: 12, kvHeads: 4 }, method: { id: 'moba', params: { block: 4, topk: 2 } } }, locked: { q: 5, k: null } },
      { inputs: { ...DEFAULT_INPUTS, source: { ...DEFAULT_INPUTS.source, kind: 'imported', model: { id: 'mcqa-tiny', step: 3 }, layer: 2 }, view: { ...DEFAULT_INPUTS.view, head: 3 } }, locked: null },
    ];
    for (const st of states) {
      const short = encodeState(st, { short: true });
      const full = encodeState(st);
      expect(short.length).toBeLessThan(full.length);
      expect(decodeState(short)).toEqual(decodeState(full));
      expect(decodeState(short).messages).toEqual([]);
    }
    expect(encodeState(states[0], { short: true })).toBe('v=1');
    expect(encodeState(states[1], { short: true })).toBe('v=1&head=3&lock=20%2C14');
    const withText = encodeState(states[2], { short: true });
    expect(withText).toMatch(/(^|&)tz=[A-Za-z0-9_-]+/);
    expect(withText).not.toMatch(/(^|&)text=/);
    expect(withText.length).toBeLessThan(encodeURIComponent(long).length);
    expect(decompressText(compressText(long))).toBe(long);
  });

  it('a damaged compressed text falls back to the default text and says so', () => {
    const d = decodeState('v=1&tz=not!base64');
    expect(d.inputs.source.text).toBe(DEFAULT_INPUTS.source.text);
    expect(d.messages[0]).toMatch(/tz=.*is not a compressed text/);
    expect(decodeState('v=1&tz=AAAA').messages[0]).toMatch(/is not a compressed text/);
  });
});
