#!/usr/bin/env node
// `npm run bench`: builds the app, drives headless Chromium (Debian's) and prints a table of
// median times, with ratios measured in the same run; writes bench-results/bench.json.
// Options: --quick (N ≤ 1024 only), --no-build, --backends=wasm,cpu, --sizes=256,1024, --skip-app-hover,
// --skip-grouping / --grouping-only, --skip-import / --import-only, --sparse-only (with
// --sparse-backends=wasm,webgl and --sparse-n=4096), --skip-model / --model-only (with
// --model-backends=webgpu,webgl,wasm,cpu and --skip-gpt2), --skip-long (issue 9's part, scripts/bench_long.mjs)
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchPreflight, launch, serveDist } from './lib/browser.mjs';

const args = Object.fromEntries(process.argv.slice(2).map((a) => { const [k, v] = a.replace(/^--/, '').split('='); return [k, v ?? true]; }));
// One part alone: the others are skipped (the cold load still runs: it is 3 s).
if (args['sparse-only']) Object.assign(args, { 'skip-app-hover': true, 'skip-grouping': true, 'skip-import': true, 'skip-model': true });
if (args['model-only']) Object.assign(args, { 'skip-app-hover': true, 'skip-grouping': true, 'skip-import': true });
const quick = !!args.quick;
const backends = (args.backends ?? 'webgpu,webgl,wasm,cpu').split(',');
const sizes = (args.sizes ?? (quick ? '256,1024' : '256,1024,2048,4096')).split(',').map(Number);
const H = 12;
const d = 64;
// Dense causal attention FLOPs use ALGORITHMS.md §0.7: 2·d·P + 2·dv·P over the P causal pairs.
const SLOW_MS = 15_000; // a call slower than this skips the next (4× larger) size on that backend

benchPreflight(args);
const results = { date: new Date().toISOString(), machine: `${process.platform} ${process.arch}`, H, d, attention: [], reference: [], draw: [], leaks: null, coldLoad: [], probe: null, appHover: null };
const srv = await serveDist(process.cwd());
const log = (s) => process.stdout.write(`${s}\n`);

// 1. Cold page load: a fresh browser and profile each time, until the heatmap has painted.
// The synthetic example (?v=1); then the bare address, whose default is the built-in model:
// time until the model's own heatmap has painted (the summary panel names it).
results.coldLoadModel = [];
for (let i = 0; i < 3; i++) {
  const b = await launch();
  const page = await b.context.newPage();
  await page.goto(`${srv.url}?v=1`);
  await page.waitForFunction(() => performance.getEntriesByName('qk:first-paint').length > 0, null, { timeout: 60_000 });
  results.coldLoad.push(await page.evaluate(() => performance.getEntriesByName('qk:first-paint')[0].startTime));
  await b.close();
  const b2 = await launch();
  const p2 = await b2.context.newPage();
  await p2.goto(srv.url);
  await p2.waitForFunction(() => !!document.querySelector('[data-testid=model-summary]') && Number(document.querySelector('[data-testid=heatmap-cells]')?.getAttribute('data-painted') ?? 0) > 0 && /tokens × 6 heads/.test(document.querySelector('[data-testid=backend-used]')?.textContent ?? ''), null, { timeout: 120_000, polling: 20 });
  results.coldLoadModel.push(await p2.evaluate(() => performance.now()));
  await b2.close();
}
log(`cold load to first heatmap (ms, 3 fresh browsers): synthetic example ${results.coldLoad.map((x) => x.toFixed(0)).join(', ')}; default address (built-in model) ${results.coldLoadModel.map((x) => x.toFixed(0)).join(', ')}`);

