import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ARTIFACTS, openPage, painted, startEnv, type Env } from './setup';
import { KEYS } from '../../src/app/keys';

let env: Env;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => {
  await env?.close();
});

describe('presentation mode and keys (issue 8)', () => {
  it('p presents the tokens and the map in large type; the keys step heads, lock and move a cell, zoom, and show the key list', async () => {
    const { page, errors } = await openPage(env, '?v=1');
    await painted(page);
    await page.keyboard.press('p');
    await page.waitForSelector('[data-testid=presentation]');
    expect(await page.locator('[data-testid=present-title]').textContent()).toBe('synthetic example · head 0 of 8');
    // Large type: the title is at least 28 px, the tokens at least 20 px.
    expect(await page.locator('[data-testid=present-title]').evaluate((e) => parseFloat(getComputedStyle(e).fontSize))).toBeGreaterThanOrEqual(28);
    expect(await page.locator('.tok').first().evaluate((e) => parseFloat(getComputedStyle(e).fontSize))).toBeGreaterThanOrEqual(20);
    // The map is large: more than half of a 1440 × 1000 window's height, legend and buttons still on screen.
    const box = await page.locator('[data-testid=heatmap-cells]').boundingBox();
    expect(box!.height).toBeGreaterThan(540);
    const legend = await page.locator('.present .legend').boundingBox();
    expect(legend!.y + legend!.height).toBeLessThanOrEqual(1000);
    await page.keyboard.press(']');
    await page.keyboard.press(']');
    await expect.poll(() => page.locator('[data-testid=present-title]').textContent()).toBe('synthetic example · head 2 of 8');
    await page.keyboard.press('[');
    await expect.poll(() => page.locator('[data-testid=present-title]').textContent()).toBe('synthetic example · head 1 of 8');
    // Arrow keys lock and move a cell; the caption reads the locked query out.
    for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.locator('[data-testid=present-summary]').textContent()).toMatch(/^32 queries × 32 keys, .*Query 5 “/);
    await page.waitForFunction(() => /[?&]lock=5(,|%2C)1\b/.test(location.search));
    // Enter with nothing under the pointer unlocks.
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => !/[?&]lock=/.test(location.search));
    // + zooms the map (fewer query labels fit), 0 goes back to the whole map.
    const labels = () => page.locator('.heatmap svg.axes g').first().locator('text').count();
    const whole = await labels();
    await page.keyboard.press('+');
    await page.keyboard.press('+');
    await expect.poll(labels).toBeLessThan(whole);
    await page.keyboard.press('0');
    await expect.poll(labels).toBe(whole);
    await page.screenshot({ path: join(ARTIFACTS, 'presentation.png') });
    // ? lists every key; Esc closes the list.
    await page.keyboard.press('?');
    await page.waitForSelector('[data-testid=key-help]');
    expect(await page.locator('[data-testid=key-help] tbody tr').count()).toBe(KEYS.length);
    await page.screenshot({ path: join(ARTIFACTS, 'presentation-keys.png') });
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('[data-testid=key-help]').count()).toBe(0);
    // p leaves presentation mode; the page is as it was.
    await page.keyboard.press('p');
    await page.waitForSelector('[data-testid=source-panel]');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('?present=1 opens a built-in model straight into presentation mode, and { } step its layers', async () => {
    const { page, errors } = await openPage(env, '?present=1&model=sotu-llama&layer=1&head=2');
    await page.waitForSelector('[data-testid=presentation]');
    await expect.poll(() => page.locator('[data-testid=present-title]').textContent(), { timeout: 60_000 }).toMatch(/^State of the Union .* · layer 1 · head 2 of 6$/);
    await page.keyboard.press('}');
    await expect.poll(() => page.locator('[data-testid=present-title]').textContent()).toMatch(/· layer 2 · head 2 of 6$/);
    await page.screenshot({ path: join(ARTIFACTS, 'presentation-model.png') });
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('accessibility (issue 8)', () => {
  it('every control of the page (all panels open, with a model loaded) has a name a screen reader can read', async () => {
    for (const q of ['?v=1', '?v=1&model=mcqa-tiny']) {
      const { page, errors } = await openPage(env, q);
      await painted(page);
      if (q.includes('model')) await page.waitForSelector('[data-testid=model-summary]', { timeout: 60_000 });
      await page.evaluate(() => document.querySelectorAll('details').forEach((d) => (d.open = true)));
      await page.waitForTimeout(500);
      const unnamed = await page.evaluate(() => {
        const out: string[] = [];
        for (const el of document.querySelectorAll<HTMLElement>('button, input, select, textarea, [role=button], [role=radio]')) {
          if (el.closest('[hidden]') || el.getAttribute('type') === 'hidden') continue;
          const by = el.getAttribute('aria-labelledby');
          const name =
            el.getAttribute('aria-label') ||
            (by && document.getElementById(by)?.textContent) ||
            (el.id && document.querySelector(`label[for="${el.id}"]`)?.textContent) ||
            el.closest('label')?.textContent ||
            (el.tagName === 'BUTTON' || el.getAttribute('role') ? el.textContent : '') ||
            el.getAttribute('title') ||
            '';
          if (!name.trim()) out.push(el.outerHTML.slice(0, 120));
        }
        return out;
      });
      expect(unnamed, q).toEqual([]);
      // The figure's words for screen readers: the summary is a live region.
      expect(await page.locator('[data-testid=figure-summary]').getAttribute('aria-live')).toBe('polite');
      expect(errors).toEqual([]);
      await page.close();
    }
  });
});
