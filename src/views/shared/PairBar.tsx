/** Bytes in binary units, e.g. "1.50 MiB". */
export function fmtBytes(b: number): string {
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toFixed(2)} GiB`;
  if (b >= 2 ** 20) return `${(b / 2 ** 20).toFixed(2)} MiB`;
  if (b >= 2 ** 10) return `${(b / 2 ** 10).toFixed(1)} KiB`;
  return `${b} B`;
}

/** FLOPs with a unit, e.g. "3.60 MFLOP". */
export function fmtFlops(f: number): string {
  if (f >= 1e9) return `${(f / 1e9).toFixed(2)} GFLOP`;
  if (f >= 1e6) return `${(f / 1e6).toFixed(2)} MFLOP`;
  if (f >= 1e3) return `${(f / 1e3).toFixed(1)} kFLOP`;
  return `${f} FLOP`;
}

/**
 * A pair of bars: the method against the reference, with the ratio; an optional `extra` bar
 * (a method's own estimation cost, shown apart from its attention, ALGORITHMS.md §0.7).
 */
export function PairBar({ label, value, ref, fmt, note, names = ['method', 'reference'], extra }: { label: string; value: number; ref: number; fmt: (x: number) => string; note?: string; names?: [string, string]; extra?: { name: string; value: number } }) {
  const max = Math.max(value, ref, extra?.value ?? 0, 1e-12);
  const row = (name: string, v: number, cls: string) => (
    <div className="pair-row">
      <span className="pair-name">{name}</span>
      <span className="pair-track">
        <span className={`pair-fill ${cls}`} style={{ width: `${(100 * v) / max}%` }} />
      </span>
      <span className="pair-val">{fmt(v)}</span>
    </div>
  );
  return (
    <div className="pair-bar">
      <div className="pair-title">
        {label} <span className="muted">{ref > 0 ? `${(value / ref).toFixed(3)}× the ${names[1]}` : ''}</span>
      </div>
      {row(names[0], value, 'method')}
      {extra ? row(extra.name, extra.value, 'extra') : null}
      {row(names[1], ref, 'ref')}
      {note ? <div className="muted small">{note}</div> : null}
    </div>
  );
}