// 1b. Hover in the real app at N = 4096 (4 heads, WASM): the main-thread work of one pointer
// move over the heatmap (store update, heatmap and grid overlays, token-strip tint, tooltip)
// plus the style and layout it causes, timed synchronously around dispatched pointer events.
if (!args['skip-app-hover']) {
  const hb = await launch();
  const hp = await hb.context.newPage();
  const text = Array.from({ length: 4096 }, (_, i) => `w${i % 499}`).join(' ');
  // Typed into the text box: a 4096-word link is longer than many servers accept (Node's 16 KB header limit).
  await hp.goto(`${srv.url}?h=4&kv=4&pattern=local&backend=wasm`);
  await hp.waitForSelector('[data-testid=heatmap-cells][data-painted]');
  await hp.fill('#qk-text', text);
  await hp.waitForFunction(() => Number(document.querySelector('[data-testid=heatmap-cells]')?.getAttribute('data-painted') ?? 0) > 0 && /4096 tokens/.test(document.querySelector('[data-testid=backend-used]')?.textContent ?? ''), null, { timeout: 600_000 });
  results.appHover = await hp.evaluate(() => {
    const el = document.querySelector('[data-testid=heatmap-overlay]');
    const box = el.getBoundingClientRect();
    const times = [];
    for (let i = 0; i < 60; i++) {
      const x = box.left + ((i * 37) % 100) / 100 * box.width;
      const y = box.top + ((i * 53) % 100) / 100 * box.height;
      const t0 = performance.now();
      el.dispatchEvent(new PointerEvent('pointermove', { clientX: x, clientY: y, bubbles: true }));
      document.body.getBoundingClientRect(); // the style and layout work the browser must do before it paints
      times.push(performance.now() - t0);
    }
    times.sort((p, q) => p - q);
    return { N: 4096, H: 4, medianMs: times[30], maxMs: times[59] };
  });
  log(`app hover at N=4096 (4 heads): median ${results.appHover.medianMs.toFixed(1)} ms, max ${results.appHover.maxMs.toFixed(1)} ms per pointer move`);
  await hb.close();
}

// 1c. Grouped heads (issue 5): time from a parameter change in the real app to all views redrawn
// (heatmap, head grid, assignment, metrics), N = 1024 tokens, H = 32 heads, d = 32, on WASM.
// "new" values have never been computed in this page (nothing cached); "seen" values were
// computed before (the client's result cache answers). Each row is the median of its runs.
if (!args['skip-grouping']) {
  results.grouping = await groupingBench();
  for (const r of results.grouping.rows) log(`grouping N=1024 H=32: ${r.what}: median ${r.medianMs.toFixed(0)} ms (${r.runs.map((x) => x.toFixed(0)).join(', ')})`);
}
// 1d. Import (issue 4): a 12-layer × 12-head × 512 × 512 float32 attention dump (≈150 MB, the
// stacked [L, 1, H, q, k] of torch.stack(outputs.attentions)) and the Q/K/V dump of the same
// shape (12 layers of q, k, v [12, 512, 64], ≈57 MB), each picked in a fresh browser: time to
// read, to parse and validate, and to the first heatmap; peak memory (JS heap + ArrayBuffers).
if (!args['skip-import']) {
  results.import = await importBench();
  for (const r of results.import) log(`import ${r.file} (${(r.bytes / 2 ** 20).toFixed(0)} MiB): read ${r.readMs.toFixed(0)} ms, parse ${r.parseMs.toFixed(0)} ms, first heatmap ${r.toPaintMs.toFixed(0)} ms after the pick; peak memory ${(r.peakBytes / 2 ** 20).toFixed(0)} MiB (${r.peakOverFile.toFixed(2)}× the file; before: ${(r.baseBytes / 2 ** 20).toFixed(0)} MiB)`);
}
if (args['import-only']) {
  mkdirSync('bench-results', { recursive: true });
  writeFileSync(join('bench-results', 'bench-import.json'), JSON.stringify(results.import, null, 2));
  await srv.close();
  process.exit(0);
}

