import { describe, expect, it } from 'vitest';
import { clampCell, planCompute } from '../../src/state/request';
import { tokenCap } from '../../src/state/caps';
import { DEFAULT_INPUTS, LIMITS } from '../../src/state/defaults';
import { BACKENDS } from '../../src/core/backendNames';
import type { Inputs } from '../../src/state/types';

type Patch = { source?: Partial<Inputs['source']>; compute?: Partial<Inputs['compute']>; view?: Partial<Inputs['view']> };

function inputs(patch: Patch = {}): Inputs {
  return {
    source: { ...DEFAULT_INPUTS.source, ...patch.source },
    compute: { ...DEFAULT_INPUTS.compute, ...patch.compute },
    method: DEFAULT_INPUTS.method,
    view: { ...DEFAULT_INPUTS.view, ...patch.view },
  };
}

function keyOf(patch: Patch = {}): string {
  const r = planCompute(inputs(patch));
  expect(r.error).toBeNull();
  return r.plan!.key;
}

describe('planCompute', () => {
  it('builds a plan from the inputs', () => {
    const r = planCompute(inputs({ source: { text: 'the cat, the dog' }, compute: { causal: false, scale: 0.25, backend: 'cpu' } }));
    expect(r.error).toBeNull();
    const p = r.plan!;
    expect(p.tokens).toEqual(['the', 'cat', ',', 'the', 'dog']);
    expect(p.spec).toEqual({
      tokens: p.tokens,
      pattern: DEFAULT_INPUTS.source.pattern,
      heads: DEFAULT_INPUTS.source.heads,
      kvHeads: DEFAULT_INPUTS.source.kvHeads,
      headDim: DEFAULT_INPUTS.source.headDim,
      temperature: DEFAULT_INPUTS.source.temperature,
      seed: DEFAULT_INPUTS.source.seed,
    });
    expect(p.options).toMatchObject({ causal: false, scale: 0.25 });
    expect(p.backend).toBe('cpu');
    expect(typeof p.key).toBe('string');
  });

  it('gives the same key for the same inputs', () => {
    expect(keyOf()).toBe(keyOf());
    const a = planCompute(inputs({ source: { seed: 3 } })).plan!.key;
    const b = planCompute(JSON.parse(JSON.stringify(inputs({ source: { seed: 3 } })))).plan!.key;
    expect(a).toBe(b);
  });

  it('changes the key when any input that affects the result changes', () => {
    const base = keyOf();
    const changes: [string, Patch][] = [
      ['text', { source: { text: DEFAULT_INPUTS.source.text + ' again' } }],
      ['text (one word differs)', { source: { text: DEFAULT_INPUTS.source.text.replace('Mary', 'Anna') } }],
      ['text (case)', { source: { text: DEFAULT_INPUTS.source.text.replace('When', 'when') } }],
      ['pattern', { source: { pattern: 'sink' } }],
      ['heads', { source: { heads: 4 } }],
      ['kvHeads', { source: { kvHeads: 2 } }],
      ['headDim', { source: { headDim: 16 } }],
      ['temperature', { source: { temperature: 0.5 } }],
      ['seed', { source: { seed: 8 } }],
      ['causal', { compute: { causal: false } }],
      ['scale', { compute: { scale: 0.125 } }],
      ['backend', { compute: { backend: 'cpu' } }],
    ];
    const keys = new Set([base]);
    for (const [name, patch] of changes) {
      const k = keyOf(patch);
      expect(k, name).not.toBe(base);
      keys.add(k);
    }
    expect(keys.size).toBe(changes.length + 1); // all different from each other too
  });

  it('gives every backend its own key', () => {
    const keys = new Set((['auto', ...BACKENDS] as const).map((backend) => keyOf({ compute: { backend } })));
    expect(keys.size).toBe(BACKENDS.length + 1);
  });

  it('does not change the key when only view options change', () => {
    const base = keyOf();
    const views: Patch[] = [
      { view: { head: 5 } },
      { view: { mode: 'scores' } },
      { view: { mode: 'logWeights' } },
      { view: { gridScale: 'shared' } },
      { view: { colormap: 'magma' } },
      { view: { head: 2, mode: 'scores', gridScale: 'shared', colormap: 'cividis' } },
    ];
    for (const v of views) expect(keyOf(v)).toBe(base);
  });

  it('shares a key between texts that tokenize the same', () => {
    expect(keyOf({ source: { text: 'a  b\n\nc' } })).toBe(keyOf({ source: { text: 'a b c' } }));
  });

  it('does not confuse token boundaries in the key', () => {
    // same characters, different tokens
    expect(keyOf({ source: { text: 'ab c' } })).not.toBe(keyOf({ source: { text: 'a bc' } }));
    expect(keyOf({ source: { text: '1,000' } })).not.toBe(keyOf({ source: { text: '1, 000' } }));
  });

  it('gives an error for text without tokens', () => {
    for (const text of ['', '   ', '\n\t']) {
      const r = planCompute(inputs({ source: { text } }));
      expect(r.plan).toBeNull();
      expect(r.error).toMatch(/no tokens/i);
    }
  });

  it('gives an error naming the cap number and the reason when the text has too many tokens', () => {
    const { cap, why } = tokenCap('cpu', 8);
    const text = 'w '.repeat(cap + 1);
    const r = planCompute(inputs({ source: { text, heads: 8 }, compute: { backend: 'cpu' } }));
    expect(r.plan).toBeNull();
    expect(r.error).toContain(String(cap));
    expect(r.error).toContain(why);
    expect(r.error).toMatch(/8 heads/);
    expect(r.error).toMatch(/cpu/);
    // exactly at the cap is fine
    const ok = planCompute(inputs({ source: { text: 'w '.repeat(cap), heads: 8 }, compute: { backend: 'cpu' } }));
    expect(ok.error).toBeNull();
    expect(ok.plan!.tokens).toHaveLength(cap);
  });

  it('uses the WebGL cap, and says so, on the webgl backend', () => {
    const { cap, why } = tokenCap('webgl', 32);
    expect(cap).toBeLessThan(tokenCap('cpu', 32).cap);
    const text = 'w '.repeat(cap + 1);
    const gl = planCompute(inputs({ source: { text, heads: 32, kvHeads: 8 }, compute: { backend: 'webgl' } }));
    expect(gl.plan).toBeNull();
    expect(gl.error).toContain(String(cap));
    expect(gl.error).toContain(why);
    expect(gl.error).toMatch(/WebGL/);
    // the same text fits on the cpu backend
    const cpu = planCompute(inputs({ source: { text, heads: 32, kvHeads: 8 }, compute: { backend: 'cpu' } }));
    expect(cpu.error).toBeNull();
  });

  it('calls the auto backend "this browser" in the message', () => {
    const { cap } = tokenCap('auto', 1);
    const r = planCompute(inputs({ source: { text: 'w '.repeat(cap + 5), heads: 1, kvHeads: 1 }, compute: { backend: 'auto' } }));
    expect(r.error).toMatch(/this browser/);
  });

  it('reads no more than cap + 1 tokens of a huge text', () => {
    // a 400k-token text must be rejected quickly, not tokenized in full
    const text = 'w '.repeat(400_000);
    const r = planCompute(inputs({ source: { text } }));
    expect(r.plan).toBeNull();
    expect(r.error).toMatch(/more than/);
  });
});

