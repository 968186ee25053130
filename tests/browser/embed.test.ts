import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { ARTIFACTS, openPage, painted, startEnv, type Env } from './setup';

let env: Env;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => {
  await env?.close();
});

/** A host page (a blank page of another origin, as a writer's site is) with one iframe of the given size. */
async function host(page: Page, src: string, w: number, h: number): Promise<Frame> {
  await page.setContent(`<!doctype html><body style="margin:20px;background:#eee"><p>A writer's page</p><iframe id="f" src="${env.url}${src}" width="${w}" height="${h}" style="border:0;background:#fff"></iframe></body>`);
  const frame = await (await page.waitForSelector('#f')).contentFrame();
  await frame!.waitForFunction(() => Number(document.querySelector('[data-testid=heatmap-cells]')?.getAttribute('data-painted') ?? 0) >= 1, null, { timeout: 60_000 });
  return frame!;
}

const fit = (f: Frame) =>
  f.evaluate(() => {
    const d = document.documentElement;
    const c = document.querySelector('[data-testid=heatmap-cells]') as HTMLCanvasElement;
    const r = document.querySelector('.heatmap')!.getBoundingClientRect();
    return { scrollW: d.scrollWidth, scrollH: d.scrollHeight, w: d.clientWidth, h: d.clientHeight, canvas: c.getBoundingClientRect().width, right: r.right, bottom: r.bottom, controls: document.querySelectorAll('.heatmap [role=radiogroup], .zoom-buttons').length, title: document.querySelector('.heatmap h2')!.textContent };
  });

describe('embed route (issue 8)', () => {
  it('?embed=heatmap inside an iframe fills the frame without scroll bars, and follows its size', async () => {
    const page = await env.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const f = await host(page, '?embed=heatmap&v=1&head=2&lock=20,14', 480, 420);
    const a = await fit(f);
    expect(a.title).toMatch(/^Head 2/);
    expect(a.controls).toBe(0); // minimal chrome
    expect(a.scrollW).toBeLessThanOrEqual(a.w);
    expect(a.scrollH).toBeLessThanOrEqual(a.h);
    expect(a.right).toBeLessThanOrEqual(480);
    expect(a.bottom).toBeLessThanOrEqual(420);
    expect(a.canvas).toBeGreaterThan(200); // it uses the room it has
    await page.screenshot({ path: join(ARTIFACTS, 'embed-heatmap-480x420.png') });
    // A larger frame gets a larger map.
    await page.evaluate(() => {
      const el = document.getElementById('f') as HTMLIFrameElement;
      el.width = '820';
      el.height = '760';
    });
    await expect.poll(async () => (await fit(f)).canvas).toBeGreaterThan(a.canvas + 200);
    const b = await fit(f);
    expect(b.scrollH).toBeLessThanOrEqual(b.h);
    expect(b.scrollW).toBeLessThanOrEqual(b.w);
    // The corner link opens the full app on the same state.
    const href = await f.locator('[data-testid=embed-open]').getAttribute('href');
    expect(href).toMatch(/\?v=1&head=2&lock=20%2C14$/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('embeds a built-in model\'s head and the head grid', async () => {
    const page = await env.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const f = await host(page, '?embed=heatmap&model=mcqa-tiny&layer=2&head=3', 520, 520);
    await f.waitForFunction(() => /^Head 3/.test(document.querySelector('.heatmap h2')?.textContent ?? '') && (document.querySelector('[data-testid=heatmap-cells]')?.getAttribute('data-painted-key') ?? '').includes('import'), null, { timeout: 60_000 });
    const a = await fit(f);
    expect(a.scrollH).toBeLessThanOrEqual(a.h);
    await page.screenshot({ path: join(ARTIFACTS, 'embed-mcqa-tiny.png') });
    await page.setContent('<p>grid</p>');
    await page.setContent(`<iframe id="g" src="${env.url}?embed=grid&v=1" width="600" height="400" style="border:0"></iframe>`);
    const g = await (await page.waitForSelector('#g')).contentFrame();
    await g!.waitForSelector('[data-testid=embed] .head-grid, [data-testid=embed] canvas', { timeout: 60_000 });
    const s = await g!.evaluate(() => ({ sh: document.documentElement.scrollHeight, h: document.documentElement.clientHeight, embed: document.querySelector('[data-testid=embed]')!.getAttribute('data-embed') }));
    expect(s.embed).toBe('grid');
    expect(s.sh).toBeLessThanOrEqual(s.h);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the permalink from the share box opens the identical figure (same pixels)', async () => {
    const { page, errors } = await openPage(env, '?v=1&head=3&lock=20,14&cmap=magma&text=Attention%20is%20all%20you%20need%2C%20they%20said%2C%20and%20then%20they%20needed%20more');
    await painted(page);
    await page.click('[data-testid=share] summary');
    const link = await page.locator('[data-testid=share-link]').inputValue();
    expect(link.length).toBeLessThan(200);
    expect(link).toMatch(/cmap=magma/);
    const before = await page.locator('.heatmap-body').screenshot();
    const embed = await page.locator('[data-testid=share-embed]').inputValue();
    expect(embed).toMatch(/^<iframe src="http:\/\/127\.0\.0\.1:\d+\/\?embed=heatmap&v=1&/);
    const other = await env.context.newPage();
    await other.goto(link);
    await painted(other);
    const after = await other.locator('.heatmap-body').screenshot();
    expect(Buffer.compare(before, after)).toBe(0);
    expect(errors).toEqual([]);
    await other.close();
    await page.close();
  });
});
