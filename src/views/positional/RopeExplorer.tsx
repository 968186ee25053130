import { useEffect, useMemo, useRef, useState } from 'react';
import { useQk } from '../../state/react';
import { importedLayer } from '../../state/store';
import { ropeDistanceCurve, ropeInvFreq, ropeRotate, seededPair, type RopeLayout } from '../../core/rope';
import { prefersReducedMotion } from '../../ui/useTween';
import { Segmented } from '../../ui/controls';

const BASES = [100, 10_000, 500_000] as const;
const COLORS: Record<number, string> = { 100: '#D55E00', 10000: '#0072B2', 500000: '#009E73' };
const DIMS = [8, 16, 32, 64];
const W = 460;
const H = 240;
const M = { l: 48, r: 12, t: 10, b: 34 };
const R = 20; // radius of one pair's dial
const GAP = 30; // room between dials for their labels

/**
 * The RoPE explorer (ALGORITHMS.md §12.1, issue 7): each frequency pair of a query drawn as a
 * dial turning with its position, and the score of a fixed query and key against their
 * distance, with RoPE at three bases and without it, in the half-split or interleaved layout.
 * The vectors are seeded, or the pre-RoPE query and key of the locked cell of a model or dump.
 */
export function RopeExplorer() {
  const layer = useQk((s) => importedLayer(s));
  const head = useQk((s) => s.view.head);
  const locked = useQk((s) => s.selection.locked);
  const [useCell, setUseCell] = useState(true);
  const [dim, setDim] = useState(16);
  const [seed, setSeed] = useState(1);
  const [base, setBase] = useState<number>(10_000);
  const [layout, setLayout] = useState<RopeLayout>('half');
  const [pos, setPos] = useState(8);
  const [maxDelta, setMaxDelta] = useState(128);
  const [playing, setPlaying] = useState(false);
  const frame = useRef(0);

  // The locked cell's pre-RoPE query and key, when the source has them.
  const cell = useMemo(() => {
    const qkv = layer?.qkv;
    if (!qkv?.qPre || !qkv.kPre || !locked || locked.k === null) return null;
    const [Hq, N, d] = qkv.qPre.shape;
    const Hkv = qkv.kPre.shape[0];
    if (head >= Hq || locked.q >= N || locked.k >= N) return null;
    const kv = Math.floor(head / (Hq / Hkv));
    return {
      q: qkv.qPre.data.slice((head * N + locked.q) * d, (head * N + locked.q + 1) * d),
      k: qkv.kPre.data.slice((kv * N + locked.k) * d, (kv * N + locked.k + 1) * d),
      label: `head ${head}, query ${locked.q} → key ${locked.k} (pre-RoPE)`,
    };
  }, [layer, head, locked]);
  const fromCell = useCell && cell !== null;
  const { q, k } = useMemo(() => (fromCell ? cell! : seededPair(dim, seed)), [fromCell, cell, dim, seed]);
  const d = q.length;

  useEffect(() => {
    if (!playing) return;
    const tick = () => {
      setPos((p) => (p >= 255 ? 0 : p + 1));
      frame.current = requestAnimationFrame(tick);
    };
    frame.current = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(frame.current);
  }, [playing]);

  const inv = useMemo(() => ropeInvFreq(d, base), [d, base]);
  const rotated = useMemo(() => {
    const out = new Float32Array(d);
    ropeRotate(q, 0, d, pos, inv, out, 0, layout);
    return out;
  }, [q, d, pos, inv, layout]);
  const curves = useMemo(() => Object.fromEntries(BASES.map((b) => [b, ropeDistanceCurve(q, k, d, b, maxDelta, layout)])) as Record<number, Float64Array>, [q, k, d, maxDelta, layout]);
  const chosen = useMemo(() => (BASES.includes(base as (typeof BASES)[number]) ? curves[base] : ropeDistanceCurve(q, k, d, base, maxDelta, layout)), [curves, base, q, k, d, maxDelta, layout]);
  const flat = useMemo(() => ropeDistanceCurve(q, k, d, null, maxDelta), [q, k, d, maxDelta]);

  const all = [...Object.values(curves).flatMap((c) => Array.from(c)), ...flat];
  const yMax = Math.max(1e-9, ...all.map(Math.abs));
  const x = (D: number) => M.l + (D / maxDelta) * (W - M.l - M.r);
  const y = (v: number) => M.t + (1 - (v + yMax) / (2 * yMax)) * (H - M.t - M.b);
  const path = (c: ArrayLike<number>) => Array.from(c, (v, D) => `${x(D).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const pairs = d / 2;
  const perRow = Math.min(8, pairs);
  const pairIdx = (i: number): [number, number] => (layout === 'half' ? [i, i + pairs] : [2 * i, 2 * i + 1]);
  const reduced = prefersReducedMotion();

  return (
    <section className="view rope-explorer" aria-label="RoPE explorer" data-testid="rope-explorer">
      <header className="view-head">
        <h2>
          RoPE explorer <small>· rotary position embedding (§12.1)</small>
        </h2>
      </header>
      <div className="rope-controls">
        <div className="ctl">
          <label>Query and key</label>
          <Segmented
            label="query and key"
            value={fromCell ? 'cell' : 'seeded'}
            options={[
              ['seeded', 'seeded'],
              ['cell', 'locked cell'],
            ]}
            onChange={(v) => setUseCell(v === 'cell')}
          />
          <p className="help" data-testid="rope-vectors">
            {fromCell ? cell!.label : cell === null && useCell ? 'Lock a cell of a model or a Q/K/V dump with pre-RoPE copies to use its query and key; seeded vectors meanwhile.' : `Seeded standard-normal q and k, seed ${seed}.`}
          </p>
        </div>
        {!fromCell ? (
          <div className="ctl-row">
            <label>
              d{' '}
              <select value={dim} onChange={(e) => setDim(Number(e.target.value))} aria-label="head dimension">
                {DIMS.map((v) => (
                  <option key={v} value={v}>
                    {v}
                  </option>
                ))}
              </select>
            </label>{' '}
            <label>
              seed <input type="number" value={seed} min={0} onChange={(e) => setSeed(Math.max(0, Math.trunc(Number(e.target.value) || 0)))} style={{ width: 60 }} aria-label="seed" />
            </label>
          </div>
        ) : null}
        <div className="ctl-row">
          <label>
            base θ{' '}
            <select value={base} onChange={(e) => setBase(Number(e.target.value))} aria-label="RoPE base" data-testid="rope-base">
              {BASES.map((b) => (
                <option key={b} value={b}>
                  {b.toLocaleString('en')}
                </option>
              ))}
            </select>
          </label>{' '}
          <Segmented
            label="RoPE layout"
            value={layout}
            options={[
              ['half', 'half-split (Llama)'],
              ['interleaved', 'interleaved (GPT-J)'],
            ]}
            onChange={setLayout}
          />
        </div>
      </div>
      <figure>
        <figcaption className="small">
          Each dial is one frequency pair of the query ({layout === 'half' ? 'channels i and i + d/2' : 'channels 2i and 2i + 1'}), turned by position × θ_i; the faint arrow is position 0. Low pairs turn fast, high pairs barely move.
        </figcaption>
        <div className="ctl-row">
          <label htmlFor="rope-pos">position {pos}</label>
          <input id="rope-pos" type="range" min={0} max={255} value={pos} onChange={(e) => setPos(Number(e.target.value))} data-testid="rope-position" />
          <button onClick={() => (reduced ? setPos((p) => (p + 16) % 256) : setPlaying((v) => !v))} data-testid="rope-play">
            {reduced ? 'step +16' : playing ? 'pause' : 'play'}
          </button>
        </div>
        <svg width={perRow * (2 * R + GAP)} height={Math.ceil(pairs / perRow) * (2 * R + 34)} role="img" aria-label={`the ${pairs} frequency pairs of the query at position ${pos}`} data-testid="rope-dials">
          {Array.from({ length: pairs }, (_, i) => {
            const [a, b] = pairIdx(i);
            const cx = (i % perRow) * (2 * R + GAP) + R + GAP / 2;
            const cy = Math.floor(i / perRow) * (2 * R + 34) + R + 4;
            const n0 = Math.hypot(q[a], q[b]) || 1;
            const period = (2 * Math.PI) / inv[i];
            return (
              <g key={i}>
                <circle cx={cx} cy={cy} r={R} fill="none" stroke="#ccc" />
                <line x1={cx} y1={cy} x2={cx + (R * q[a]) / n0} y2={cy - (R * q[b]) / n0} stroke="#bbb" strokeWidth={1.5} />
                <line x1={cx} y1={cy} x2={cx + (R * rotated[a]) / n0} y2={cy - (R * rotated[b]) / n0} stroke={COLORS[base] ?? '#333'} strokeWidth={2.2} />
                <text x={cx} y={cy + R + 11} fontSize={9} textAnchor="middle">
                  {`pair ${i}`}
                </text>
                <text x={cx} y={cy + R + 21} fontSize={9} textAnchor="middle" fill="#555">
                  {`${period < 1000 ? period.toFixed(1) : period.toExponential(1)} tok/turn`}
                </text>
                <title>{`pair ${i} (channels ${a}, ${b}): θ_i = ${inv[i].toPrecision(4)} rad per token, one turn every ${period.toPrecision(4)} tokens; angle at position ${pos}: ${((pos * inv[i]) % (2 * Math.PI)).toFixed(3)} rad`}</title>
              </g>
            );
          })}
        </svg>
      </figure>
      <figure>
        <figcaption className="small">
          The score q·k of a query and a key Δ tokens apart, (R_m q)·(R_n k) = q·R_{'{n−m}'} k: the same for every position m, so RoPE makes attention depend on distance. Without RoPE it is flat.{' '}
          <label>
            distances up to{' '}
            <select value={maxDelta} onChange={(e) => setMaxDelta(Number(e.target.value))} aria-label="largest distance">
              {[64, 128, 512, 2048].map((v) => (
                <option key={v} value={v}>
                  {v}
                </option>
              ))}
            </select>
          </label>
        </figcaption>
        <svg width={W} height={H} role="img" aria-label="QK score against distance, with RoPE at three bases and without" data-testid="rope-curve" data-score0={chosen[0].toFixed(6)} data-flat={flat[0].toFixed(6)}>
          {[0, 0.25, 0.5, 0.75, 1].map((t) => (
            <g key={t}>
              <line x1={x(t * maxDelta)} x2={x(t * maxDelta)} y1={M.t} y2={H - M.b} stroke="#eee" />
              <text x={x(t * maxDelta)} y={H - M.b + 14} fontSize={10} textAnchor="middle">
                {Math.round(t * maxDelta)}
              </text>
            </g>
          ))}
          {[-1, -0.5, 0, 0.5, 1].map((t) => (
            <g key={t}>
              <line x1={M.l} x2={W - M.r} y1={y(t * yMax)} y2={y(t * yMax)} stroke={t === 0 ? '#bbb' : '#eee'} />
              <text x={M.l - 4} y={y(t * yMax)} dy="0.32em" fontSize={10} textAnchor="end">
                {(t * yMax).toFixed(1)}
              </text>
            </g>
          ))}
          <text x={(M.l + W - M.r) / 2} y={H - 4} fontSize={11} textAnchor="middle">
            distance Δ = m − n (tokens)
          </text>
          <text transform={`translate(11,${(M.t + H - M.b) / 2}) rotate(-90)`} fontSize={11} textAnchor="middle">
            q·k score
          </text>
          <polyline points={path(flat)} fill="none" stroke="#777" strokeDasharray="4 3" strokeWidth={1.4} data-testid="rope-curve-none" />
          {BASES.filter((b) => b !== base).map((b) => (
            <polyline key={b} points={path(curves[b])} fill="none" stroke={COLORS[b]} strokeOpacity={0.35} strokeWidth={1.2} />
          ))}
          <polyline points={path(chosen)} fill="none" stroke={COLORS[base] ?? '#333'} strokeWidth={2} data-testid="rope-curve-chosen" />
        </svg>
        <div className="sweep-legend small">
          {BASES.map((b) => (
            <span key={b}>
              <span className="swatch-line" style={{ background: COLORS[b], opacity: b === base ? 1 : 0.45 }} /> θ = {b.toLocaleString('en')}
              {b === base ? ' (chosen)' : ''}
            </span>
          ))}
          <span>
            <span className="swatch-line" style={{ background: '#777' }} /> no RoPE
          </span>
        </div>
      </figure>
    </section>
  );
}
