#!/usr/bin/env node
// Writes the command line tool's golden figures (tests/golden/cli/), which tests/unit/cli.test.ts
// compares its output with: the SVG exactly, the PNG pixel by pixel within a tolerance. Run it
// after a deliberate change to the figures, look at the new files, and commit them.
import { spawnSync } from 'node:child_process';
import { GOLDEN_CASES } from '../tests/unit/cliCases.mjs';

for (const c of GOLDEN_CASES) {
  const r = spawnSync(process.execPath, ['bin/qkscope.mjs', 'figure', ...c.args, '--out', c.golden], { encoding: 'utf8' });
  process.stdout.write(r.stdout + r.stderr);
  if (r.status !== 0) process.exit(r.status ?? 1);
}