async function importBench() {
  const { writeNpy, writeSafetensors } = await import('./lib/npyWriter.mjs');
  const dir = mkdtempSync(join(tmpdir(), 'qk-bench-import-'));
  const L = 12;
  const Hh = 12;
  const N = 512;
  const dd = 64;
  // Causal rows of a fixed pattern (the values do not change the cost; the validation reads them all).
  const row = new Float32Array(N * N);
  for (let i = 0; i < N; i++) for (let j = 0; j <= i; j++) row[i * N + j] = 1 / (i + 1);
  const attn = new Float32Array(L * Hh * N * N);
  for (let x = 0; x < L * Hh; x++) attn.set(row, x * N * N);
  const attnPath = join(dir, 'attention-12x12x512.npy');
  writeFileSync(attnPath, writeNpy([L, 1, Hh, N, N], attn));
  const tensors = {};
  let seed = 1;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  for (let l = 0; l < L; l++) for (const r of ['q', 'k', 'v']) tensors[`layers.${l}.${r}`] = { shape: [Hh, N, dd], data: Float32Array.from({ length: Hh * N * dd }, rnd) };
  const qkvPath = join(dir, 'qkv-12x12x512x64.safetensors');
  writeFileSync(qkvPath, writeSafetensors(tensors, { format: 'qkscope-qkv', version: '1', tokens: JSON.stringify(Array.from({ length: N }, (_, i) => `t${i}`)) }));
  const out = [];
  for (const file of [attnPath, qkvPath]) {
    const ib = await launch();
    const ip = await ib.context.newPage();
    ip.setDefaultTimeout(600_000);
    await ip.goto(`${srv.url}?backend=wasm`);
    await ip.waitForSelector('[data-testid=heatmap-cells][data-painted]');
    await ip.waitForTimeout(1500);
    const cdp = await ib.context.newCDPSession(ip);
    await cdp.send('HeapProfiler.collectGarbage');
    const mem = async () => {
      const u = await cdp.send('Runtime.getHeapUsage');
      return u.usedSize + u.backingStorageSize;
    };
    const baseBytes = await mem();
    // The time of every heatmap paint, recorded in the page as it happens.
    await ip.evaluate(() => {
      const hm = document.querySelector('[data-testid=heatmap-cells]');
      window.__paints = [];
      new MutationObserver(() => window.__paints.push(performance.now())).observe(hm, { attributes: true, attributeFilter: ['data-painted'] });
    });
    let peak = baseBytes;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await mem());
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const name = file.split('/').pop();
    await ip.setInputFiles('[data-testid=file-input]', file);
    await ip.waitForFunction((n) => document.querySelector('[data-testid=file-info]')?.textContent?.includes(n) && window.__paints.length > 0, name);
    peak = Math.max(peak, await mem());
    sampling = false;
    await sampler;
    const t = await ip.evaluate(() => {
      const at = (n) => performance.getEntriesByName(n).pop().startTime;
      const start = at('qk:import-start');
      return { readMs: at('qk:import-read') - start, parseMs: at('qk:import-parsed') - at('qk:import-read'), toPaintMs: window.__paints[window.__paints.length - 1] - start };
    });
    const bytes = statSync(file).size;
    out.push({ file: name, bytes, ...t, baseBytes, peakBytes: peak, peakOverFile: (peak - baseBytes) / bytes });
    await ib.close();
  }
  rmSync(dir, { recursive: true, force: true });
  return out;
}

if (args['sparse-only']) {
  results.sparse = await sparseBench();
  mkdirSync('bench-results', { recursive: true });
  writeFileSync(join('bench-results', 'bench-sparse.json'), JSON.stringify(results.sparse, null, 2));
  await srv.close();
  process.exit(0);
}

/**
 * Issue 6: the block-sparse kernel against dense attention on the same backend (N = 4096, H = 8,
 * d = 64, output only) at densities 10 %, 25 % and 50 %, and MoBA's selection overhead.
 */
