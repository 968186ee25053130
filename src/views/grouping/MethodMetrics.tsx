import type { MethodView } from '../../state/result';
import { fmtBytes, fmtFlops, PairBar } from '../shared/PairBar';
import { CosineLine } from '../shared/CosineLine';

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
