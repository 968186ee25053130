import { useState } from 'react';
import { useQk } from '../state/react';
import { useShownFigure } from './useShownFigure';
import { figureSummary, heatmapSvg } from '../io/figure';
import { figureHtml } from '../io/figureHtml';
import { fmtBytes } from '../views/shared/PairBar';
import { useShortLink } from './useShortLink';
import { saveBlob } from './exportView';

/** Renders an SVG document to PNG bytes at `scale` × its size (the browser rasterises it). */
export async function svgToPng(svg: string, scale: number): Promise<Blob> {
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(img.naturalWidth * scale);
    canvas.height = Math.round(img.naturalHeight * scale);
    const ctx = canvas.getContext('2d')!;
    ctx.imageSmoothingEnabled = false; // cells stay crisp when scaled up
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    return await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the browser could not encode the PNG'))), 'image/png'));
  } finally {
    URL.revokeObjectURL(url);
  }
}

/**
 * The shown head as a figure to save (issue 8): SVG with vector axes (cells as rectangles up to
 * 128 tokens, an embedded image above), PNG at 1×, 2× and 4×, or a self-contained HTML page with
 * the values inline. Also prints the figure's text summary (the top keys of the locked query),
 * which screen readers announce.
 */
export function FigureExport() {
  const shown = useShownFigure();
  const [note, setNote] = useState<string | null>(null);
  // A dropped file cannot travel in a link (its bytes are only on this machine): the link then names what can.
  const shareable = useQk((s) => !(s.source.kind === 'imported' && !s.source.url && !s.source.model));
  const short = useShortLink();
  if (!shown) return null;
  const { fig } = shown;
  const base = `qkscope-${fig.title.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase().slice(0, 80)}`;
  const run = async (kind: 'svg' | 'png' | 'html', scale = 1) => {
    try {
      const svg = heatmapSvg(fig);
      let blob: Blob;
      let file: string;
      if (kind === 'svg') [blob, file] = [new Blob([svg], { type: 'image/svg+xml' }), `${base}.svg`];
      else if (kind === 'html') [blob, file] = [new Blob([figureHtml(fig, svg)], { type: 'text/html' }), `${base}.html`];
      else [blob, file] = [await svgToPng(svg, scale), `${base}${scale > 1 ? `@${scale}x` : ''}.png`];
      saveBlob(blob, file);
      setNote(`Saved ${file} (${fmtBytes(blob.size)}).`);
    } catch (e) {
      setNote(`Could not save the figure: ${(e as Error).message}`);
    }
  };
  return (
    <div className="figure-export small" data-testid="figure-export">
      <p className="figure-summary" aria-live="polite" data-testid="figure-summary">
        {figureSummary(fig)}
      </p>
      <div className="ctl-row">
        <span>Save this head as a figure:</span>
        <button onClick={() => void run('svg')} data-testid="figure-svg">
          SVG
        </button>
        {[1, 2, 4].map((s) => (
          <button key={s} onClick={() => void run('png', s)} data-testid={`figure-png-${s}`}>
            PNG {s}×
          </button>
        ))}
        <button onClick={() => void run('html')} data-testid="figure-html" title="one HTML file with the figure and its values inline; opens offline">
          HTML
        </button>
        {note ? <span data-testid="figure-note">{note}</span> : null}
      </div>
      <details className="share" data-testid="share">
        <summary>Link and embed code</summary>
        {shareable ? null : <p className="small">This view shows a file opened from this computer: a link cannot carry it, so the link and the embed show the rest of the state on the default source.</p>}
        <ShareField label="Permalink (opens this exact figure)" value={`${location.origin}${location.pathname}?${short}`} testId="share-link" />
        <ShareField label="Embed this heatmap in a page (an iframe sized by its width and height)" value={`<iframe src="${location.origin}${location.pathname}?embed=heatmap&${short}" width="640" height="640" style="border:0" title="${fig.title.replace(/"/g, '&quot;')}" loading="lazy"></iframe>`} testId="share-embed" rows={3} />
        <p className="small muted">Other views: embed=grid (all heads), tokens, stats, layers. The embed fits its frame and shows no scroll bars.</p>
      </details>
    </div>
  );
}

/** A read-only field with a copy button. */
function ShareField({ label, value, testId, rows = 1 }: { label: string; value: string; testId: string; rows?: number }) {
  const [copied, setCopied] = useState(false);
  return (
    <label className="share-field small">
      {label}
      <textarea readOnly rows={rows} value={value} data-testid={testId} onFocus={(e) => e.currentTarget.select()} />
      <button
        onClick={(e) => {
          e.preventDefault();
          void navigator.clipboard?.writeText(value).then(
            () => setCopied(true),
            () => setCopied(false),
          );
        }}
      >
        {copied ? 'copied' : 'copy'}
      </button>
    </label>
  );
}
