#!/usr/bin/env node
// Issue 9's benchmark (also the last part of `npm run bench`): long-context attention maps.
// 1. Throughput of the attention map (QKᵀ, softmax, max-pooling) in GFLOP/s, counting 2·d FLOPs
//    per visible (query, key) pair: QK Scope's WebAssembly kernel on one thread (with and
//    without fused multiply-add), the worker engine on every core, a plain JavaScript loop doing
//    the same work, and the foundation's tfjs path on each backend (one head's weights read back).
// 2. The long-context page (?long=N, H = 8, d = 64, causal) in a fresh browser at each N: time to
//    the first full-view heatmap and to the grid of all heads, zoom frame and hover times, peak
//    page memory (JS heap + ArrayBuffers, CDP) against the bytes the visible maps need.
// 3. The foundation's path (the main page, dense maps read back whole) on the same text length,
//    at the largest N it accepts.
// Options: --no-build, --sizes=2048,4096,8192, --backends=wasm,webgl,webgpu,cpu
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchPreflight, launch, serveDist } from './lib/browser.mjs';

const args = Object.fromEntries(process.argv.slice(2).map((a) => { const [k, v] = a.replace(/^--/, '').split('='); return [k, v ?? true]; }));
const sizes = (args.sizes ?? '2048,4096,8192').split(',').map(Number);
const backends = (args.backends ?? 'wasm,webgl,webgpu,cpu').split(',');
benchPreflight(args);
const log = (s) => process.stdout.write(`${s}\n`);
const MiB = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const srv = await serveDist(process.cwd());
const results = { date: new Date().toISOString(), throughput: [], page: [], foundation: [] };

// 1. Throughput.
{
  const b = await launch();
  const page = await b.context.newPage();
  page.setDefaultTimeout(600_000);
  await page.goto(`${srv.url}bench.html`);
  await page.waitForFunction(() => 'qkLong' in window);
  const row = (what, N, r) => {
    results.throughput.push({ what, N, ...r });
    log(`throughput N=${N} ${what}: ${r.ms.toFixed(0)} ms, ${r.gflops.toFixed(2)} GFLOP/s${r.variant ? ` (${r.variant})` : ''}${r.backend ? ` [${r.backend}]` : ''}`);
  };
  for (const N of [2048, 4096]) {
    for (const v of ['simd', 'fma']) row(`kernel, one thread, ${v}`, N, await page.evaluate(([N, v]) => window.qkLong.kernel(N, 64, true, N / 1024, v), [N, v]));
    row('engine, 8 heads, all workers', N, await page.evaluate((N) => window.qkLong.engine(N, 8, 64, true, N / 1024), N));
  }
  row('engine, 8 heads, all workers, grid (pool 32)', 8192, await page.evaluate(() => window.qkLong.engine(8192, 8, 64, true, 32)));
  row('engine, 8 heads, all workers, view (pool 8)', 8192, await page.evaluate(() => window.qkLong.engine(8192, 8, 64, true, 8)));
  row('plain JavaScript loop, one head', 2048, await page.evaluate(() => window.qkLong.js(2048, 64, true, 2)));
  for (const be of backends) {
    try {
      row(`tfjs ${be} (foundation path, one head, weights read back)`, 2048, await page.evaluate((be) => window.qkLong.tfjs(be, 2048, 64), be));
    } catch (e) {
      log(`throughput tfjs ${be}: failed: ${e.message.split('\n')[0]}`);
    }
  }
  await b.close();
}

/** CDP memory of the page's main thread: JS heap plus ArrayBuffer backing stores. */
async function memoryProbe(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const mem = async () => {
    const u = await cdp.send('Runtime.getHeapUsage');
    return u.usedSize + u.backingStorageSize;
  };
  let peak = await mem();
  let on = true;
  const loop = (async () => {
    while (on) {
      try {
        peak = Math.max(peak, await mem());
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 40));
    }
  })();
  return { mem, stop: async () => ((on = false), await loop, peak), gc: () => cdp.send('HeapProfiler.collectGarbage') };
}

