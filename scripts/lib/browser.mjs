// Shared by the browser tests, the benchmark and the screenshot script: serve the built app
// and drive Debian's Chromium with playwright-core (no browser download).
import { existsSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { preview } from 'vite';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.QK_CHROMIUM || '/usr/bin/chromium';

/** True when a Chromium binary is installed where we look for it. */
export function haveChromium() {
  return existsSync(CHROMIUM);
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

/** Serves `dist/` (built beforehand) on a free loopback port. */
export async function serveDist(root = process.cwd()) {
  if (!existsSync(join(root, 'dist', 'index.html'))) throw new Error('dist/ is missing: run `npx vite build` first');
  const server = await preview({ root, logLevel: 'silent', preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false } });
  const addr = server.httpServer.address();
  const url = `http://127.0.0.1:${addr.port}/`;
  return { url, close: () => new Promise((r) => server.httpServer.close(() => r())) };
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
