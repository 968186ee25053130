#!/usr/bin/env node
// `npm test`: the whole suite. Lint, type-check, unit tests (Node, tfjs cpu backend), the
// production build, the Storybook build, then the browser tests in Debian's Chromium.
// Browser tests run when /usr/bin/chromium (or $QK_CHROMIUM) exists and are skipped with a
// clear message otherwise — unless QK_REQUIRE_BROWSER=1 (CI), which turns a missing browser
// into a failure. Ends with one line "qkscope: N passed, N failed".
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const chromium = process.env.QK_CHROMIUM || '/usr/bin/chromium';
const requireBrowser = process.env.QK_REQUIRE_BROWSER === '1';
const out = join(process.cwd(), 'test-artifacts');
mkdirSync(out, { recursive: true });
let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];

function step(name, cmd, args, opts = {}) {
  const t0 = Date.now();
  console.log(`\n▶ ${name}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...opts.env } });
  const ok = r.status === 0;
  console.log(`${ok ? '✔' : '✘'} ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  if (!ok) failures.push(name);
  return ok;
}

function vitest(project) {
  const json = join(out, `vitest-${project}.json`);
  rmSync(json, { force: true });
  const ok = step(`${project} tests`, 'npx', ['vitest', 'run', '--project', project, '--reporter=default', '--reporter=json', `--outputFile.json=${json}`]);
  if (existsSync(json)) {
    const r = JSON.parse(readFileSync(json, 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    skipped += r.numPendingTests + (r.numTodoTests ?? 0);
    if (!ok && r.numFailedTests === 0) failed += 1; // a crash outside any test still counts
  } else if (!ok) failed += 1;
}

function counted(name, cmd, args) {
  if (step(name, cmd, args)) passed += 1;
  else failed += 1;
}

counted('lint', 'npx', ['eslint', 'src', 'tests', 'scripts', 'stories', '.storybook', 'bin', 'vite.cli.config.ts']);
counted('type-check', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']);
vitest('unit');
pythonTests();
counted('production build', 'npx', ['vite', 'build', '--logLevel', 'warn']);
counted('storybook build', 'npx', ['storybook', 'build', '--quiet', '-o', 'storybook-static']);
counted('figure library build', 'npm', ['run', '--silent', 'build:lib']);

/**
 * The Python exporter's tests (scripts/qkscope_export.py) need only NumPy. They run with the
 * first interpreter that has it; without one they are skipped — unless QK_REQUIRE_PYTHON=1 (CI).
 */
function pythonTests() {
  const py = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0);
  if (!py) {
    const msg = 'Python 3 with NumPy not found (apt-get install -y python3-numpy)';
    if (process.env.QK_REQUIRE_PYTHON === '1') {
      console.log(`\n✘ Python exporter tests REQUIRED (QK_REQUIRE_PYTHON=1): ${msg}.`);
      failed += 1;
      failures.push('python tests (no NumPy)');
    } else console.log(`\n⚠ SKIPPING the Python exporter tests: ${msg}.`);
    return;
  }
  console.log(`\n▶ python exporter tests: ${py} -m unittest tests/python/test_export.py`);
  const t0 = Date.now();
  const r = spawnSync(py, ['-m', 'unittest', '-v', 'tests/python/test_export.py'], { encoding: 'utf8' });
  const text = `${r.stdout}${r.stderr}`;
  process.stdout.write(text.split('\n').filter((l) => / \.\.\. |^Ran |^OK|^FAILED|Error/.test(l)).join('\n') + '\n');
  const ran = Number(/Ran (\d+) tests?/.exec(text)?.[1] ?? 0);
  const skip = Number(/skipped=(\d+)/.exec(text)?.[1] ?? 0);
  const bad = Number(/failures=(\d+)/.exec(text)?.[1] ?? 0) + Number(/errors=(\d+)/.exec(text)?.[1] ?? 0);
  const ok = r.status === 0 && ran > 0;
  console.log(`${ok ? '✔' : '✘'} python exporter tests (${((Date.now() - t0) / 1000).toFixed(1)} s): ${ran} ran, ${skip} skipped`);
  passed += ran - skip - bad;
  skipped += skip;
  failed += ok ? 0 : Math.max(1, bad);
  if (!ok) failures.push('python exporter tests');
}

if (existsSync(chromium)) {
  vitest('browser');
  console.log(`Screenshots for people to look at: ${out}/*.png`);
} else if (requireBrowser) {
  console.log(`\n✘ browser tests REQUIRED (QK_REQUIRE_BROWSER=1) but no Chromium at ${chromium}: install Debian's chromium (apt-get install -y chromium).`);
  failed += 1;
  failures.push('browser tests (no Chromium)');
} else {
  console.log(`\n⚠ SKIPPING the browser tests: no Chromium at ${chromium}. Install Debian's chromium (apt-get install -y chromium) or set QK_CHROMIUM to run them.`);
}

if (failures.length) console.log(`\nFailed steps: ${failures.join(', ')}`);
console.log(`\nqkscope: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed || failures.length ? 1 : 0);