// 1f. Models (issue 3): the built-in State of the Union model at N = 256 and 1024, and a
// GPT-2-small-shaped checkpoint with random F16 weights at N = 512, on each backend, each in a
// fresh page: load time, forward time as the app runs it, peak backend memory and JS heap.
if (!args['skip-model']) {
  results.model = await modelBench();
  for (const r of results.model) {
    if (r.error) {
      log(`model ${r.model} on ${r.backend}: ${r.error}`);
      continue;
    }
    log(`model ${r.model} (${(r.parameters / 1e6).toFixed(2)} M parameters, ${(r.fileBytes / 2 ** 20).toFixed(1)} MiB of files) on ${r.backend}: load ${r.loadMs.toFixed(0)} ms (read and convert ${r.readMs.toFixed(0)} ms), weights on the backend ${(r.modelBytes / 2 ** 20).toFixed(1)} MiB`);
    for (const x of r.rows) log(x.error ? `  N=${x.N}: ${x.error}` : `  N=${x.N}: forward ${x.medianMs.toFixed(0)} ms (runs ${x.runs.map((v) => v.toFixed(0)).join('/')}); peak backend memory ${(x.peakBackendBytes / 2 ** 20).toFixed(1)} MiB (${((x.peakBackendBytes - r.modelBytes) / 2 ** 20).toFixed(1)} MiB above the weights); JS heap +${(x.heapAfterBytes / 2 ** 20).toFixed(0)} MiB since before loading`);
  }
}
if (args['model-only']) {
  mkdirSync('bench-results', { recursive: true });
  writeFileSync(join('bench-results', 'bench-model.json'), JSON.stringify({ coldLoad: results.coldLoad, coldLoadModel: results.coldLoadModel, model: results.model }, null, 2));
  await srv.close();
  process.exit(0);
}

/** Forward FLOPs as the app runs a model (every layer; logits of the last position only), §0.7 counting. */
function forwardFlops(c, N) {
  const { hidden: h, heads: H, kvHeads: Hkv, headDim: hd, intermediate: I, vocab: V, layers: L, family } = c;
  const proj = 2 * h * (H * hd + 2 * Hkv * hd) + 2 * H * hd * h;
  const mlp = family === 'gpt2' ? 2 * 2 * h * I : 3 * 2 * h * I;
  const attn = 4 * H * hd * ((N + 1) / 2); // QKᵀ and W·V over the causal pairs, per query
  return L * N * (proj + mlp + attn) + 2 * h * V;
}
async function modelBench() {
  const GPT2_SMALL = { hidden: 768, heads: 12, kvHeads: 12, headDim: 64, intermediate: 3072, vocab: 50257, layers: 12, family: 'gpt2' };
  // GPT-2 small is skipped on a backend whose rate (from the built-in model at N = 1024) predicts
  // more than this for its two forward passes (software WebGPU/WebGL here: tens of minutes).
  const GPT2_BUDGET_MS = 600_000;
  const mb = await launch();
  const out = [];
  const cases = [{ model: 'sotu-llama', sizes: [256, 1024], reps: 3 }];
  if (!args['skip-gpt2']) cases.push({ model: 'gpt2-small', sizes: [512], reps: 1 });
  for (const backend of (args['model-backends'] ?? 'webgpu,webgl,wasm,cpu').split(',')) {
    for (const c of cases) {
      if (c.model === 'gpt2-small') {
        const small = out.find((r) => r.backend === backend && r.model === 'sotu-llama' && !r.error);
        const row = small?.rows.find((x) => x.N === 1024 && !x.error);
        if (!row) {
          out.push({ backend, model: c.model, error: 'skipped: the built-in model did not run at N = 1024 on this backend' });
          continue;
        }
        const rate = forwardFlops(small.config, 1024) / row.medianMs; // FLOP per ms
        const est = (2 * forwardFlops(GPT2_SMALL, 512)) / rate;
        if (est > GPT2_BUDGET_MS) {
          out.push({ backend, model: c.model, error: `skipped: at the built-in model's rate here (${(rate / 1e6).toFixed(2)} GFLOP/s) two forward passes at N = 512 would take about ${(est / 60_000).toFixed(0)} min` });
          continue;
        }
      }
      const mp = await mb.context.newPage();
      mp.setDefaultTimeout(1_800_000);
      await mp.goto(`${srv.url}bench.html`);
      await mp.waitForFunction(() => !!window.qkHarness);
      const t0 = Date.now();
      const r = await mp.evaluate((o) => window.qkHarness.benchModel(o).catch((e) => ({ backend: o.backend, model: o.model, error: String(e?.message ?? e) })), { backend, model: c.model, sizes: c.sizes, reps: c.reps, budgetMs: 120_000 });
      r.wallMs = Date.now() - t0;
      out.push(r);
      log(`  (${c.model} on ${backend}: ${(r.wallMs / 1000).toFixed(0)} s)`);
      await mp.close();
    }
  }
  await mb.close();
  return out;
}

