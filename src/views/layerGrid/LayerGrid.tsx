import { useEffect, useRef } from 'react';
import { useQk } from '../../state/react';
import { lut } from '../../core/colormap';

const CELL = 56;

/** One pooled map `[P, P]` (scaled by its own peak) drawn into a small canvas, pixel-exact. */
function Mini({ map, P, colormap, label }: { map: Float32Array; P: number; colormap: Parameters<typeof lut>[0]; label: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    c.width = P;
    c.height = P;
    const ctx = c.getContext('2d')!;
    const img = ctx.createImageData(P, P);
    const l = lut(colormap);
    let max = 0;
    for (let e = 0; e < map.length; e++) max = Math.max(max, map[e]);
    for (let e = 0; e < P * P; e++) {
      const k = Math.max(0, Math.min(255, Math.round((max > 0 ? map[e] / max : 0) * 255))) * 4;
      img.data[e * 4] = l[k];
      img.data[e * 4 + 1] = l[k + 1];
      img.data[e * 4 + 2] = l[k + 2];
      img.data[e * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }, [map, P, colormap]);
  return <canvas ref={ref} role="img" aria-label={label} style={{ width: CELL, height: CELL, imageRendering: 'pixelated' }} />;
}

/**
 * The whole model at once (issue 3): one small map per layer (rows) and head (columns), each
 * max-pooled so peaks stay visible and scaled to its own peak. Layers fill in as they are
 * computed in the background; clicking one shows that layer and head large.
 */
export function LayerGrid() {
  const grid = useQk((s) => s.derived.layerGrid);
  const layer = useQk((s) => s.source.layer);
  const head = useQk((s) => s.view.head);
  const colormap = useQk((s) => s.view.colormap);
  const setSource = useQk((s) => s.setSource);
  const setView = useQk((s) => s.setView);
  if (!grid) return null;
  const done = grid.maps.filter(Boolean).length;
  return (
    <section className="view layer-grid" aria-label="all layers and heads" data-testid="layer-grid">
      <header className="view-head">
        <h2>
          All layers × heads <small>· {grid.L} layers, {grid.H} heads{done < grid.L ? ` · computing ${done}/${grid.L}` : ''}</small>
        </h2>
        <span className="muted small">{grid.P < grid.N ? `each map max-pooled from ${grid.N} to ${grid.P} tokens` : 'each map scaled to its own peak'}; click one to show it</span>
      </header>
      <table className="layer-grid-table">
        <thead>
          <tr>
            <th />
            {Array.from({ length: grid.H }, (_, h) => (
              <th key={h} className="small muted">
                head {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {grid.maps.map((m, l) => (
            <tr key={l}>
              <th className="small muted">layer {l}</th>
              {Array.from({ length: grid.H }, (_, h) => (
                <td key={h}>
                  <button
                    className={`layer-grid-cell${l === layer && h === head ? ' selected' : ''}`}
                    data-testid={`layer-grid-${l}-${h}`}
                    onClick={() => {
                      setSource({ layer: l });
                      setView({ head: h });
                    }}
                    title={`layer ${l}, head ${h}`}
                  >
                    {m ? <Mini map={m.subarray(h * grid.P * grid.P, (h + 1) * grid.P * grid.P)} P={grid.P} colormap={colormap} label={`layer ${l} head ${h}`} /> : <span className="pending" style={{ width: CELL, height: CELL }} />}
                  </button>
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
