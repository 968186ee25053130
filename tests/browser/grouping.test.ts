import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ARTIFACTS, openPage, painted, startEnv, type Env } from './setup';
import type { Page } from 'playwright-core';

let env: Env;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => env?.close());

const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

/** Waits until the grouped-heads panel shows a method result whose title contains `label`. */
async function methodShown(page: Page, label: string) {
  await page.waitForFunction((l) => document.querySelector('.grouping h2')?.textContent?.includes(l) && !!document.querySelector('[data-testid=metric-relfrob]'), label, { timeout: 60_000 });
}

/** Selects an option of the control labelled `label` (the app's Select renders label + select). */
async function pick(page: Page, label: string, value: string) {
  await page.getByLabel(label, { exact: true }).selectOption(value);
}

describe('grouped heads in Chromium', () => {
  it('opens a KDGQA link: the assignment, starved KV head, metrics and the source named', async () => {
    const { page, errors } = await openPage(env, '?v=1&h=8&kv=8&method=kdgqa');
    await painted(page);
    await methodShown(page, 'KDGQA');
    expect(await page.locator('[data-testid=assignment-link]').count()).toBe(8);
    expect(await page.locator('[data-testid=norm-bar]').count()).toBe(4);
    // The faithful min-max gives the smallest-norm KV head no query head.
    expect(await page.locator('.assignment').textContent()).toMatch(/0 \(unused\)/);
    const err = Number((await page.locator('[data-testid=metric-relfrob] .big').textContent())!.trim());
    expect(err).toBeGreaterThan(0);
    expect(await page.locator('.caveats').textContent()).toMatch(/arXiv 2408\.08454/);
    // Pooling 8 key heads into 4 groups: each group's disagreement is shown.
    expect(await page.locator('[data-testid=disagreement]').textContent()).toMatch(/kv0 \d\.\d\d · kv1 \d\.\d\d · kv2 \d\.\d\d · kv3 \d\.\d\d/);
    await shot(page, 'grouping-kdgqa');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('picking a method and a group count from the controls recomputes and goes into the link', async () => {
    const { page, errors } = await openPage(env, '?v=1&h=8&kv=8');
    await painted(page);
    await pick(page, 'Method', 'gqa');
    await methodShown(page, 'GQA');
    await pick(page, 'KV heads (groups) G', '2');
    // G = 2 gives two KV heads of four query heads each (it was 2 : 2 : 2 : 2 with the default G = 4).
    await page.waitForFunction(() => /Allocation 4 : 4 \(/.test(document.querySelector('.assignment')?.textContent ?? ''), null, { timeout: 60_000 });
    expect(await page.locator('[data-testid=assignment-link]').count()).toBe(8);
    await page.waitForFunction(() => location.search.includes('method=gqa') && location.search.includes('mp.groups=2'));
    // The link reproduces the view.
    const url = page.url();
    const again = await openPage(env, url.slice(env.url.length));
    await painted(again.page);
    await methodShown(again.page, 'GQA');
    expect(await again.page.locator('.assignment').textContent()).toMatch(/Allocation 4 : 4/);
    expect(errors).toEqual([]);
    expect(again.errors).toEqual([]);
    await page.close();
    await again.page.close();
  });

  it('the difference view is signed and diverging, and the tooltip gives method, reference and Δ', async () => {
    const { page, errors } = await openPage(env, '?v=1&h=8&kv=8&method=mqa');
    await painted(page);
    await methodShown(page, 'MQA');
    const before = Number(await page.locator('[data-testid=heatmap-cells]').getAttribute('data-painted'));
    await page.getByRole('radio', { name: 'difference' }).click();
    await painted(page, before + 1);
    expect(await page.locator('.legend').first().textContent()).toMatch(/weight difference: MQA − reference/);
    const hm = await page.locator('[data-testid=heatmap-overlay]').boundingBox();
    await page.mouse.move(hm!.x + hm!.width * 0.3, hm!.y + hm!.height * 0.7);
    await page.waitForSelector('.tooltip:not([hidden])');
    expect(await page.locator('.tooltip').textContent()).toMatch(/MQA weight [-\d.e]+ {3}reference [-\d.e]+ {3}Δ [-\d.e]+/);
    await shot(page, 'grouping-difference');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a method that does not fit the heads says why and keeps the source on screen', async () => {
    const { page, errors } = await openPage(env, '?v=1&h=6&kv=6&method=sqa&mp.variant=xsmqa');
    await painted(page);
    await page.waitForSelector('.messages .error', { timeout: 60_000 });
    expect(await page.locator('.messages').textContent()).toMatch(/Could not apply SQA.*H = 6.*Showing the source's attention instead/);
    expect(await page.locator('.stats-table tbody tr').count()).toBe(6);
    expect(errors).toEqual([]);
    await page.close();
    // A link naming a method that does not exist: a notice, and the source's attention (MHA).
    const other = await openPage(env, '?v=1&h=4&kv=4&method=nosuch&mp.groups=2');
    await painted(other.page);
    await other.page.waitForSelector('.messages', { timeout: 60_000 });
    expect(await other.page.locator('.messages').textContent()).toMatch(/There is no method "nosuch"/);
    expect(await other.page.getByLabel('Method', { exact: true }).inputValue()).toBe('mha');
    expect(other.errors).toEqual([]);
    await other.page.close();
  });

  it('hovering a query head in the assignment links the head grid and the statistics; clicking selects it', async () => {
    const { page, errors } = await openPage(env, '?v=1&h=8&kv=8&method=kdgqa');
    await painted(page);
    await methodShown(page, 'KDGQA');
    await page.locator('.qslot').nth(5).hover();
    await page.waitForSelector('.stats-table tbody tr.hovered');
    expect(await page.locator('.stats-table tbody tr.hovered td').first().textContent()).toMatch(/^5/);
    await page.locator('.qslot').nth(5).click();
    await page.waitForFunction(() => document.querySelector('.heatmap h2')?.textContent?.startsWith('Head 5'));
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the assignment animates to a new allocation, and jumps under reduced motion', async () => {
    const distinctPaths = async (reduced: boolean) => {
      const page = await env.context.newPage();
      await page.emulateMedia({ reducedMotion: reduced ? 'reduce' : 'no-preference' });
      await page.goto(`${env.url}?v=1&h=8&kv=8&method=kdgqa`);
      await painted(page);
      await methodShown(page, 'KDGQA');
      // No background backend measurement runs here (the test profile remembers WASM as the
      // fastest, see setup.ts); while one runs, frames are too sparse to see the animation.
      expect(await page.evaluate(() => localStorage.getItem('qkscope.fastestBackend'))).not.toBeNull();
      // Record every `d` the links take while the allocation changes (min-max → proportional).
      await page.evaluate(() => {
        const seen = new Set<string>();
        (window as unknown as { seen: Set<string> }).seen = seen;
        const obs = () => document.querySelectorAll('[data-testid=assignment-link]').forEach((p, i) => seen.add(`${i}:${p.getAttribute('d')}`));
        new MutationObserver(obs).observe(document.querySelector('.assignment')!, { attributes: true, subtree: true });
        obs();
      });
      await pick(page, 'Allocation', 'proportional');
      await page.waitForFunction(() => !!document.querySelector('.grouping .badge.warn'), null, { timeout: 60_000 });
      await page.waitForTimeout(2000);
      const n = await page.evaluate(() => {
        const seen = (window as unknown as { seen: Set<string> }).seen;
        // distinct shapes of the most-changed link
        const per = new Map<string, number>();
        for (const s of seen) {
          const i = s.split(':')[0];
          per.set(i, (per.get(i) ?? 0) + 1);
        }
        return Math.max(...per.values());
      });
      await page.close();
      return n;
    };
    expect(await distinctPaths(false)).toBeGreaterThan(3);
    expect(await distinctPaths(true)).toBeLessThanOrEqual(2);
  });
});
