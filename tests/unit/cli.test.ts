import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadImage, createCanvas } from '@napi-rs/canvas';
// @ts-expect-error plain ESM list shared with scripts/make_cli_goldens.mjs
import { GOLDEN_CASES } from './cliCases.mjs';

// `npx qkscope figure …` (bin/qkscope.mjs) run as a user runs it, in a child process.
const tmp = mkdtempSync(join(tmpdir(), 'qk-cli-'));
function qkscope(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/qkscope.mjs', ...args], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout, err: r.stderr.replace(/^qkscope: building.*\n/m, '') };
}
const EXPECTED = JSON.parse(readFileSync('tests/fixtures/io/expected.json', 'utf8')) as { N: number; H: number; tokens: string[]; layers: { weights: number[] }[] };

async function pixels(png: Uint8Array): Promise<{ w: number; h: number; data: Uint8ClampedArray }> {
  const img = await loadImage(Buffer.from(png));
  const c = createCanvas(img.width, img.height);
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  return { w: img.width, h: img.height, data: ctx.getImageData(0, 0, img.width, img.height).data };
}

describe('qkscope figure (command line, no browser)', () => {
  it('says how to use it', () => {
    const r = qkscope('--help');
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/qkscope figure --input FILE/);
    expect(r.out).toMatch(/--view heatmap\|grid/);
  });

  it('a Q/K/V dump as SVG: one cell per causal pair with the value PyTorch computed, every hostile token escaped', () => {
    const out = join(tmp, 'a.svg');
    const r = qkscope('figure', '--input', 'tests/fixtures/io/qkv.npz', '--layer', '1', '--head', '2', '--out', out);
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/wrote .*a\.svg \(\d+ bytes\): qkv\.npz · layer 1 · head 2, 7 × 7 tokens/);
    const svg = readFileSync(out, 'utf8');
    expect(svg).not.toMatch(/<script|<svg onload/);
    expect(svg).toContain('&lt;script&gt;alert');
    const { N, H, layers } = EXPECTED;
    const cells = [...svg.matchAll(/<title>(\d+)→(\d+): ([-\d.e]+)<\/title>/g)].map((m) => [Number(m[1]), Number(m[2]), Number(m[3])]);
    expect(cells).toHaveLength((N * (N + 1)) / 2);
    expect(H).toBe(4);
    for (const [i, j, v] of cells) {
      const ref = layers[1].weights[(2 * N + i) * N + j];
      expect(Math.abs(v - ref), `cell ${i},${j}`).toBeLessThanOrEqual(Math.max(5e-4 * Math.abs(ref), 5e-4)); // printed to 3 significant digits
    }
  });

  it('matches its golden figures: the SVG exactly, the PNG pixel by pixel within a tolerance', async () => {
    for (const c of GOLDEN_CASES as { name: string; args: string[]; golden: string }[]) {
      const out = join(tmp, `g-${c.golden.split('/').pop()}`);
      const r = qkscope('figure', ...c.args, '--out', out);
      expect(r.status, `${c.name}: ${r.err}`).toBe(0);
      if (out.endsWith('.svg')) expect(readFileSync(out, 'utf8'), c.name).toBe(readFileSync(c.golden, 'utf8'));
      else {
        const [a, b] = [await pixels(readFileSync(out)), await pixels(readFileSync(c.golden))];
        expect([a.w, a.h]).toEqual([b.w, b.h]);
        let off = 0;
        for (let i = 0; i < a.data.length; i += 4) if (Math.max(...[0, 1, 2].map((k) => Math.abs(a.data[i + k] - b.data[i + k]))) > 32) off++;
        // Font rasterisation may differ by a few edge pixels between machines; the cells may not.
        expect(off / (a.w * a.h), c.name).toBeLessThan(0.01);
      }
    }
  });

  it('a built-in model and its own text: mcqa-tiny\'s select-and-copy head puts its weight on the right option\'s line end; PNG and HTML too', async () => {
    const svgOut = join(tmp, 'm.svg');
    const r = qkscope('figure', '--model', 'mcqa-tiny', '--layer', '2', '--head', '3', '--out', svgOut);
    expect(r.status, r.err).toBe(0);
    const svg = readFileSync(svgOut, 'utf8');
    expect(svg).toMatch(/<title id="qk-title">mcqa-tiny · layer 2 · head 3<\/title>/);
    // The model's own example: "… B. brown\n …"; the last query (":") weighs B's "\n" most.
    const keyGroup = svg.slice(svg.indexOf('data-role="key-labels"')).split('</g>')[0];
    const labels = [...keyGroup.matchAll(/>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(labels).toHaveLength(37);
    const last = [...svg.matchAll(/<title>36→(\d+): ([-\d.e]+)<\/title>/g)].map((m) => [Number(m[1]), Number(m[2])]);
    const best = last.reduce((a, b) => (b[1] > a[1] ? b : a));
    expect(labels[best[0]]).toBe('⏎');
    expect(labels[best[0] - 1]).toBe('·brown');
    expect(best[1]).toBeGreaterThan(0.9);
    const png = join(tmp, 'm.png');
    expect(qkscope('figure', '--model', 'mcqa-tiny', '--view', 'grid', '--layer', '2', '--scale', '1', '--out', png).status).toBe(0);
    const p = await pixels(readFileSync(png));
    expect(p.w).toBeGreaterThan(600);
    const html = join(tmp, 'm.html');
    expect(qkscope('figure', '--model', 'mcqa-tiny', '--layer', '2', '--head', '3', '--out', html).status).toBe(0);
    expect(readFileSync(html, 'utf8')).toMatch(/^<!doctype html>[\s\S]*id="qk-data"/);
  });

  it('mistakes get a message naming the option and what it expects, and a non-zero status', () => {
    const cases: [string[], number, RegExp][] = [
      [['figure', '--out', join(tmp, 'x.svg')], 2, /give exactly one source: --input FILE or --model/],
      [['figure', '--input', 'tests/fixtures/io/qkv.npz'], 2, /--out FILE is required/],
      [['figure', '--input', 'tests/fixtures/io/qkv.npz', '--out', join(tmp, 'x.gif')], 2, /must end in \.svg, \.png or \.html/],
      [['figure', '--input', 'tests/fixtures/io/qkv.npz', '--head', '9', '--out', join(tmp, 'x.svg')], 2, /--head 9: qkv\.npz · layer 0 has 4 heads \(0 to 3\)/],
      [['figure', '--input', 'tests/fixtures/io/qkv.npz', '--layer', 'two', '--out', join(tmp, 'x.svg')], 2, /--layer must be a whole number/],
      [['figure', '--input', 'tests/fixtures/io/qkv.npz', '--colour', 'red', '--out', join(tmp, 'x.svg')], 2, /unknown option --colour/],
      [['figure', '--model', 'no-such-model', '--out', join(tmp, 'x.svg')], 2, /not a built-in model \(built-in: .*mcqa-tiny/],
      [['figure', '--input', 'missing.npy', '--out', join(tmp, 'x.svg')], 2, /--input missing\.npy: no such file/],
      [['draw'], 2, /unknown command "draw"/],
    ];
    for (const [args, status, msg] of cases) {
      const r = qkscope(...args);
      expect(r.status, args.join(' ')).toBe(status);
      expect(r.err, args.join(' ')).toMatch(msg);
    }
    // A corrupt file: the importer's own message, status 1.
    const bad = join(tmp, 'bad.npy');
    writeFileSync(bad, new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 4, 0, 123]));
    const r = qkscope('figure', '--input', bad, '--out', join(tmp, 'x.svg'));
    expect(r.status).toBe(1);
    expect(r.err).toMatch(/^qkscope: bad\.npy/);
  });
});
