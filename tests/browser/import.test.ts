import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARTIFACTS, holdSlowFiles, openPage, painted, startEnv, type Env } from './setup';
import { importTensors } from '../../src/io/importTensors';
import { writeNpy } from '../../src/io/npy';
import type { Page } from 'playwright-core';

let env: Env;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => env?.close());

const FIX = join(process.cwd(), 'tests/fixtures/io');
const TMP = mkdtempSync(join(tmpdir(), 'qk-import-'));
const E = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8')) as { tokens: string[]; layers: { weights: number[] }[]; encdec: { encoder_tokens: string[]; decoder_tokens: string[] } };
const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

/** Waits until the opened file's panel names `name`, and the heatmap has painted once more. */
async function opened(page: Page, name: string, paintsBefore: number) {
  await page.waitForFunction((n) => document.querySelector('[data-testid=file-info]')?.textContent?.includes(n), name, { timeout: 60_000 });
  await painted(page, paintsBefore + 1);
  // The file's own map, not the example shown while it was read (a ?src= link paints that first):
  // results of a file are keyed import:… (weights as read) or ["import",…] (computed from Q/K/V).
  await page.waitForFunction(() => (document.querySelector('[data-testid=heatmap-cells]') as HTMLElement | null)?.dataset.paintedKey?.match(/^(import:|\["import")/), null, { timeout: 60_000 });
}
const paints = (page: Page) => page.evaluate(() => Number(document.querySelector('[data-testid=heatmap-cells]')?.getAttribute('data-painted') ?? 0));

/** Clicks an export button and returns the downloaded bytes and file name. */
async function exported(page: Page, testId: string): Promise<{ bytes: Uint8Array; name: string }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(`[data-testid=${testId}]`)]);
  const path = join(TMP, dl.suggestedFilename());
  await dl.saveAs(path);
  return { bytes: new Uint8Array(readFileSync(path)), name: dl.suggestedFilename() };
}

/** Token text from a file is shown as text: no script runs and no element is made from it. */
async function noInjection(page: Page) {
  expect(await page.evaluate(() => (window as unknown as { __xss?: boolean }).__xss ?? false)).toBe(false);
  expect(await page.locator('[data-testid=token-strip] script, [data-testid=token-strip] svg').count()).toBe(0);
}