async function sparseBench() {
  const sb = await launch();
  const sp = await sb.context.newPage();
  sp.setDefaultTimeout(1_800_000);
  await sp.goto(`${srv.url}bench.html`);
  await sp.waitForFunction(() => !!window.qkHarness);
  const out = [];
  const N = Number(args['sparse-n'] ?? 4096);
  for (const backend of (args['sparse-backends'] ?? 'wasm,webgl').split(',')) {
    const r = await sp.evaluate((o) => window.qkHarness.benchSparse(o), { backend, H: 8, N, d: 64, block: 64, densities: [0.1, 0.25, 0.5], reps: 3, budgetMs: 600_000 });
    out.push(r);
    if (r.error) log(`sparse ${backend}: ${r.error}`);
    else {
      log(`sparse N=${N} H=8 d=64 on ${backend}: dense ${r.denseMs.toFixed(0)} ms; MoBA selection ${r.mobaSelectMs.toFixed(0)} ms (${(100 * r.mobaSelectFraction).toFixed(1)}% of dense)`);
      for (const x of r.selections ?? []) log(x.error ? `  ${x.id} selection: ${x.error}` : `  ${x.id} selection (${x.causal ? 'causal' : 'bidirectional'}, default parameters): ${x.ms.toFixed(0)} ms = ${(100 * x.fractionOfDense).toFixed(1)}% of dense`);
      for (const x of r.rows) log(`  density ${(100 * x.density).toFixed(1)}% (computed ${(100 * x.computedFraction).toFixed(1)}%): ${x.ms.toFixed(0)} ms against ${x.denseMs.toFixed(0)} ms dense in the same loop = ${x.ratioToDense.toFixed(3)}× dense (target ≤ ${(1.5 * x.density).toFixed(3)}×); runs ${x.sparseRuns.map((v) => v.toFixed(0)).join('/')} vs ${x.denseRuns.map((v) => v.toFixed(0)).join('/')}`);
    }
  }
  await sb.close();
  return out;
}

if (args['grouping-only']) {
  mkdirSync('bench-results', { recursive: true });
  writeFileSync(join('bench-results', 'bench-grouping.json'), JSON.stringify(results.grouping, null, 2));
  await srv.close();
  process.exit(0);
}

