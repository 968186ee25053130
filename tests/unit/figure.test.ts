import { describe, expect, it } from 'vitest';
import { unzlibSync } from 'fflate';
import { encodePng, base64 } from '../../src/io/png';
import { figureSummary, heatmapSvg, xmlEscape, type HeatmapFigure } from '../../src/io/figure';
import { figureHtml } from '../../src/io/figureHtml';

function fig(n: number, tokens = Array.from({ length: n }, (_, i) => `t${i}`)): HeatmapFigure {
  const data = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) data[i * n + j] = j === Math.max(0, i - 1) ? 0.7 : 0.3 / i;
  return { title: 'test · head 0', spec: { data, offset: 0, rows: n, cols: n, scale: { kind: 'linear', lo: 0, hi: 1 }, colormap: 'viridis', causalOffset: 0, label: 'attention weight' }, tokens, keyTokens: tokens, locked: null, marks: null };
}

describe('PNG encoder', () => {
  it('writes the signature, an IHDR of the size, and an IDAT that inflates to the filtered scanlines', () => {
    const rgba = new Uint8Array([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const png = encodePng(rgba, 3, 2);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const dv = new DataView(png.buffer);
    expect(String.fromCharCode(...png.subarray(12, 16))).toBe('IHDR');
    expect([dv.getUint32(16), dv.getUint32(20), png[24], png[25]]).toEqual([3, 2, 8, 6]);
    const idatLen = dv.getUint32(33);
    expect(String.fromCharCode(...png.subarray(37, 41))).toBe('IDAT');
    const raw = unzlibSync(png.subarray(41, 41 + idatLen));
    expect([...raw]).toEqual([0, ...rgba.subarray(0, 12), 0, ...rgba.subarray(12)]);
    // The CRC of IHDR (type + data) as zlib's crc32 gives it: a known value for this header.
    expect(dv.getUint32(29)).toBe(crc32(png.subarray(12, 29)));
    expect(() => encodePng(rgba, 4, 2)).toThrow(/not 4 × 2 × 4/);
  });

  it('base64 matches Node for every tail length', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 100]) {
      const b = new Uint8Array(Array.from({ length: n }, (_, i) => (i * 37 + 11) & 255));
      expect(base64(b)).toBe(Buffer.from(b).toString('base64'));
    }
  });
});

/** Reference CRC-32 (bitwise, no table) to check the encoder's table-driven one. */
function crc32(b: Uint8Array): number {
  let c = ~0;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

describe('heatmap figure as SVG', () => {
  it('draws one vector rectangle per unmasked cell up to 128 tokens, with one label per token', () => {
    const n = 12;
    const svg = heatmapSvg(fig(n));
    const cells = svg.match(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+" fill="#[0-9a-f]{6}"><title>/g) ?? [];
    expect(cells).toHaveLength((n * (n + 1)) / 2); // causal: the upper triangle is masked
    expect(svg).not.toContain('<image');
    const keyLabels = svg.slice(svg.indexOf('data-role="key-labels"')).split('</g>')[0].match(/<text /g) ?? [];
    expect(keyLabels).toHaveLength(n);
  });

  it('embeds the cells as one PNG image above 128 tokens, and keeps vector labels', () => {
    const svg = heatmapSvg(fig(200));
    expect(svg.match(/<image /g)).toHaveLength(1);
    expect(svg).toMatch(/href="data:image\/png;base64,iVBORw0KGgo/);
    expect(svg).not.toContain('<title>0→0');
    expect(svg).toContain('data-role="query-labels"');
  });

  it('escapes hostile token text everywhere it appears', () => {
    const evil = ['<script>alert(1)</script>', '"&\'', ']]>', 'ok'];
    const f = fig(4, evil);
    const svg = heatmapSvg({ ...f, title: '<b>title</b>', marks: { keys: [1], labels: ['<A>'], right: 0 } });
    expect(svg).not.toContain('<script');
    expect(svg).not.toContain('<b>');
    expect(svg).toContain('&lt;script&gt;');
    expect(svg).toContain('&lt;A&gt;');
    const html = figureHtml(f);
    expect(html.match(/<script/g)).toHaveLength(2); // the data island and the readout script only
    expect(html).not.toMatch(/<\/script>alert/);
    expect(xmlEscape('a\u0001b')).toBe('a\ufffdb'); // characters XML 1.0 forbids
  });

  it('marks key columns and the locked cell, and summarises the locked query in words', () => {
    const f = { ...fig(8), locked: { q: 5, k: 4 }, marks: { keys: [2, 6], labels: ['A', 'B'], right: 1 } };
    const svg = heatmapSvg(f);
    expect(svg.match(/stroke-dasharray="4 3"/g)).toHaveLength(2);
    expect(svg).toContain('stroke="#009E73"');
    expect(svg).toContain('stroke="#ff8c00"');
    expect(figureSummary(f)).toBe('test · head 0: 8 queries × 8 keys, attention weight. Query 5 “t5” is highest at key 4 “t4” (0.7), key 0 “t0” (0.06), key 1 “t1” (0.06).');
    // Without a locked cell the last query is summarised; masked keys are never listed.
    expect(figureSummary(fig(3))).toMatch(/Query 2 “t2” is highest at key 1 “t1” \(0\.7\), key 0 “t0” \(0\.15\), key 2 “t2” \(0\.15\)\./);
  });

  it('the HTML page carries the values inline, exactly', () => {
    const f = fig(5);
    const html = figureHtml(f);
    const json = JSON.parse(/<script type="application\/json" id="qk-data">([\s\S]*?)<\/script>/.exec(html)![1]);
    const back = new Float32Array(new Uint8Array(Buffer.from(json.values, 'base64')).buffer);
    expect([...back]).toEqual([...f.spec.data]);
    expect(html).not.toMatch(/src=|href="http/); // nothing fetched
  });
});
