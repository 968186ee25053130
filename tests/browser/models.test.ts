import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { ARTIFACTS, openPage, painted, startEnv, type Env } from './setup';
import { fileFromBytes, loadModel, runModel } from '../../src/index';
import { maxAbsDiff } from '../unit/goldens';
import type { Page } from 'playwright-core';

let env: Env;
const TMP = mkdtempSync(join(tmpdir(), 'qk-models-'));
beforeAll(async () => {
  await tf.setBackend('cpu');
  env = await startEnv();
});
afterAll(async () => {
  await env?.close();
  rmSync(TMP, { recursive: true, force: true });
});

const ROOT = process.cwd();
/** A checkpoint folder as a user has it: the model's files and, optionally, a tokenizer beside them. */
function folder(name: string, model: string, tokenizer: boolean): string {
  const dir = join(TMP, name);
  mkdirSync(dir, { recursive: true });
  const from = join(ROOT, 'tests/fixtures/models', model);
  for (const f of readdirSync(from)) copyFileSync(join(from, f), join(dir, f));
  if (tokenizer) for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(ROOT, 'tests/fixtures/models/tokenizer-tiny', f), join(dir, f));
  return dir;
}
const filesOf = (dir: string) => readdirSync(dir).map((n) => fileFromBytes(n, new Uint8Array(readFileSync(join(dir, n)))));
const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
const paints = (page: Page) => page.evaluate(() => Number(document.querySelector('[data-testid=heatmap-cells]')?.getAttribute('data-painted') ?? 0));

/** Clicks an export button and returns the downloaded JSON. */
async function exportedJson(page: Page): Promise<{ tokens: string[]; attention: number[][][] }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-json]')]);
  const path = join(TMP, dl.suggestedFilename());
  await dl.saveAs(path);
  return JSON.parse(readFileSync(path, 'utf8'));
}