async function groupingBench() {
  const gb = await launch();
  const gp = await gb.context.newPage();
  gp.setDefaultTimeout(600_000);
  const text = Array.from({ length: 1024 }, (_, i) => `w${i % 499}`).join(' ');
  const open = async (method) => {
    await gp.goto(`${srv.url}?h=32&kv=32&d=32&pattern=mixed&backend=wasm&method=${method}`);
    await gp.waitForSelector('[data-testid=heatmap-cells][data-painted]');
    await gp.fill('#qk-text', text);
    await gp.waitForFunction(() => /1024 tokens/.test(document.querySelector('[data-testid=backend-used]')?.textContent ?? '') && !!document.querySelector('[data-testid=metric-relfrob]') && document.querySelector('.status')?.textContent?.includes('computing') !== true, null, { timeout: 600_000 });
    await gp.waitForTimeout(500);
  };
  // Changes a select in the page and times until the heatmap and the grid have repainted with
  // the new result, plus one frame (what a person waits for).
  const change = (label, value) =>
    gp.evaluate(
      async ([l, v]) => {
        // The method's controls come after the source's (both have a "Seed"): take the last match.
        const lab = [...document.querySelectorAll('label')].filter((x) => x.textContent.trim() === l || x.textContent.trim().startsWith(`${l} `)).pop();
        const el = lab?.control;
        if (!el) throw new Error(`no control labelled ${l}`);
        const hm = document.querySelector('[data-testid=heatmap-cells]');
        const grid = document.querySelector('[data-testid=grid-cells]');
        const p0 = Number(hm.dataset.painted);
        const g0 = Number(grid.dataset.painted);
        let t0;
        if (el.tagName === 'SELECT') {
          t0 = performance.now();
          el.value = v;
          el.dispatchEvent(new Event('change', { bubbles: true }));
        } else if (el.type === 'range') {
          t0 = performance.now();
          Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(el, v);
          el.dispatchEvent(new Event('input', { bubbles: true }));
        } else {
          // A number field commits on Enter: type the value first (React sees it through the
          // native setter), let React render it, then time from the Enter.
          Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(el, v);
          el.dispatchEvent(new Event('input', { bubbles: true }));
          await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
          t0 = performance.now();
          el.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
        }
        return new Promise((resolve, reject) => {
          const tick = () => {
            if (Number(hm.dataset.painted) > p0 && Number(grid.dataset.painted) > g0) requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0), 0));
            else if (performance.now() - t0 > 120_000) reject(new Error(`no redraw within 120 s after ${l} = ${v}`));
            else setTimeout(tick, 1);
          };
          tick();
        });
      },
      [label, value],
    );
  const rows = [];
  const row = async (what, label, values) => {
    const runs = [];
    for (const v of values) runs.push(await change(label, v));
    const s = [...runs].sort((a, b) => a - b);
    rows.push({ what, medianMs: s[Math.floor((s.length - 1) / 2)], runs });
  };
  await open('pgqa');
  await row('PGQA seed, new (attention cached, noise recomputed)', 'Seed', ['2', '3', '4', '5']);
  await open('kdgqa');
  await row('KDGQA min-max → proportional, new (only the query heads that moved are computed)', 'Allocation', ['proportional']);
  await row('KDGQA proportional ↔ min-max, seen (every head reused)', 'Allocation', ['minmax', 'proportional', 'minmax']);
  await row('KDGQA group count, new (pooling and attention recomputed)', 'KV heads (groups) G', ['8', '4', '2']);
  await open('dgqa');
  await row('DGQA step shown, earlier step (new input: reference and method computed)', 'Step shown', ['3', '1']);
  await open('gqa');
  await row('GQA group count, new', 'KV heads (groups) G', ['8', '4', '2']);
  // The per-head cache (320 MiB) holds two configurations of 32 heads at N = 1024: going back to
  // the one before is a reuse; an older one has been evicted and is computed again.
  await row('GQA back to the previous group count (every head reused)', 'KV heads (groups) G', ['4', '2', '4']);
  const m = await gp.evaluate(() => document.querySelector('.grouping .muted.small')?.textContent);
  await gb.close();
  return { N: 1024, H: 32, d: 32, backend: 'wasm', rows, lastMethodMs: m };
}

const b = await launch();
const page = await b.context.newPage();
page.setDefaultTimeout(600_000);
await page.goto(`${srv.url}bench.html`);
await page.waitForSelector('body[data-ready]');

// 2. What `auto` picks in this browser.
results.probe = await page.evaluate(() => window.qkHarness.probe());
log(`auto probe (H=8, N=256): ${Object.entries(results.probe.timings).map(([k, v]) => `${k} ${v.toFixed(1)} ms (${results.probe.variants[k].best})`).join(' · ')} → picks ${results.probe.fastest}`);

// 2b. Leaks over 100 recomputations through the worker, on a fresh page (before the large runs fill the heap).
{
  const fresh = await b.context.newPage();
  await fresh.goto(`${srv.url}bench.html`);
  await fresh.waitForSelector('body[data-ready]');
  results.leaks = await fresh.evaluate(() => window.qkHarness.leakCheck({ n: 100, N: 64, H: 8 }));
  await fresh.close();
}
log(`100 recomputations (${results.leaks.backend}): tensors ${results.leaks.tensorsBefore} → ${results.leaks.tensorsAfter}, JS heap ${results.leaks.heapBeforeMB.toFixed(1)} → ${results.leaks.heapAfterMB.toFixed(1)} MB`);

