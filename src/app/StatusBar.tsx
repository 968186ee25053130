import { BACKENDS, type BackendChoice } from '../core/backendNames';
import { useQk } from '../state/react';

/** Which backend computed the result, what fell back and why, and the backend picker. */
export function StatusBar() {
  const backend = useQk((s) => s.compute.backend);
  const setCompute = useQk((s) => s.setCompute);
  const d = useQk((s) => s.derived);
  const r = d.result;
  return (
    <div className="status" role="status" aria-live="polite">
      <label>
        Backend{' '}
        <select value={backend} onChange={(e) => setCompute({ backend: e.target.value as BackendChoice })} data-testid="backend-select">
          <option value="auto">auto (fastest measured)</option>
          {BACKENDS.map((b) => (
            <option key={b} value={b}>
              {b}
            </option>
          ))}
        </select>
      </label>
      <span data-testid="backend-used">
        {r ? (
          <>
            {r.backend ? (
              <>
                computed on <b>{r.backend}</b> in {r.ms.toFixed(1)} ms ({r.where})
              </>
            ) : (
              <>read from the file (no computation)</>
            )}{' '}
            · {r.N === r.Nk ? `${r.N} tokens` : `${r.N} queries × ${r.Nk} keys`} × {r.H} heads
          </>
        ) : d.status === 'computing' ? (
          'computing…'
        ) : null}
      </span>
      {d.status === 'computing' && r ? <span className="spinner" aria-label="computing">updating…</span> : null}
      {r && r.fallbacks.length > 0 ? (
        <span className="fallback" data-testid="fallback-note">
          {r.fallbacks.map((f) => `${f.backend} failed (${f.reason})`).join('; ')} — fell back to {r.backend}.
        </span>
      ) : null}
      {d.probe && backend === 'auto' ? (
        <span className="muted probe" data-testid="probe-note">
          measured here (H=8, N=256):{' '}
          {Object.entries(d.probe.timings)
            .sort((a, b) => (a[1] ?? 0) - (b[1] ?? 0))
            .map(([b, ms]) => `${b} ${ms!.toFixed(1)} ms`)
            .join(' · ')}
        </span>
      ) : null}
    </div>
  );
}
