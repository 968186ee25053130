import { figureSummary, heatmapSvg, xmlEscape, type HeatmapFigure } from './figure';
import { base64 } from './png';

/**
 * A self-contained HTML page of one figure: the SVG inline, its summary as the caption, and
 * the map's values inline (float32, base64) with a few lines of script that show the exact
 * value under the pointer. Opens offline: nothing is fetched.
 */
export function figureHtml(fig: HeatmapFigure, svg = heatmapSvg(fig)): string {
  const { spec } = fig;
  const values = spec.data.slice(spec.offset, spec.offset + spec.rows * spec.cols);
  const data = { rows: spec.rows, cols: spec.cols, causalOffset: spec.causalOffset, tokens: fig.tokens, keyTokens: fig.keyTokens, label: spec.label, values: base64(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)) };
  // "<" is written as \u003c so no token text can close the script element.
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="QK Scope">
<title>${xmlEscape(fig.title)}</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 16px; color: #111; background: #fff; }
figure { margin: 0; display: inline-block; position: relative; }
figcaption { max-width: 720px; margin-top: 6px; color: #333; }
#qk-readout { font: 12px ui-monospace, monospace; min-height: 1.4em; color: #333; }
</style>
</head>
<body>
<figure>
${svg}
<figcaption>${xmlEscape(figureSummary(fig))}</figcaption>
</figure>
<p id="qk-readout" aria-live="polite">Point at a cell for its exact value.</p>
<script type="application/json" id="qk-data">${json}</script>
<script>
(function () {
  var d = JSON.parse(document.getElementById('qk-data').textContent);
  var bin = atob(d.values), bytes = new Uint8Array(bin.length);
  for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  var v = new Float32Array(bytes.buffer);
  var cells = document.querySelector('[data-role=cells]');
  var out = document.getElementById('qk-readout');
  if (!cells) return;
  cells.addEventListener('mousemove', function (e) {
    var r = cells.getBoundingClientRect();
    var j = Math.floor(((e.clientX - r.left) / r.width) * d.cols), q = Math.floor(((e.clientY - r.top) / r.height) * d.rows);
    if (q < 0 || j < 0 || q >= d.rows || j >= d.cols) return;
    var hidden = d.causalOffset !== null && j > q + d.causalOffset;
    out.textContent = 'query ' + q + ' \\u201c' + d.tokens[q] + '\\u201d \\u2192 key ' + j + ' \\u201c' + d.keyTokens[j] + '\\u201d: ' + (hidden ? 'masked' : v[q * d.cols + j] + ' (' + d.label + ')');
  });
})();
</script>
</body>
</html>
`;
}