describe('bringing your own tensors in Chromium', () => {
  it('a ?src= link opens a Q/K/V dump; attention computed here matches PyTorch; hostile tokens stay text', async () => {
    const { page, errors } = await openPage(env, '?src=examples%2Fqkv-gqa-rope.safetensors&layer=1&head=2');
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await opened(page, 'qkv-gqa-rope.safetensors', 0);
    await page.waitForFunction(() => document.querySelector('[data-testid=backend-used]')?.textContent?.includes('7 tokens × 4 heads'));
    expect(await page.locator('[data-testid=token-strip] .tok').first().getAttribute('title')).toBe('token 0: <script>alert(1)</script>');
    expect(await page.locator('[data-testid=token-strip]').textContent()).toContain('<svg·onlo');
    await noInjection(page);
    // The link's layer and head were restored once the file was read.
    expect(await page.getByLabel('Layer', { exact: true }).inputValue()).toBe('1');
    expect(await page.locator('.heatmap h2').textContent()).toMatch(/^Head 2/);
    // The app's own attention of layer 1, exported, against PyTorch's.
    const f = await exported(page, 'export-safetensors');
    const o = importTensors(f.bytes, f.name);
    if (o.status !== 'ready') throw new Error('export did not re-import');
    const got = o.source.layers[0].weights!.data;
    const want = E.layers[1].weights;
    let err = 0;
    for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
    expect(err).toBeLessThanOrEqual(1e-5);
    expect(o.source.layers[0].queryTokens).toEqual(E.tokens);
    // The layer × head grid fills in for the dump too, with the link's layer and head selected.
    await page.waitForFunction(() => !/computing/.test(document.querySelector('[data-testid=layer-grid] h2')?.textContent ?? 'computing'), null, { timeout: 60_000 });
    expect(await page.locator('[data-testid=layer-grid] canvas').count()).toBe(E.layers.length * 4);
    expect(await page.locator('[data-testid=layer-grid-1-2]').getAttribute('class')).toMatch(/selected/);
    // A grouping method runs on the imported queries and keys.
    await page.getByLabel('Method', { exact: true }).selectOption('mqa');
    await page.waitForFunction(() => !!document.querySelector('[data-testid=metric-relfrob]'), null, { timeout: 60_000 });
    await shot(page, 'import-qkv');
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the before-RoPE switch recomputes from the pre-RoPE copies and changes the map', async () => {
    const { page, errors } = await openPage(env, '?src=examples%2Fqkv-gqa-rope.safetensors');
    await opened(page, 'qkv-gqa-rope.safetensors', 0);
    const before = (await exported(page, 'export-npy')).bytes;
    const n = await paints(page);
    await page.getByRole('radio', { name: 'before RoPE' }).click();
    await painted(page, n + 1);
    const after = (await exported(page, 'export-npy')).bytes;
    expect(after.length).toBe(before.length);
    expect(Buffer.from(after).equals(Buffer.from(before))).toBe(false);
    await page.waitForFunction(() => location.search.includes('pos=pre'));
    expect(errors).toEqual([]);
    await page.close();
  });

  it('an encoder-decoder file shows cross-attention: decoder queries × encoder keys, each with its own tokens', async () => {
    const { page, errors } = await openPage(env, '?v=1');
    await painted(page);
    const n = await paints(page);
    await page.click('text=encoder-decoder (BertViz)');
    await opened(page, 'encoder-decoder.json', n);
    const m = await paints(page);
    await page.getByLabel('Layer', { exact: true }).selectOption({ label: 'cross 0' });
    await painted(page, m + 1);
    await page.waitForFunction(() => document.querySelector('[data-testid=backend-used]')?.textContent?.includes('4 queries × 5 keys'));
    expect(await page.locator('[data-testid=key-strip]').textContent()).toBe(E.encdec.encoder_tokens.map((t) => t.replace(/ /g, '·')).join(''));
    // The methods say why they are not offered for a file of weights only.
    expect(await page.locator('[data-testid=methods-need-qk]').count()).toBe(1);
    // Hovering the last cell names a decoder query and an encoder key.
    const box = (await page.locator('[data-testid=heatmap-overlay]').boundingBox())!;
    await page.mouse.move(box.x + box.width - 3, box.y + box.height - 3);
    await expect.poll(() => page.locator('.tooltip').textContent()).toMatch(/query 3 .* → key 4 /);
    await shot(page, 'import-cross-attention');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('an ambiguous 4-D array asks for its layout; the chosen reading is used', async () => {
    const { page, errors } = await openPage(env, '?v=1');
    await painted(page);
    const L = 3;
    const H = 2;
    const N = 5;
    const w = new Float32Array(L * H * N * N);
    for (let r = 0; r < L * H * N; r++) for (let j = 0; j < N; j++) w[r * N + j] = 1 / N;
    const path = join(TMP, 'four-d.npy');
    writeFileSync(path, writeNpy([L, H, N, N], w));
    await page.setInputFiles('[data-testid=file-input]', path);
    await page.waitForSelector('[data-testid=layout-dialog][open]');
    expect(await page.locator('[data-testid=layout-dialog]').textContent()).toMatch(/layers 3 × heads 2 × queries 5 × keys 5 \(guess\)/);
    await shot(page, 'import-layout-dialog');
    // Read it as heads × layers instead: 2 "layers" of 3 heads.
    const i = await page.locator('[data-testid=layout-dialog] label').filter({ hasText: /^heads 3 × layers 2/ }).locator('input').getAttribute('data-testid');
    const n = await paints(page);
    await page.click(`[data-testid=${i}]`);
    await page.click('[data-testid=layout-confirm]');
    await opened(page, 'four-d.npy', n);
    await page.waitForFunction(() => document.querySelector('[data-testid=backend-used]')?.textContent?.includes('5 tokens × 3 heads'));
    expect(await page.getByLabel('Layer', { exact: true }).locator('option').count()).toBe(2);
    expect(await page.locator('[data-testid=layout-used]').textContent()).toMatch(/Read as \[heads 3 × layers 2 × queries 5 × keys 5\] of weights/);
    // The reading can be changed afterwards: back to the guess, 3 layers of 2 heads.
    await page.click('[data-testid=change-layout]');
    await page.waitForSelector('[data-testid=layout-dialog][open]');
    expect(await page.locator(`[data-testid=${i}]`).isChecked()).toBe(true);
    await page.click('[data-testid=layout-option-0]');
    await page.click('[data-testid=layout-confirm]');
    await page.waitForFunction(() => document.querySelector('[data-testid=backend-used]')?.textContent?.includes('5 tokens × 2 heads'));
    expect(await page.getByLabel('Layer', { exact: true }).locator('option').count()).toBe(3);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a broken file gets a message naming the problem, and the previous view stays', async () => {
    const { page, errors } = await openPage(env, '?v=1');
    await painted(page);
    const tokensBefore = await page.locator('[data-testid=token-strip]').textContent();
    const good = readFileSync(join(FIX, 'qkv.safetensors'));
    const path = join(TMP, 'broken.safetensors');
    writeFileSync(path, good.subarray(0, good.length - 100));
    await page.setInputFiles('[data-testid=file-input]', path);
    await page.waitForSelector('[data-testid=import-error]');
    expect(await page.locator('[data-testid=import-error]').textContent()).toMatch(/broken\.safetensors.*data ends at byte \d+ of the data section but the file has only \d+/);
    expect(await page.locator('[data-testid=notice]').last().textContent()).toMatch(/Import failed .* What was on screen is kept/);
    expect(await page.locator('[data-testid=token-strip]').textContent()).toBe(tokensBefore);
    await shot(page, 'import-failed');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a link to a missing or cross-origin file explains itself and keeps the default example', async () => {
    for (const [src, re] of [
      ['examples%2Fmissing.npy', /missing\.npy could not be fetched: HTTP 404/],
      ['https%3A%2F%2Fexample.org%2Fa.npy', /on another origin \(https:\/\/example\.org\); QK Scope opens only files served by this page/],
    ] as const) {
      const { page, errors } = await openPage(env, `?src=${src}&head=5`);
      await painted(page);
      await page.waitForSelector('[data-testid=import-error]');
      expect(await page.locator('[data-testid=import-error]').textContent()).toMatch(re);
      expect(await page.locator('[data-testid=token-strip]').textContent()).toMatch(/^When·?Mary/);
      await page.waitForFunction(() => !location.search.includes('src='));
      // A failed fetch is reported by the browser's console too; nothing else may be.
      expect(errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
      await page.close();
    }
  });

  it('a file dropped on the page opens (the overlay shows while dragging)', async () => {
    const { page, errors } = await openPage(env, '?v=1');
    await painted(page);
    const n = await paints(page);
    const text = readFileSync(join(FIX, 'circuitsvis.json'), 'utf8');
    const dt = await page.evaluateHandle((t) => {
      const d = new DataTransfer();
      d.items.add(new File([t], 'dropped-cv.json', { type: 'application/json' }));
      return d;
    }, text);
    await page.dispatchEvent('main', 'dragenter', { dataTransfer: dt });
    await page.waitForSelector('[data-testid=drop-overlay]');
    await page.dispatchEvent('main', 'drop', { dataTransfer: dt });
    await opened(page, 'dropped-cv.json', n);
    expect(await page.locator('[data-testid=drop-overlay]').count()).toBe(0);
    expect(await page.locator('[data-testid=file-info]').textContent()).toMatch(/CircuitsVis JSON/);
    await noInjection(page);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('exported CircuitsVis JSON re-imports to the same view and exports again byte for byte', async () => {
    const { page, errors } = await openPage(env, '?v=1');
    await painted(page);
    // The synthetic source's view, exported and opened again.
    const a = await exported(page, 'export-json');
    expect(new TextDecoder().decode(a.bytes)).not.toMatch(/[<>]/);
    const path = join(TMP, 'roundtrip.json');
    writeFileSync(path, a.bytes);
    const n = await paints(page);
    await page.setInputFiles('[data-testid=file-input]', path);
    await opened(page, 'roundtrip.json', n);
    const b = await exported(page, 'export-json');
    const strip = (x: Uint8Array) => JSON.stringify({ ...JSON.parse(new TextDecoder().decode(x)), what: undefined });
    expect(strip(b.bytes)).toBe(strip(a.bytes));
    expect(await page.locator('[data-testid=backend-used]').textContent()).toMatch(/read from the file/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a file over 50 MB opens; fetched on a slow link it streams with a progress bar', async () => {
    const H = 4;
    const N = 2048; // 4 × 2048² float32 = 64 MiB
    const w = new Float32Array(H * N * N);
    for (let r = 0; r < H * N; r++) w[r * N + (r % N)] = 1;
    const bytes = writeNpy([H, N, N], w);
    const path = join(TMP, 'large.npy');
    writeFileSync(path, bytes);
    // Picked from disk: read in chunks (too fast here for a frame to show the bar).
    const { page, errors } = await openPage(env, '?v=1');
    await painted(page);
    const n = await paints(page);
    const t0 = Date.now();
    await page.setInputFiles('[data-testid=file-input]', path);
    await opened(page, 'large.npy', n);
    console.log(`64 MiB file picked and shown in ${Date.now() - t0} ms`);
    expect(await page.locator('[data-testid=file-info]').textContent()).toMatch(/64\.00 MiB/);
    await page.close();
    // Served by the page in 16 parts 150 ms apart (the test server's slow- files): the bar must
    // show partial progress. A 4 MiB file shows the same thing as a large one in less time.
    const served = join(process.cwd(), 'dist', 'slow-large-test.npy');
    writeFileSync(served, writeNpy([1, 1024, 1024], w.subarray(0, 1024 * 1024)).subarray(0));
    try {
      const p2 = await env.context.newPage();
      // Records every progress value the page's DOM takes, from before the app starts. A
      // MutationObserver, not animation frames: here frames can stall for a second or more while
      // the GPU process (software WebGL/WebGPU) is busy, though the DOM is updated meanwhile.
      await p2.addInitScript(() => {
        const seen: number[] = [];
        (window as unknown as { __progress: number[] }).__progress = seen;
        const look = () => {
          const el = document.querySelector('[data-testid=import-progress] progress') as HTMLProgressElement | null;
          if (el && seen[seen.length - 1] !== el.value) seen.push(el.value);
        };
        new MutationObserver(look).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
      });
      // The body waits until the default example has painted, so the page is idle while it arrives.
      const release = holdSlowFiles();
      await p2.goto(`${env.url}?src=slow-large-test.npy`);
      await painted(p2);
      const before = await paints(p2);
      release();
      await opened(p2, 'slow-large-test.npy', before);
      const seen = await p2.evaluate(() => (window as unknown as { __progress: number[] }).__progress);
      // Several partial values, rising: the bar moved while the file arrived.
      const partial = seen.filter((v) => v > 0 && v < 1);
      console.log(`slow fetch: the bar showed ${partial.length} partial values`);
      expect(partial.length).toBeGreaterThanOrEqual(3);
      expect(partial).toEqual([...partial].sort((a, b) => a - b));
      await p2.close();
    } finally {
      rmSync(served, { force: true });
    }
    expect(errors).toEqual([]);
  });
});