// 2. The long-context page.
for (const N of sizes) {
  const b = await launch();
  const page = await b.context.newPage();
  page.setDefaultTimeout(600_000);
  await page.setViewportSize({ width: 1440, height: 1100 });
  await page.goto(`${srv.url}bench.html`); // same origin, nothing loaded yet: the probe starts here
  const probe = await memoryProbe(b.context, page);
  const base = await probe.mem();
  await page.goto(`${srv.url}?long=${N}`);
  const probe2 = await memoryProbe(b.context, page);
  // The page's own footprint before any Q, K or map exists: its code, React and the DOM.
  await page.waitForFunction(() => !!window.__qkLong, null, { polling: 5 });
  const appBase = await probe2.mem();
  await page.waitForFunction(() => performance.getEntriesByName('qk:long-first-paint').length > 0 && performance.getEntriesByName('qk:long-grid').length > 0 && !window.__qkLong.store.getState().job);
  const peak = Math.max(await probe2.stop(), await probe.stop().catch(() => 0));
  const t = await page.evaluate(() => {
    const at = (n) => performance.getEntriesByName(n)[0].startTime;
    const s = window.__qkLong.store.getState();
    return { firstMs: at('qk:long-first-paint'), gridMs: at('qk:long-grid'), viewComputeMs: s.timings.view, gridComputeMs: s.timings.grid, plan: s.plan, kernel: s.timings.kernel, workers: window.__qkLong.controller.engine.workers, kernelMemory: window.__qkLong.controller.engine.last.memory };
  });
  // Zoom frames: wheel events on the map, each timed from the event to the repainted canvas.
  const zoom = await page.evaluate(async () => {
    const el = document.querySelector('[data-testid=long-overlay]');
    const cells = document.querySelector('[data-testid=long-cells]');
    const box = el.getBoundingClientRect();
    const times = [];
    const draws = [];
    for (let i = 0; i < 24; i++) {
      const before = Number(cells.dataset.painted);
      const t0 = performance.now();
      el.dispatchEvent(new WheelEvent('wheel', { deltaY: i < 12 ? -120 : 120, clientX: box.left + box.width * 0.6, clientY: box.top + box.height * 0.7, bubbles: true, cancelable: true }));
      while (Number(cells.dataset.painted) === before && performance.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 0));
      times.push(performance.now() - t0);
      draws.push(Number(cells.dataset.frameMs));
      await new Promise((r) => setTimeout(r, 30));
    }
    const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
    const max = (a) => Math.max(...a);
    return { medianMs: med(times), maxMs: max(times), drawMedianMs: med(draws), drawMaxMs: max(draws) };
  });
  // Hover: the main-thread work of one pointer move (exact weight from Q·K, overlay, tooltip) plus the style and layout it causes.
  const hover = await page.evaluate(() => {
    const el = document.querySelector('[data-testid=long-overlay]');
    const box = el.getBoundingClientRect();
    const times = [];
    for (let i = 0; i < 60; i++) {
      const t0 = performance.now();
      el.dispatchEvent(new PointerEvent('pointermove', { clientX: box.left + (((i * 37) % 100) / 100) * box.width, clientY: box.top + (((i * 53) % 100) / 100) * box.height, bubbles: true }));
      document.body.getBoundingClientRect();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return { medianMs: times[30], maxMs: times[59] };
  });
  // Canvases (GPU memory in a browser with a GPU): the page's canvases plus the colour canvases
  // behind the heatmap (the pyramid levels built while zooming, the exact window).
  const canvasBytes = await page.evaluate(() => [...document.querySelectorAll('canvas')].reduce((a, c) => a + c.width * c.height * 4, 0) + Number(document.querySelector('[data-testid=long-cells]').dataset.canvasBytes ?? 0));
  const visible = t.plan.viewBytes + t.plan.gridBytes;
  const qk = t.plan.inputBytes / (1 + t.workers);
  const r = { N, H: 8, d: 64, ...t, zoom, hover, baseBytes: base, appBaseBytes: appBase, peakBytes: peak, visibleMapBytes: visible, canvasBytes, peakOverVisible: (peak - appBase - qk) / visible };
  results.page.push(r);
  log(`long page N=${N} (H=8, d=64, ${t.workers} workers, kernel ${t.kernel}): first full-view heatmap ${t.firstMs.toFixed(0)} ms after navigation (head ${t.viewComputeMs.toFixed(0)} ms of it), grid of all heads at ${t.gridMs.toFixed(0)} ms (${t.gridComputeMs.toFixed(0)} ms to compute); zoom frame median ${zoom.medianMs.toFixed(1)} ms (max ${zoom.maxMs.toFixed(1)}; drawing ${zoom.drawMedianMs.toFixed(2)} ms); hover median ${hover.medianMs.toFixed(2)} ms (max ${hover.maxMs.toFixed(2)})`);
  log(`  memory N=${N}: page peak ${MiB(peak)} (${MiB(peak - base)} above the empty page) of which Q and K ${MiB((t.plan.inputBytes * 1) / (1 + t.workers))}; visible maps need ${MiB(visible)} (values and RGBA); peak above the empty page minus Q and K = ${((peak - base - qk) / visible).toFixed(2)}× the visible maps; the page itself (code, React, DOM) took ${MiB(appBase - base)} before any tensor, and the peak above that, minus Q and K, is ${r.peakOverVisible.toFixed(2)}× the visible maps; each worker holds Q and K (${MiB(t.plan.inputBytes / (1 + t.workers))}) and ${MiB(t.kernelMemory / t.workers)} of kernel memory; GPU: none for compute, ${MiB(canvasBytes)} of canvases (${(canvasBytes / visible).toFixed(2)}× the visible maps); dense [H, N, N] maps would be ${MiB(t.plan.denseBytes)}`);
  await b.close();
}