// 3. Attention per backend and size, with the floor and the plain-JS loop.
for (const N of sizes) {
  const reps = N <= 1024 ? 5 : N <= 2048 ? 3 : 1;
  const ref = await page.evaluate((o) => window.qkHarness.benchReference(o), { H, N, d, reps, budgetMs: 60_000 });
  results.reference.push(ref);
  log(`N=${N} plain JS loop: ${ref.jsMs.toFixed(1)} ms`);
}
for (const backend of backends) {
  let skip = null;
  for (const N of sizes) {
    if (skip) {
      results.attention.push({ backend, N, skipped: skip });
      log(`${backend} N=${N}: skipped (${skip})`);
      continue;
    }
    const reps = N <= 1024 ? 5 : N <= 2048 ? 3 : 1;
    // Both kernel variants up to N = 2048; beyond, only the default (batched) one.
    const dense = N <= 2048 ? ['dense:batched', 'dense:perHead'] : ['dense:batched'];
    const r = await page.evaluate((o) => window.qkHarness.benchAttention(o), { backend, H, N, d, reps, budgetMs: 60_000, parts: [...dense, 'floor', 'app'] });
    r.denseMs = Math.min(r.dense_batched_Ms ?? Infinity, r.dense_perHead_Ms ?? Infinity);
    r.denseVariant = (r.dense_perHead_Ms ?? Infinity) < (r.dense_batched_Ms ?? Infinity) ? 'perHead' : 'batched';
    if (!Number.isFinite(r.denseMs)) delete r.denseMs;
    results.attention.push(r);
    const f = (x) => (x === undefined ? '—' : `${x.toFixed(1)} ms`);
    log(`${backend} N=${N}: ${r.error ? `error: ${r.error}` : `dense batched ${f(r.dense_batched_Ms)}, per-head ${f(r.dense_perHead_Ms)}, floor ${f(r.floorMs)}, app request ${f(r.appMs)} (${r.appVariant})`}`);
    const worst = Math.max(r.dense_batched_Ms ?? 0, r.dense_perHead_Ms ?? 0, r.floorMs ?? 0, r.appMs ?? 0);
    if (r.error && /initialise|available|navigator|forced/.test(r.error)) skip = `backend unavailable: ${r.error}`;
    else if (worst > SLOW_MS) skip = `N=${N} already took ${(worst / 1000).toFixed(1)} s per call`;
  }
}

// 4. Drawing, as the heatmap view draws.
for (const N of [1024, 4096]) {
  const r = await page.evaluate((o) => window.qkHarness.benchDraw(o), { N, reps: 7 });
  results.draw.push(r);
  log(`draw N=${N}: full heatmap ${r.fullDrawMs.toFixed(1)} ms, hover overlay ${r.overlayMs < 0.1 ? '< 0.1' : r.overlayMs.toFixed(1)} ms (timer resolution 0.1 ms)`);
}

await b.close();
await srv.close();

