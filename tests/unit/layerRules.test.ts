import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

// The layer rules of DESIGN.md §2 live in eslint.config.js; these cases prove they bite.
const eslint = new ESLint({ cwd: process.cwd() });
async function errors(filePath: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath });
  return r.messages.filter((m) => m.severity === 2).map((m) => m.message);
}

describe('ESLint enforces the layer rules', () => {
  const cases: [string, string, RegExp | null][] = [
    ['src/views/heatmap/X.tsx', "import * as tf from '@tensorflow/tfjs-core';\nexport const x = tf;\n", /tfjs is imported only under src\/compute/],
    ['src/views/heatmap/X.tsx', "import { runAttention } from '../../compute/engine';\nexport const x = runAttention;\n", /views\/ may not import/],
    ['src/core/X.ts', "import { createQkStore } from '../state/store';\nexport const x = createQkStore;\n", /core\/ imports nothing of ours/],
    ['src/core/X.ts', "import { useState } from 'react';\nexport const x = useState;\n", /No React/],
    ['src/compute/X.ts', "import { useState } from 'react';\nexport const x = useState;\n", /No React/],
    ['src/compute/X.ts', "import { createQkStore } from '../state/store';\nexport const x = createQkStore;\n", /compute\/ may not import/],
    ['src/state/X.ts', "import { runAttention } from '../compute/engine';\nexport const x = runAttention;\n", /only types/],
    ['src/views/X.tsx', "import { select } from 'd3';\nexport const x = select;\n", /Only src\/ui\/useZoom.ts calls d3.select/],
    ['src/ui/X.tsx', "import { createQkStore } from '../state/store';\nexport const x = createQkStore;\n", /store-agnostic/],
    // allowed
    ['src/compute/X.ts', "import * as tf from '@tensorflow/tfjs-core';\nexport const x = tf;\n", null],
    ['src/state/X.ts', "import type { EngineResult } from '../compute/engine';\nexport type X = EngineResult;\n", null],
    ['src/views/X.tsx', "import { scaleLinear } from 'd3';\nexport const x = scaleLinear;\n", null],
  ];
  for (const [file, code, want] of cases) {
    it(`${want ? 'rejects' : 'allows'}: ${file} ${code.split('\n')[0]}`, async () => {
      const errs = await errors(file, code);
      if (want) expect(errs.some((e) => want.test(e))).toBe(true);
      else expect(errs).toEqual([]);
    });
  }
});