// 3. The foundation's path at the largest N it accepts: the main page, H = 8, d = 64, WASM.
for (const N of [2048, 4096]) {
  const b = await launch();
  const page = await b.context.newPage();
  page.setDefaultTimeout(600_000);
  await page.goto(`${srv.url}?v=1&h=8&kv=8&d=64&backend=wasm`);
  await page.waitForSelector('[data-testid=heatmap-cells][data-painted]');
  const probe = await memoryProbe(b.context, page);
  const base = await probe.mem();
  const text = Array.from({ length: N }, (_, i) => `w${i % 499}`).join(' ');
  const t0 = Date.now();
  await page.fill('#qk-text', text);
  try {
    await page.waitForFunction((N) => new RegExp(`${N} tokens`).test(document.querySelector('[data-testid=backend-used]')?.textContent ?? '') && Number(document.querySelector('[data-testid=heatmap-cells]')?.getAttribute('data-painted') ?? 0) > 1, N, { timeout: 600_000 });
    const ms = Date.now() - t0;
    const peak = await probe.stop();
    results.foundation.push({ N, H: 8, d: 64, toHeatmapMs: ms, peakBytes: peak, baseBytes: base });
    log(`foundation page N=${N} (H=8, d=64, WASM): text to heatmap ${ms} ms (includes the 250 ms typing pause); page peak ${MiB(peak)} (${MiB(peak - base)} above its start); it reads back [8, ${N}, ${N}] scores and weights (${MiB(2 * 4 * 8 * N * N)})`);
  } catch (e) {
    await probe.stop();
    results.foundation.push({ N, error: e.message.split('\n')[0] });
    log(`foundation page N=${N}: failed: ${e.message.split('\n')[0]}`);
  }
  await b.close();
}

mkdirSync('bench-results', { recursive: true });
writeFileSync(join('bench-results', 'bench-long.json'), JSON.stringify(results, null, 2));
await srv.close();