describe('tokenCap', () => {
  it('is the absolute token cap for few heads', () => {
    for (const b of ['auto', 'cpu', 'wasm', 'webgpu', 'webgl'] as const) {
      const { cap, why } = tokenCap(b, 1);
      expect(cap).toBe(LIMITS.maxTokens);
      expect(why).toContain(String(LIMITS.maxTokens));
    }
  });

  it('keeps the read-back maps within the memory budget', () => {
    for (let h = 1; h <= LIMITS.maxHeads; h++) {
      const { cap } = tokenCap('cpu', h);
      expect(Number.isInteger(cap)).toBe(true);
      expect(cap).toBeGreaterThan(0);
      expect(cap).toBeLessThanOrEqual(LIMITS.maxTokens);
      expect(2 * 4 * h * cap * cap).toBeLessThanOrEqual(LIMITS.mapBudgetBytes);
    }
    // 32 heads: √(2^30 / 256) = 2048
    const m = tokenCap('cpu', 32);
    expect(m.cap).toBe(2048);
    expect(m.why).toMatch(/GiB/);
    expect(m.why).toMatch(/32 heads/);
  });

  it('does not increase with more heads', () => {
    for (const b of ['cpu', 'webgl'] as const) {
      let prev = Infinity;
      for (let h = 1; h <= LIMITS.maxHeads; h++) {
        const { cap } = tokenCap(b, h);
        expect(cap).toBeLessThanOrEqual(prev);
        prev = cap;
      }
    }
  });

  it('is lower on webgl than the memory cap for many heads, and fits one texture', () => {
    for (const h of [8, 16, 32]) {
      const gl = tokenCap('webgl', h);
      const mem = tokenCap('cpu', h);
      expect(gl.cap).toBeLessThan(mem.cap);
      expect(gl.why).toMatch(/WebGL/);
      expect(h * gl.cap * gl.cap).toBeLessThanOrEqual(LIMITS.webglMaxTexture ** 2);
    }
    expect(tokenCap('webgl', 32).cap).toBe(Math.floor(8192 / Math.sqrt(32)));
  });

  it('treats non-webgl backends alike', () => {
    for (const h of [1, 3, 8, 17, 32]) {
      const ref = tokenCap('cpu', h);
      for (const b of ['auto', 'wasm', 'webgpu'] as const) expect(tokenCap(b, h)).toEqual(ref);
    }
  });
});

describe('clampCell', () => {
  it('returns null for no cell or no tokens', () => {
    expect(clampCell(null, 10)).toBeNull();
    expect(clampCell({ q: 1, k: 1 }, 0)).toBeNull();
    expect(clampCell({ q: 1, k: null }, -1)).toBeNull();
  });

  it('keeps cells inside the token range unchanged', () => {
    expect(clampCell({ q: 3, k: 2 }, 10)).toEqual({ q: 3, k: 2 });
    expect(clampCell({ q: 0, k: 0 }, 1)).toEqual({ q: 0, k: 0 });
    expect(clampCell({ q: 9, k: null }, 10)).toEqual({ q: 9, k: null });
  });

  it('clamps query and key to the last token', () => {
    expect(clampCell({ q: 50, k: 70 }, 10)).toEqual({ q: 9, k: 9 });
    expect(clampCell({ q: 50, k: 3 }, 10)).toEqual({ q: 9, k: 3 });
    expect(clampCell({ q: 3, k: 70 }, 10)).toEqual({ q: 3, k: 9 });
    expect(clampCell({ q: 10, k: null }, 10)).toEqual({ q: 9, k: null });
    expect(clampCell({ q: 999999, k: 999999 }, 1)).toEqual({ q: 0, k: 0 });
  });

  it('does not mutate its argument', () => {
    const c = { q: 50, k: 70 };
    clampCell(c, 10);
    expect(c).toEqual({ q: 50, k: 70 });
  });
});