// Summary table.
const ref = Object.fromEntries(results.reference.map((r) => [r.N, r.jsMs]));
const rows = [['backend', 'N', 'batched ms', 'per-head ms', 'best', 'floor ms', 'best/floor', 'app req ms', 'JS loop ms', 'best/JS', 'GFLOP/s']];
for (const r of results.attention) {
  if (r.skipped || r.error) {
    const fy = (x) => (x === undefined ? '—' : x.toFixed(1));
    rows.push([r.backend, String(r.N), r.skipped ? `skipped: ${r.skipped}` : `error: ${r.error.slice(0, 40)}`, '', '', '', '', '', '', '', '']);
    if (r.error && (r.dense_batched_Ms || r.floorMs)) rows.push(['', '', `(before the error: batched ${fy(r.dense_batched_Ms)}, floor ${fy(r.floorMs)}, app ${fy(r.appMs)})`, '', '', '', '', '', '', '', '']);
    continue;
  }
  const flops = 4 * H * d * ((r.N * (r.N + 1)) / 2); // QKᵀ and W·V over the causal pairs (ALGORITHMS.md §0.7)
  const fx = (x) => (x === undefined ? '—' : x.toFixed(1));
  rows.push([r.backend, String(r.N), fx(r.dense_batched_Ms), fx(r.dense_perHead_Ms), r.denseVariant, r.floorMs.toFixed(1), (r.denseMs / r.floorMs).toFixed(2), r.appMs.toFixed(1), ref[r.N]?.toFixed(1) ?? '', ref[r.N] ? (r.denseMs / ref[r.N]).toFixed(2) : '', (flops / r.denseMs / 1e6).toFixed(2)]);
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
const table = rows.map((r) => r.map((c, i) => c.padStart(widths[i])).join('  ')).join('\n');
log(`\nDense causal attention, H=${H}, d=${d} (median ms in one run; floor = batched QKᵀ matmul + softmax, read back)\n${table}`);

// Targets of issue 2, judged on this run.
const ok = results.attention.filter((r) => r.denseMs && r.floorMs && !r.error);
const byN = (N) => ok.filter((r) => r.N === N).sort((a, c) => a.denseMs - c.denseMs);
const lines = [];
for (const N of sizes) {
  const best = byN(N)[0];
  if (best) lines.push(`N=${N}: fastest backend ${best.backend} (${best.denseVariant}), dense/floor ${(best.denseMs / best.floorMs).toFixed(2)} (target ≤ 1.5), dense/JS loop ${ref[N] ? (best.denseMs / ref[N]).toFixed(2) : 'n/a'}`);
}
lines.push(`auto picks ${results.probe.fastest}; fastest at N=1024 is ${byN(1024)[0]?.backend ?? 'n/a'}`);
const d4 = results.draw.find((r) => r.N === 4096);
if (d4) lines.push(`N=4096: full draw ${d4.fullDrawMs.toFixed(1)} ms (target ≤ 100), hover overlay ${d4.overlayMs < 0.1 ? '< 0.1' : d4.overlayMs.toFixed(1)} ms (target ≤ 8)`);
if (results.appHover) lines.push(`app hover at N=4096: median ${results.appHover.medianMs.toFixed(1)} ms, max ${results.appHover.maxMs.toFixed(1)} ms per pointer move (target ≤ 8; heatmap + grid overlays, token-strip tint, tooltip)`);
lines.push(`tensors leaked over 100 recomputations: ${results.leaks.tensorsAfter - results.leaks.tensorsBefore} (target 0)`);
lines.push(`cold load to first heatmap: median ${[...results.coldLoad].sort((a, c) => a - c)[1].toFixed(0)} ms (target ≤ 2000)`);
if (results.coldLoadModel?.length) lines.push(`cold load of the default address to the built-in model's heatmap: median ${[...results.coldLoadModel].sort((a, c) => a - c)[1].toFixed(0)} ms`);
for (const r of results.model ?? []) if (!r.error) lines.push(`model ${r.model} on ${r.backend}: load ${r.loadMs.toFixed(0)} ms; ${r.rows.map((x) => (x.error ? `N=${x.N} failed` : `N=${x.N} forward ${x.medianMs.toFixed(0)} ms, peak ${(x.peakBackendBytes / 2 ** 20).toFixed(0)} MiB`)).join('; ')}`);
log(`\nTargets\n  ${lines.join('\n  ')}`);
results.summary = lines;
mkdirSync('bench-results', { recursive: true });
writeFileSync(join('bench-results', 'bench.json'), JSON.stringify(results, null, 2));
writeFileSync(join('bench-results', 'bench.txt'), `${table}\n\n${lines.join('\n')}\n`);
log('\nwrote bench-results/bench.json and bench-results/bench.txt');

// Issue 9: the long-context part (its own fresh browsers; the build above is reused).
if (!args['skip-long'] && !args['model-only'] && !args['grouping-only']) {
  const r = spawnSync('node', ['scripts/bench_long.mjs', '--no-build'], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
