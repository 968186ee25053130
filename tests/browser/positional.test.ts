import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { ARTIFACTS, openPage, painted, startEnv, type Env } from './setup';
import { fileFromBytes, loadModel, runModel } from '../../src/index';
import { ropeDistanceCurve, seededPair } from '../../src/core/rope';
import { syntheticQKV } from '../../src/core/synthetic';
import { tokenize } from '../../src/core/tokenize';
import { DEFAULT_TEXT } from '../../src/state/defaults';
import { runMethod } from '../../src/index';
import { formatPrompt, headAccuracy, locateOptions, qkReadout, LETTERS, type McqaQuestion } from '../../src/methods/positional/qkscore';
import { letterIds, modelAnswer } from '../../src/app/qkScoreRun';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

let env: Env;
beforeAll(async () => {
  await tf.setBackend('cpu');
  env = await startEnv();
});
afterAll(async () => {
  await env?.close();
});

describe('the RoPE explorer (issue 7, §12.1)', () => {
  it('seeded vectors: the curve starts at q·k for every base and layout, the bases and layouts give different curves, the dials turn with position', async () => {
    const { page, errors } = await openPage(env, '?v=1');
    await painted(page);
    await page.click('[data-testid=rope-details] summary');
    const curve = page.locator('[data-testid=rope-curve]');
    const { q, k } = seededPair(16, 1);
    const qk = q.reduce((a, x, i) => a + x * k[i], 0);
    expect(Number(await curve.getAttribute('data-score0'))).toBeCloseTo(qk, 4);
    expect(Number(await curve.getAttribute('data-flat'))).toBeCloseTo(qk, 4);
    // The drawn curve is the library's: its last point's height against the no-RoPE line's.
    const points = async () => (await page.locator('[data-testid=rope-curve-chosen]').getAttribute('points'))!;
    const a = await points();
    await page.selectOption('[data-testid=rope-base]', '100');
    const b = await points();
    expect(b).not.toBe(a);
    await page.getByRole('radio', { name: 'interleaved (GPT-J)' }).click();
    const c = await points();
    expect(c).not.toBe(b);
    expect(Number(await curve.getAttribute('data-score0'))).toBeCloseTo(qk, 4);
    // The curve at θ = 100, interleaved, has the shape the library computes (heights within a pixel).
    const lib = ropeDistanceCurve(q, k, 16, 100, 128, 'interleaved');
    const ys = c.split(' ').map((p) => Number(p.split(',')[1]));
    const yFlat = Number((await page.locator('[data-testid=rope-curve-none]').getAttribute('points'))!.split(' ')[0].split(',')[1]);
    // The scale from the point farthest from the flat line, then every 8th point against it.
    let far = 1;
    for (let D = 1; D <= 128; D++) if (Math.abs(lib[D] - qk) > Math.abs(lib[far] - qk)) far = D;
    const pxPerUnit = (ys[far] - yFlat) / (lib[far] - qk);
    expect(pxPerUnit).toBeLessThan(0); // larger scores are drawn higher
    for (let D = 0; D <= 128; D += 8) expect(Math.abs(ys[D] - yFlat - pxPerUnit * (lib[D] - qk)), `Δ = ${D}`).toBeLessThan(1);
    // Turning the position moves the fast pairs' arrows.
    const dials = async () => page.locator('[data-testid=rope-dials] line').evaluateAll((ls) => ls.map((l) => `${l.getAttribute('x2')},${l.getAttribute('y2')}`).join(';'));
    const d0 = await dials();
    await page.locator('[data-testid=rope-position]').fill('40');
    expect(await dials()).not.toBe(d0);
    await page.locator('[data-testid=rope-details]').screenshot({ path: join(ARTIFACTS, 'rope-explorer.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("with a model: the locked cell's pre-RoPE query and key, equal to the library run in Node", async () => {
    const { page, errors } = await openPage(env, '');
    await page.waitForFunction(() => !!document.querySelector('[data-testid=model-summary]'), null, { timeout: 60_000 });
    await painted(page);
    // Lock a cell first (opening the explorer scrolls the heatmap away).
    const box = (await page.locator('[data-testid=heatmap-overlay]').boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.3, box.y + box.height * 0.6);
    await page.waitForFunction(() => /[?&]lock=\d+(,|%2C)\d+/.test(location.search));
    await page.click('[data-testid=rope-details] summary');
    await page.getByRole('radio', { name: 'locked cell' }).click();
    const label = (await page.locator('[data-testid=rope-vectors]').textContent()) ?? '';
    const m = /head (\d+), query (\d+) → key (\d+) \(pre-RoPE\)/.exec(label);
    expect(m, label).not.toBeNull();
    const [h, qi, ki] = m!.slice(1).map(Number);
    const layer = Number(await page.getByLabel('Layer', { exact: true }).inputValue());
    const text = await page.locator('[data-testid=model-text]').inputValue();
    const dir = join(process.cwd(), 'public/models/sotu-llama');
    const model = await loadModel(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'].map((n) => fileFromBytes(n, new Uint8Array(readFileSync(join(dir, n))))), { backend: 'cpu' });
    const r = await runModel(model, text, { capture: [layer] });
    model.dispose();
    const cap = r.layers[layer]!;
    const [H, N, d] = cap.qPre.shape;
    const kv = Math.floor(h / (H / cap.kPre.shape[0]));
    let want = 0;
    for (let c = 0; c < d; c++) want += cap.qPre.data[(h * N + qi) * d + c] * cap.kPre.data[(kv * N + ki) * d + c];
    expect(Number(await page.locator('[data-testid=rope-curve]').getAttribute('data-score0'))).toBeCloseTo(want, 3);
    expect(errors).toEqual([]);
    await page.close();
  });

});

describe('QK-norm as a method (issue 7, §12.2)', () => {
  it('picked from a link: its maps, the score histograms and the bound, equal to the library run in Node', async () => {
    const { page, errors } = await openPage(env, '?v=1&h=4&kv=4&method=qknorm&T=3&cmp=diff');
    await page.waitForSelector('[data-testid=qknorm-panel]', { timeout: 60_000 });
    const tokens = tokenize(DEFAULT_TEXT).map((t) => t.text);
    const x = syntheticQKV({ tokens, pattern: 'mixed', heads: 4, kvHeads: 4, headDim: 32, temperature: 3, seed: 7 });
    const r = await runMethod('qknorm', { ...x, causal: true });
    const h = r.detail.qkNorm!;
    expect(Number(await page.locator('[data-testid=qknorm-max-before]').textContent())).toBeCloseTo(h.maxBefore, 2);
    expect(Number(await page.locator('[data-testid=qknorm-max-after]').textContent())).toBeCloseTo(h.maxAfter, 2);
    expect(h.maxAfter).toBeLessThanOrEqual(h.sqrtD + 1e-6);
    // One bar per non-empty bin, for each histogram.
    expect(await page.locator('[data-testid=qknorm-before] rect').count()).toBe(h.before.filter((c) => c > 0).length);
    expect(await page.locator('[data-testid=qknorm-after] rect').count()).toBe(h.after.filter((c) => c > 0).length);
    // The output error against the source, as the library computes it.
    await expect.poll(async () => Number(await page.locator('[data-testid=metric-relfrob] .big').textContent())).toBeCloseTo(r.metrics.relFrob, 3);
    await page.locator('[data-testid=qknorm-panel]').screenshot({ path: join(ARTIFACTS, 'qknorm-panel.png') });
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('MergeLock on the loaded model (issue 7, §12.6)', () => {
  it('a RoPE-commuting lock changes the weights and keeps attention and logits within 1e-4; a general A is warned about and changes them', async () => {
    const { page, errors } = await openPage(env, '');
    await page.waitForFunction(() => !!document.querySelector('[data-testid=model-summary]'), null, { timeout: 60_000 });
    await painted(page);
    await page.click('[data-testid=mergelock-details] summary');
    await page.click('[data-testid=mergelock-run]');
    await page.waitForSelector('[data-testid=mergelock-result]', { timeout: 60_000 });
    expect(await page.locator('[data-testid=mergelock-warning]').count()).toBe(0);
    expect(await page.locator('[data-testid=mergelock-verdict]').textContent()).toMatch(/^are unchanged/);
    expect(Number(await page.locator('[data-testid=mergelock-change]').textContent())).toBeGreaterThan(0.5);
    expect(Number(await page.locator('[data-testid=mergelock-worst]').textContent())).toBeLessThanOrEqual(1e-4);
    // The merge demo: averaged with the original, attention really moves (the lock alone did not).
    await page.click('[data-testid=mergelock-merge]');
    await page.waitForSelector('[data-testid=mergelock-merge-result]', { timeout: 60_000 });
    expect(Number(await page.locator('[data-testid=mergelock-merge-worst]').textContent())).toBeGreaterThan(1e-2);
    expect(await page.locator('canvas[data-testid=mergelock-diff-merge]').count()).toBe(1);
    await page.locator('[data-testid=mergelock]').screenshot({ path: join(ARTIFACTS, 'mergelock.png') });
    await page.selectOption('[data-testid=mergelock-kind]', 'general');
    await page.click('[data-testid=mergelock-run]');
    await expect.poll(() => page.locator('[data-testid=mergelock-verdict]').textContent(), { timeout: 60_000 }).toBe('changed');
    expect(await page.locator('[data-testid=mergelock-warning]').textContent()).toMatch(/does not commute with the RoPE rotations/);
    expect(Number(await page.locator('[data-testid=mergelock-worst]').textContent())).toBeGreaterThan(0.01);
    // The model on screen is still the original: the page's run did not change.
    expect(await page.locator('[data-testid=model-summary]').textContent()).toMatch(/State of the Union/);
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('RoPE and MergeLock as methods in the picker (issue 7)', () => {
  it('MergeLock on the synthetic q, k, v leaves the maps within 1e-5; RoPE moves them', async () => {
    const { page, errors } = await openPage(env, '?v=1&method=mergelock&mp.seed=3&cmp=diff');
    await painted(page);
    await expect.poll(() => page.locator('.heatmap .legend figcaption').textContent(), { timeout: 30_000 }).toMatch(/weight difference: MergeLock.* − reference \(largest \|Δ\| /);
    const mlDiff = Number(/largest \|Δ\| ([^)]+)\)/.exec((await page.locator('.heatmap .legend figcaption').textContent())!)![1]);
    expect(mlDiff).toBeLessThan(1e-5);
    await page.goto(`${env.url}?v=1&method=rope&mp.base=500&cmp=diff`);
    await painted(page);
    await expect.poll(() => page.locator('.heatmap .legend figcaption').textContent(), { timeout: 30_000 }).toMatch(/weight difference: RoPE.* − reference/);
    const ropeDiff = Number(/largest \|Δ\| ([^)]+)\)/.exec((await page.locator('.heatmap .legend figcaption').textContent())!)![1]);
    expect(ropeDiff).toBeGreaterThan(0.05);
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('QK-score readout on the loaded model (issue 7, §11)', () => {
  it('mcqa-tiny opens on its own question; over its built-in set the best head is the card\'s L2H3 at the card\'s accuracy; clicking it marks the option line ends', async () => {
    const heads = JSON.parse(readFileSync(join(process.cwd(), 'public/models/mcqa-tiny/heads.json'), 'utf8')) as { select_and_copy: [number, number][]; qk_accuracy: number[][]; model_accuracy: number };
    const { page, errors } = await openPage(env, '?v=1&model=mcqa-tiny');
    await page.waitForFunction(() => !!document.querySelector('[data-testid=named-heads]'), null, { timeout: 60_000 });
    expect(await page.locator('[data-testid=named-heads]').textContent()).toMatch(/select-and-copy 96\.8 % right/);
    await page.click('[data-testid=qkscore-details] summary');
    await page.waitForSelector('[data-testid=qk-readout]', { timeout: 60_000 });
    // The form holds the question the model ran (its own example).
    expect(await page.locator('[data-testid=qk-question]').inputValue()).toBe('What colour does Vera wear?');
    expect(await page.locator('[data-testid=qk-option-1]').inputValue()).toBe('brown');
    await page.click('[data-testid=qk-set-builtin]');
    await expect.poll(() => page.locator('[data-testid=qk-set-name]').textContent()).toMatch(/500 questions/);
    await page.click('[data-testid=qk-set-run]');
    await page.waitForSelector('[data-testid=qk-set-result]', { timeout: 170_000 });
    const rows = await page.locator('[data-testid=qk-ranking] tbody tr').allTextContents();
    const [l, h] = heads.select_and_copy[0];
    expect(rows[0]).toMatch(new RegExp(`^L${l}H${h} ★ select-and-copy candidate${(100 * heads.qk_accuracy[l][h]).toFixed(1)} %`));
    expect(await page.locator('[data-testid=qk-model-accuracy]').textContent()).toBe(`${(100 * heads.model_accuracy).toFixed(1)} %`);
    await page.locator('[data-testid=qk-ranking] tbody tr').first().locator('button').click();
    await page.waitForSelector('[data-testid=heatmap-marks]');
    await expect.poll(() => page.locator('.heatmap h2').textContent()).toMatch(new RegExp(`^Head ${h}`));
    await page.screenshot({ path: join(ARTIFACTS, 'qkscore-mcqa-tiny.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a question runs through the model; the bars, the picks map and the model answer equal the library in Node; a question set ranks every head', async () => {
    const { page, errors } = await openPage(env, '');
    await page.waitForFunction(() => !!document.querySelector('[data-testid=model-summary]'), null, { timeout: 60_000 });
    await painted(page);
    await page.click('[data-testid=qkscore-details] summary');
    await page.waitForSelector('[data-testid=qk-not-a-question]');
    await page.click('[data-testid=qk-run]');
    await page.waitForSelector('[data-testid=qk-readout]', { timeout: 60_000 });
    // The same prompt through the library in Node.
    const q: McqaQuestion = { context: 'Anna likes tea. Ben likes milk. Cara likes juice.', question: 'What does Ben like?', options: ['juice', 'tea', 'milk', 'water'], answer: 'C' };
    const dir = join(process.cwd(), 'public/models/sotu-llama');
    const model = await loadModel(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'].map((n) => fileFromBytes(n, new Uint8Array(readFileSync(join(dir, n))))), { backend: 'cpu' });
    const readQ = async (x: McqaQuestion) => {
      const r = await runModel(model, formatPrompt(x), { logits: true });
      const at = locateOptions(r.tokens);
      const V = r.logits!.shape[1];
      return { ro: qkReadout(r.layers.map((l) => l!), at), own: modelAnswer(r.logits!.data.subarray((r.ids.length - 1) * V), letterIds(model.tokenizer!)) };
    };
    const ref = await readQ(q);
    const [L, H] = [ref.ro.length, ref.ro[0].qk.length];
    expect(await page.locator('[data-testid=qk-map] button').count()).toBe(L * H);
    for (let l = 0; l < L; l++) for (let h = 0; h < H; h++) expect(await page.locator(`[data-testid=qk-cell-${l}-${h}]`).getAttribute('data-pick'), `L${l}H${h}`).toBe(LETTERS[ref.ro[l].pickQk[h]]);
    // The bars of the shown head (layer 2, head 2).
    const shown = (await page.locator('[data-testid=qk-bars-qk] .qk-bar-row').allTextContents()).map((t) => Number(/(-?[\d.]+)/.exec(t.slice(1))![1]));
    shown.forEach((v, i) => expect(v).toBeCloseTo(ref.ro[2].qk[2][i], 2));
    expect(await page.locator('[data-testid=qk-model-answer] b').textContent()).toBe(LETTERS[ref.own!.pick]);
    // Clicking a head shows it, with the last token locked on the option it picked.
    await page.click('[data-testid=qk-cell-0-1]');
    await expect.poll(() => page.getByLabel('Layer', { exact: true }).inputValue()).toBe('0');
    await page.waitForFunction(() => /[?&]lock=\d+(,|%2C)\d+/.test(location.search) && /[?&]head=1\b/.test(location.search));
    // ... and the heatmap marks the four option line ends: their key labels carry the letters,
    // in the right answer's colour for C, at the positions the library located.
    await page.waitForSelector('[data-testid=heatmap-marks]');
    const marked = await page.locator('svg.axes text[data-mark]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-mark'), e.textContent, e.getAttribute('fill'), e.getAttribute('data-key')]));
    expect(marked.map((m) => m[0])).toEqual([...LETTERS]);
    marked.forEach((m, i) => expect(m[1]).toBe(`${LETTERS[i]}: ⏎`));
    expect(marked.filter((m) => m[2] === '#009E73').map((m) => m[0])).toEqual(['C']);
    const at = locateOptions((await runModel(model, formatPrompt(q))).tokens);
    expect(marked.map((m) => Number(m[3]))).toEqual(at.positions);
    await page.locator('.heatmap').screenshot({ path: join(ARTIFACTS, 'qkscore-heatmap-marks.png') });
    // Clearing them removes the legend line and the marked labels.
    await page.click('[data-testid=heatmap-marks] button');
    await expect.poll(() => page.locator('svg.axes text[data-mark]').count()).toBe(0);
    // A question set of three, from a file: every head's accuracy as in Node.
    const set: McqaQuestion[] = [q, { context: 'Dan has a red car. Eve has a blue car.', question: 'What colour is Eve\'s car?', options: ['red', 'green', 'blue', 'black'], answer: 'C' }, { question: 'Which is a number?', options: ['seven', 'tree', 'house', 'river'], answer: 'A' }];
    const tmp = mkdtempSync(join(tmpdir(), 'qk-set-'));
    writeFileSync(join(tmp, 'set.json'), JSON.stringify({ format: 'qkscope-mcqa-1', questions: set }));
    await page.setInputFiles('[data-testid=qk-set-input]', join(tmp, 'set.json'));
    await expect.poll(() => page.locator('[data-testid=qk-set-name]').textContent()).toMatch(/3 questions/);
    await page.click('[data-testid=qk-set-run]');
    await page.waitForSelector('[data-testid=qk-set-result]', { timeout: 120_000 });
    const refs = [];
    for (const x of set) refs.push(await readQ(x));
    model.dispose();
    const acc = headAccuracy(refs.map((r) => r.ro), set.map((x) => LETTERS.indexOf(x.answer!)));
    const best = Math.max(...acc.qk.flat());
    const rows = await page.locator('[data-testid=qk-ranking] tbody tr').allTextContents();
    expect(rows).toHaveLength(10);
    expect(Number(/([\d.]+) %/.exec(rows[0])![1])).toBeCloseTo(100 * best, 1);
    expect(rows[0]).toMatch(/select-and-copy candidate/);
    const modelAcc = refs.filter((r, i) => r.own!.pick === LETTERS.indexOf(set[i].answer!)).length / 3;
    expect(await page.locator('[data-testid=qk-model-accuracy]').textContent()).toBe(`${(100 * modelAcc).toFixed(1)} %`);
    await page.locator('[data-testid=qkscore]').screenshot({ path: join(ARTIFACTS, 'qkscore.png') });
    expect(errors).toEqual([]);
    await page.close();
  });
});