describe('a Hugging Face checkpoint opened in the page', () => {
  it('a sharded Llama folder with its tokenizer: summary first, then every layer in the views, equal to the library run in Node', async () => {
    const dir = folder('my-llama', 'llama-tiny', true);
    const { page, errors } = await openPage(env, '?v=1');
    await painted(page);
    const n0 = await paints(page);
    await page.setInputFiles('[data-testid=model-input]', dir);
    await page.waitForFunction(() => document.querySelector('[data-testid=file-info]')?.textContent?.includes('llama checkpoint, run here'), null, { timeout: 60_000 });
    await painted(page, n0 + 1);
    // What it is and what it needs was said before loading.
    const notices = await page.locator('[data-testid=notice]').allTextContents();
    expect(notices.join(' ')).toMatch(/Loading my-llama — llama: 2 layers, 4 query heads over 2 KV heads of d = 8, hidden 32, vocabulary 96, RoPE θ = 10000; 24\.7 k parameters, F32 [\d.]+ KiB on disk, [\d.]+ KiB as float32/);
    // New text runs through the model; the layer picker lists its layers; pre-RoPE is offered.
    const n1 = await paints(page);
    await page.fill('[data-testid=model-text]', 'the cat sat on the mat.');
    await page.waitForFunction(() => /\d+ tokens/.test(document.querySelector('[data-testid=backend-used]')?.textContent ?? '') && document.querySelector('[data-testid=token-strip]')?.textContent?.includes('mat'), null, { timeout: 60_000 });
    await painted(page, n1 + 1);
    await page.getByLabel('Layer', { exact: true }).selectOption('1');
    await expect.poll(() => page.locator('[data-testid=file-info]').textContent()).toMatch(/before RoPE/);
    await page.waitForTimeout(500);
    const shown = await exportedJson(page);
    // The same checkpoint, text and layer through the library on tfjs cpu.
    const model = await loadModel(filesOf(dir), { backend: 'cpu' });
    try {
      const r = await runModel(model, 'the cat sat on the mat.', { capture: [1] });
      expect(shown.tokens).toEqual(r.tokens);
      expect(maxAbsDiff(shown.attention.flat(2), r.layers[1]!.weights.data)).toBeLessThanOrEqual(1e-4);
    } finally {
      model.dispose();
    }
    // The whole model at once: every layer × head, each a click away.
    await page.waitForFunction(() => !/computing/.test(document.querySelector('[data-testid=layer-grid] h2')?.textContent ?? 'computing'), null, { timeout: 60_000 });
    expect(await page.locator('[data-testid=layer-grid] canvas').count()).toBe(2 * 4);
    await page.click('[data-testid=layer-grid-0-3]');
    await expect.poll(() => page.locator('.view-head h2').first().textContent()).toMatch(/Head 3/);
    expect(await page.getByLabel('Layer', { exact: true }).inputValue()).toBe('0');
    expect(await page.locator('[data-testid=layer-grid-0-3]').getAttribute('class')).toMatch(/selected/);
    await shot(page, 'model-llama-tiny');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a built-in model from a link, its training timeline, and the layer, head and step kept in the link', async () => {
    const { page, errors } = await openPage(env, '?model=sotu-llama&layer=2&head=2');
    await page.waitForFunction(() => document.querySelector('[data-testid=file-info]')?.textContent?.includes('built-in llama model at training step 1600'), null, { timeout: 60_000 });
    await painted(page);
    expect(await page.getByLabel('Layer', { exact: true }).inputValue()).toBe('2');
    await expect.poll(() => page.locator('.view-head h2').first().textContent()).toMatch(/Head 2/);
    expect(await page.locator('[data-testid=timeline] label').textContent()).toMatch(/step 1600 of 1600 \(loss 2\.74\d\)/);
    // The first checkpoints: the untrained model, then one early in training.
    const n = await paints(page);
    // Keyboard on the slider: to the first checkpoint, then one step on.
    await page.locator('#qk-timeline').focus();
    await page.keyboard.press('Home');
    await page.waitForFunction(() => document.querySelector('[data-testid=file-info]')?.textContent?.includes('at training step 0,'), null, { timeout: 60_000 });
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction(() => document.querySelector('[data-testid=file-info]')?.textContent?.includes('at training step 48'), null, { timeout: 60_000 });
    await painted(page, n + 1);
    await page.waitForFunction(() => location.search.includes('model=sotu-llama') && location.search.includes('mstep=1') && location.search.includes('layer=2'));
    expect(await page.locator('[data-testid=builtin-models]').textContent()).toMatch(/State of the Union/);
    await shot(page, 'model-builtin-timeline');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a bare address opens the built-in model on its named previous-token head, with the model summary; { } step layers, named heads are links', async () => {
    const heads = JSON.parse(readFileSync(join(ROOT, 'public/models/sotu-llama/heads.json'), 'utf8')) as { previous_token: [number, number][]; induction: [number, number][] };
    const { page, errors } = await openPage(env, '');
    await page.waitForFunction(() => document.querySelector('[data-testid=model-summary]')?.textContent?.includes('State of the Union'), null, { timeout: 60_000 });
    await painted(page);
    const [l0, h0] = heads.previous_token[0];
    expect(await page.getByLabel('Layer', { exact: true }).inputValue()).toBe(String(l0));
    await expect.poll(() => page.locator('.view-head h2').first().textContent()).toMatch(new RegExp(`Head ${h0}\\b`));
    await page.waitForFunction(() => location.search.includes('model=sotu-llama'));
    const summary = (await page.locator('[data-testid=model-summary]').textContent()) ?? '';
    expect(summary).toMatch(/6 query heads over 2 K\/V heads \(3 per group, grouped-query\)/);
    expect(summary).toMatch(/SwiGLU/);
    expect(summary).toMatch(/checkpoint 6 of 6, step 1600 of 1600, loss 2\.74\d/);
    // Every head the card names is listed, in its order, and a click shows it.
    const named = await page.locator('[data-testid=named-heads] button').allTextContents();
    expect(named).toEqual([...heads.previous_token, ...heads.induction].map(([l, h]) => `L${l}H${h}`));
    const [l1, h1] = heads.previous_token[heads.previous_token.length - 1];
    await page.click(`[data-testid=named-head-${l1}-${h1}]`);
    await expect.poll(() => page.getByLabel('Layer', { exact: true }).inputValue()).toBe(String(l1));
    await expect.poll(() => page.locator('.view-head h2').first().textContent()).toMatch(new RegExp(`Head ${h1}\\b`));
    // { and } step through layers (and stop at the ends); [ ] still step heads.
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('}');
    await expect.poll(() => page.getByLabel('Layer', { exact: true }).inputValue()).toBe(String(Math.min(2, l1 + 1)));
    for (let i = 0; i < 4; i++) await page.keyboard.press('{');
    await expect.poll(() => page.getByLabel('Layer', { exact: true }).inputValue()).toBe('0');
    await page.waitForFunction(() => location.search.includes('layer=0'));
    // The next-token list equals the library's run of the same text in Node (CPU backend).
    const text = await page.locator('[data-testid=model-text]').inputValue();
    const dir = join(ROOT, 'public/models/sotu-llama');
    const model = await loadModel(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'].map((n) => fileFromBytes(n, new Uint8Array(readFileSync(join(dir, n))))), { backend: 'cpu' });
    const r = await runModel(model, text, { logits: true });
    const V = r.logits!.shape[1];
    const row = Array.from(r.logits!.data.subarray((r.ids.length - 1) * V, r.ids.length * V));
    const m = Math.max(...row);
    const z = row.reduce((a, x) => a + Math.exp(x - m), 0);
    const top = row.map((x, id) => ({ id, p: Math.exp(x - m) / z })).sort((a, b) => b.p - a.p).slice(0, 5);
    model.dispose();
    const shown = await page.locator('[data-testid=next-tokens] li').allTextContents();
    expect(shown).toHaveLength(5);
    shown.forEach((line, i) => {
      const pct = Number(/([\d.]+) %/.exec(line)![1]);
      expect(Math.abs(pct - 100 * top[i].p)).toBeLessThan(0.11);
      expect(line.startsWith(JSON.stringify(model.tokenizer!.decode([top[i].id])))).toBe(true);
    });
    await shot(page, 'model-default-summary');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the files of an attention-only checkpoint dropped on the page open as a model (no tokenizer: token ids)', async () => {
    const { page, errors } = await openPage(env, '?v=1');
    await painted(page);
    const dir = join(ROOT, 'tests/fixtures/models/llama-attn-only-tiny');
    const files = readdirSync(dir).map((n) => ({ name: n, b64: readFileSync(join(dir, n)).toString('base64') }));
    const dt = await page.evaluateHandle((fs) => {
      const d = new DataTransfer();
      for (const f of fs) d.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name));
      return d;
    }, files);
    await page.dispatchEvent('main', 'dragenter', { dataTransfer: dt });
    await page.dispatchEvent('main', 'drop', { dataTransfer: dt });
    await page.waitForFunction(() => !!document.querySelector('[data-testid=model-summary]'), null, { timeout: 60_000 });
    const summary = (await page.locator('[data-testid=model-summary]').textContent()) ?? '';
    expect(summary).toMatch(/MLPnone \(attention-only\)/);
    expect(summary).toMatch(/tokenizernone: the model reads token ids/);
    expect(await page.locator('label[for=qk-model-text]').textContent()).toMatch(/Token ids/);
    // Its layers fill the layer × head grid; the default ids are 25 tokens (0, then twelve ids twice).
    await page.waitForFunction(() => !/computing/.test(document.querySelector('[data-testid=layer-grid] h2')?.textContent ?? 'computing'), null, { timeout: 60_000 });
    expect(await page.locator('[data-testid=layer-grid] canvas').count()).toBe(2 * 4);
    await expect.poll(() => page.locator('[data-testid=backend-used]').textContent()).toMatch(/25 tokens × 4 heads/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a folder whose config does not match its weights says so and keeps the view', async () => {
    const dir = folder('broken-qwen', 'qwen2-tiny', false);
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    cfg.intermediate_size = 48;
    (await import('node:fs')).writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
    const { page, errors } = await openPage(env, '?v=1');
    await painted(page);
    await page.setInputFiles('[data-testid=model-input]', dir);
    await expect.poll(() => page.locator('[data-testid=import-error]').textContent(), { timeout: 30_000 }).toMatch(/model\.safetensors: tensor "model\.layers\.0\.mlp\.gate_proj\.weight" has shape \[64, 32\], but config\.json implies \[48, 32\]/);
    expect(await page.locator('[data-testid=backend-used]').textContent()).toMatch(/tokens/);
    expect(errors).toEqual([]);
    await page.close();
  });
});
