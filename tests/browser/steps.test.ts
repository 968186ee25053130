import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ARTIFACTS, openPage, painted, startEnv, type Env } from './setup';
import { syntheticQKV } from '../../src/core/synthetic';
import { referenceAttention } from '../../src/core/referenceAttention';
import { tokenize } from '../../src/core/tokenize';
import { DEFAULT_INPUTS, DEFAULT_TEXT } from '../../src/state/defaults';

let env: Env;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => {
  await env?.close();
});

describe('step-through of the computation (issue 8)', () => {
  it('eight steps forward and back with the keys; the softmax step shows the numbers of the head, as the library computes them', async () => {
    const { page, errors } = await openPage(env, '?v=1&head=5&lock=3,1');
    await painted(page);
    await page.keyboard.press('s');
    await page.waitForSelector('[data-testid=steps][data-step=tokens]');
    const titles = ['1. Tokens', '2. Queries Q', '3. Keys K', '4. Q Kᵀ', `5. Scale by 1/√d = 1/${+Math.sqrt(DEFAULT_INPUTS.source.headDim).toFixed(3)}`, '6. Causal mask', '7. Softmax', '8. Weights × V'];
    for (let i = 0; i < 8; i++) {
      await expect.poll(() => page.locator('[data-testid=steps-title]').textContent()).toBe(titles[i]);
      await page.keyboard.press('PageDown');
    }
    // Past the end it stays on the last step; back with PageUp / b.
    expect(await page.locator('[data-testid=steps]').getAttribute('data-step')).toBe('output');
    await page.keyboard.press('PageUp');
    await expect.poll(() => page.locator('[data-testid=steps]').getAttribute('data-step')).toBe('softmax');
    // The weights of the first 8 tokens of head 5, as the library computes them on the same source.
    const tokens = tokenize(DEFAULT_TEXT).map((t) => t.text);
    const s = DEFAULT_INPUTS.source;
    const x = syntheticQKV({ tokens, pattern: s.pattern, heads: s.heads, kvHeads: s.kvHeads, headDim: s.headDim, temperature: s.temperature, seed: s.seed });
    const ref = referenceAttention(x, { causal: true });
    const N = tokens.length;
    const shown = await page.locator('[data-testid=steps-matrix] td[data-v]').evaluateAll((els) => els.map((e) => e.getAttribute('data-v')));
    expect(shown).toHaveLength(64);
    shown.forEach((v, c) => expect(Math.abs(Number(v) - ref.weights[(5 * N + Math.floor(c / 8)) * N + (c % 8)]), `cell ${c}`).toBeLessThan(1e-6));
    // The locked query's row is marked.
    expect(await page.locator('.steps-row-locked th').textContent()).toMatch(/^3 /);
    await page.locator('[data-testid=steps]').screenshot({ path: join(ARTIFACTS, 'steps-softmax.png') });
    // The mask step shows −∞ above the diagonal.
    await page.keyboard.press('b');
    await expect.poll(() => page.locator('[data-testid=steps]').getAttribute('data-step')).toBe('mask');
    expect(await page.locator('[data-testid=steps-matrix] tbody tr').first().locator('td').nth(1).textContent()).toBe('−∞');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('in presentation mode s shows the steps in large type instead of the map, and they follow the head keys', async () => {
    const { page, errors } = await openPage(env, '?present=1&v=1');
    await page.waitForSelector('[data-testid=presentation]');
    await painted(page);
    await page.keyboard.press('s');
    await page.waitForSelector('[data-testid=steps]');
    await page.keyboard.press('n');
    await expect.poll(() => page.locator('[data-testid=steps-title]').textContent()).toBe('2. Queries Q');
    expect(await page.locator('[data-testid=steps-matrix] td').first().evaluate((e) => parseFloat(getComputedStyle(e).fontSize))).toBeGreaterThanOrEqual(18);
    const before = await page.locator('[data-testid=steps-matrix] td[data-v]').first().getAttribute('data-v');
    await page.keyboard.press(']');
    await expect.poll(() => page.locator('[data-testid=steps-matrix] td[data-v]').first().getAttribute('data-v')).not.toBe(before);
    await page.screenshot({ path: join(ARTIFACTS, 'presentation-steps.png') });
    await page.keyboard.press('s');
    await page.waitForSelector('[data-testid=heatmap-cells]');
    expect(errors).toEqual([]);
    await page.close();
  });
});
