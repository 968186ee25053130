import { useQk } from '../../state/react';
import type { MethodView } from '../../state/result';

function fmtBytes(b: number): string {
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toFixed(2)} GiB`;
  if (b >= 2 ** 20) return `${(b / 2 ** 20).toFixed(2)} MiB`;
  if (b >= 2 ** 10) return `${(b / 2 ** 10).toFixed(1)} KiB`;
  return `${b} B`;
}

function fmtFlops(f: number): string {
  if (f >= 1e9) return `${(f / 1e9).toFixed(2)} GFLOP`;
  if (f >= 1e6) return `${(f / 1e6).toFixed(2)} MFLOP`;
  if (f >= 1e3) return `${(f / 1e3).toFixed(1)} kFLOP`;
  return `${f} FLOP`;
}

/** A pair of bars: the method against the reference (MHA = the source), with the ratio. */
function PairBar({ label, value, ref, fmt, note }: { label: string; value: number; ref: number; fmt: (x: number) => string; note?: string }) {
  const max = Math.max(value, ref, 1e-12);
  return (
    <div className="pair-bar">
      <div className="pair-title">
        {label} <span className="muted">{ref > 0 ? `${(value / ref).toFixed(3)}× the reference` : ''}</span>
      </div>
      <div className="pair-row">
        <span className="pair-name">method</span>
        <span className="pair-track">
          <span className="pair-fill method" style={{ width: `${(100 * value) / max}%` }} />
        </span>
        <span className="pair-val">{fmt(value)}</span>
      </div>
      <div className="pair-row">
        <span className="pair-name">reference</span>
        <span className="pair-track">
          <span className="pair-fill ref" style={{ width: `${(100 * ref) / max}%` }} />
        </span>
        <span className="pair-val">{fmt(ref)}</span>
      </div>
      {note ? <div className="muted small">{note}</div> : null}
    </div>
  );
}

/** Per-token cosine similarity as a sparkline; hovering it links the token to the other views. */
function CosineLine({ cos, tokens }: { cos: Float32Array; tokens: string[] }) {
  const hover = useQk((s) => s.hover);
  const W = 260;
  const Hh = 46;
  const n = cos.length;
  let lo = 1;
  for (const c of cos) lo = Math.min(lo, c);
  lo = Math.min(lo, 0.9);
  const y = (c: number) => 4 + (Hh - 8) * (1 - (c - lo) / (1 - lo || 1));
  const pts = Array.from(cos, (c, i) => `${n > 1 ? (i * W) / (n - 1) : W / 2},${y(c).toFixed(1)}`).join(' ');
  return (
    <svg
      width={W}
      height={Hh}
      className="cos-line"
      role="img"
      aria-label={`per-token cosine similarity, minimum ${lo.toFixed(3)}`}
      onPointerMove={(e) => {
        const box = e.currentTarget.getBoundingClientRect();
        const i = Math.max(0, Math.min(n - 1, Math.round(((e.clientX - box.left) / W) * (n - 1))));
        hover({ q: i, k: null });
      }}
      onPointerLeave={() => hover(null)}
    >
      <title>{`cosine per token (${tokens.length} tokens); from ${lo.toFixed(3)} (bottom) to 1 (top)`}</title>
      <line x1={0} x2={W} y1={y(1)} y2={y(1)} stroke="#d1d5db" />
      <polyline points={pts} fill="none" stroke="#2563eb" strokeWidth={1.5} />
    </svg>
  );
}

/** Output error, KV-cache bytes and FLOPs of the method against the reference (ALGORITHMS.md §0.7). */
export function MethodMetrics({ m, tokens }: { m: MethodView; tokens: string[] }) {
  const x = m.metrics;
  let sum = 0;
  let min = Infinity;
  for (const c of x.cosine) {
    sum += c;
    min = Math.min(min, c);
  }
  const sqa = m.queryHeads !== m.slotOf.length;
  return (
    <div className="metrics">
      <div className="metric-cards">
        <div className="card" data-testid="metric-relfrob">
          <div className="muted small">output error ‖O − O<sub>ref</sub>‖/‖O<sub>ref</sub>‖</div>
          <div className="big">{x.relFrob.toPrecision(3)}</div>
          <div className="muted small">concatenated head outputs, before W_O{sqa ? '; each source head against the SQA head standing in for it' : ''}</div>
        </div>
        <div className="card">
          <div className="muted small">per-token cosine: mean {(sum / Math.max(1, x.cosine.length)).toFixed(4)}, min {min.toFixed(4)}</div>
          <CosineLine cos={x.cosine} tokens={tokens} />
        </div>
      </div>
      <PairBar label="KV cache per layer" value={x.kvBytes} ref={x.kvBytesRef} fmt={fmtBytes} note="N · Hkv · (dk + dv) · 4 bytes (float32)" />
      <PairBar label="Attention FLOPs (QKᵀ and W·V)" value={x.flops} ref={x.flopsRef} fmt={fmtFlops} note="Σ over query heads of (2d + 2dv) · allowed pairs" />
      <PairBar label="Projection FLOPs" value={x.projFlops} ref={x.projFlopsRef} fmt={fmtFlops} note={x.dmAssumed ? `assuming a model width dm = H·d = ${x.dm} (the source gives no model width)` : `dm = ${x.dm}`} />
      {sqa ? <PairBar label="Projection parameters" value={x.params} ref={x.paramsRef} fmt={(p) => `${(p / 1e3).toFixed(1)} k`} note="W_Q, W_K, W_V, W_O" /> : null}
    </div>
  );
}
