// Shared by the browser tests, the benchmark and the screenshot script: serve the built app
// and drive Debian's Chromium with playwright-core (no browser download).
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, extname, join, normalize } from 'node:path';
import { spawnSync } from 'node:child_process';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.QK_CHROMIUM || '/usr/bin/chromium';

/** True when a Chromium binary is installed where we look for it. */
export function haveChromium() {
  return existsSync(CHROMIUM);
}

/**
 * What every benchmark script does first: stop with a clear message when Chromium is missing,
 * and build the app unless `--no-build` was given.
 */
export function benchPreflight(args) {
  if (!haveChromium()) {
    console.error(`No Chromium at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium).`);
    process.exit(1);
  }
  if (!args['no-build']) {
    const r = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
}

/** Flags from TOOLCHAIN.md: WebGPU on (SwiftShader here), no background network. */
export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--no-sandbox',
  '--enable-precise-memory-info',
  '--js-flags=--expose-gc',
];

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.svg': 'image/svg+xml', '.json': 'application/json', '.map': 'application/json', '.png': 'image/png' };

/**
 * Files whose name starts with this are sent in SLOW_PARTS parts, SLOW_GAP_MS apart, so that a
 * test sees a download in progress whatever the machine's speed (network emulation in Chromium
 * proved unreliable for this: on one machine a throttled 4 MiB fetch showed only two updates).
 */
export const SLOW_PREFIX = 'slow-';
const SLOW_PARTS = 16;
const SLOW_GAP_MS = 150;
let slowGate = Promise.resolve();

/**
 * Holds back the body of every slow- file until the returned function is called, so a test
 * can let the page finish starting up first (a busy page shows fewer progress updates).
 */
export function holdSlowFiles() {
  let release;
  slowGate = new Promise((r) => (release = r));
  return () => release();
}

async function sendSlowly(file, size, res) {
  const data = readFileSync(file);
  await slowGate;
  const part = Math.ceil(size / SLOW_PARTS);
  let at = 0;
  const next = () => {
    if (res.destroyed) return;
    const end = Math.min(size, at + part);
    res.write(data.subarray(at, end));
    at = end;
    if (at < size) setTimeout(next, SLOW_GAP_MS);
    else res.end();
  };
  next();
}

/**
 * Serves `dist/` (or another built folder: `storybook-static/`) on a free loopback port, as any plain static server would
 * (no on-the-fly compression, which would make load times depend on this machine's CPU).
 */
export async function serveDist(root = process.cwd(), dir = 'dist') {
  const dist = join(root, dir);
  if (!existsSync(join(dist, 'index.html'))) throw new Error(`${dir}/ is missing: run ${dir === 'dist' ? '`npx vite build`' : '`npx storybook build --quiet -o storybook-static`'} first`);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = normalize(join(dist, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(dist) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    const size = statSync(file).size;
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': size, 'cache-control': 'no-cache' });
    if (basename(file).startsWith(SLOW_PREFIX)) void sendSlowly(file, size, res);
    else createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/`;
  return { url, close: () => new Promise((r) => server.close(() => r())) };
}

/** Launches headless Chromium in a fresh profile. */
export async function launch({ viewport = { width: 1440, height: 1000 } } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'qk-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
