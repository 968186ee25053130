import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { ARTIFACTS, openPage, startEnv, type Env } from './setup';
import { LESSONS, stepCaption } from '../../src/app/lessons';
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

/** Waits until the lesson's step is applied and its map is on screen. */
async function settled(page: Page, step: number) {
  await page.waitForFunction((k) => {
    const l = document.querySelector('[data-testid=lesson]');
    return l?.getAttribute('data-step') === String(k) && l.getAttribute('data-busy') === '0';
  }, step, { timeout: 90_000 });
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=heatmap-cells]')?.getAttribute('data-painted') ?? 0) > 0, null, { timeout: 60_000 });
}

describe('lessons (issue 8)', () => {
  it('the captions\' claims about the synthetic heads hold on the data', () => {
    const tokens = tokenize(DEFAULT_TEXT).map((t) => t.text);
    const s = DEFAULT_INPUTS.source;
    const x = syntheticQKV({ tokens, pattern: 'mixed', heads: s.heads, kvHeads: s.kvHeads, headDim: s.headDim, temperature: s.temperature, seed: s.seed });
    const w = referenceAttention(x, { causal: true }).weights;
    const N = tokens.length;
    const argmax = (h: number, i: number) => {
      let b = 0;
      for (let j = 1; j <= i; j++) if (w[(h * N + i) * N + j] > w[(h * N + i) * N + b]) b = j;
      return b;
    };
    const rows = Array.from({ length: N - 1 }, (_, i) => i + 1);
    expect(rows.filter((i) => argmax(0, i) === i - 1).length / rows.length).toBeGreaterThan(0.9); // previous token
    expect(rows.filter((i) => argmax(1, i) === i).length / rows.length).toBeGreaterThan(0.9); // itself
    expect(rows.filter((i) => argmax(2, i) === 0).length / rows.length).toBeGreaterThan(0.9); // the first token
    expect(tokens[25]).toBe('John');
    const followers = [3, 9, 19].filter((j) => tokens[j] === 'John').map((j) => j + 1);
    expect(followers).toHaveLength(3);
    expect(followers).toContain(argmax(5, 25)); // induction
  });

  for (const lesson of LESSONS) {
    it(`"${lesson.title}" runs to its end with the keys, each step showing its caption and its state`, async () => {
      const { page, errors } = await openPage(env, `?lesson=${lesson.id}`);
      await settled(page, 0);
      await page.screenshot({ path: join(ARTIFACTS, `lesson-${lesson.id}-1.png`) });
      for (let k = 0; k < lesson.steps.length; k++) {
        if (k > 0) {
          await page.keyboard.press('PageDown');
          await settled(page, k);
        }
        expect(await page.locator('[data-testid=lesson-caption]').textContent()).toBe(stepCaption(lesson.steps[k]));
        expect(await page.locator('[data-testid=lesson-count]').textContent()).toBe(`step ${k + 1} of ${lesson.steps.length}`);
        const head = /(?:^|&)head=(\d+)/.exec(lesson.steps[k].link);
        if (head) await expect.poll(() => page.locator('.heatmap h2').textContent()).toMatch(new RegExp(`^Head ${head[1]}\\b`));
        for (const p of lesson.steps[k].open ?? []) expect(await page.locator(`[data-testid=${p}-details]`).getAttribute('open')).not.toBeNull();
        // The address names the lesson and the step, so a reload resumes it.
        await page.waitForFunction((s) => new URLSearchParams(location.search).get('lstep') === String(s), k);
      }
      // Past the end nothing happens; PageUp goes back.
      await page.keyboard.press('PageDown');
      expect(await page.locator('[data-testid=lesson]').getAttribute('data-step')).toBe(String(lesson.steps.length - 1));
      await page.keyboard.press('PageUp');
      await settled(page, Math.max(0, lesson.steps.length - 2));
      await page.click('[data-testid=lesson-close]');
      await expect.poll(() => page.locator('[data-testid=lesson]').count()).toBe(0);
      expect(await page.evaluate(() => new URLSearchParams(location.search).has('lesson'))).toBe(false);
      expect(errors).toEqual([]);
      await page.close();
    });
  }

  it('select-and-copy: the model summary scores the head at each training step the captions name', async () => {
    const { page, errors } = await openPage(env, '?lesson=select-copy');
    await settled(page, 0);
    await expect.poll(() => page.locator('[data-testid=named-heads]').textContent()).toMatch(/select-and-copy 96\.8 % right/);
    await page.keyboard.press('n');
    await settled(page, 1);
    await expect.poll(() => page.locator('[data-testid=named-heads]').textContent()).toMatch(/scored at step 0:.*select-and-copy 28\.2 % right/);
    await page.keyboard.press('n');
    await settled(page, 2);
    await expect.poll(() => page.locator('[data-testid=model-step]').textContent()).toMatch(/step 3250 of 4000/);
    await expect.poll(() => page.locator('[data-testid=named-heads]').textContent()).toMatch(/select-and-copy 52\.4 % right/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a lesson in presentation mode shows its caption in large type and steps with a clicker\'s PageDown', async () => {
    const { page, errors } = await openPage(env, '?present=1&lesson=causal');
    await settled(page, 0);
    expect(await page.locator('[data-testid=lesson-caption]').evaluate((e) => parseFloat(getComputedStyle(e).fontSize))).toBeGreaterThanOrEqual(22);
    await page.keyboard.press('PageDown');
    await settled(page, 1);
    await page.screenshot({ path: join(ARTIFACTS, 'lesson-presentation.png') });
    expect(errors).toEqual([]);
    await page.close();
  });
});
