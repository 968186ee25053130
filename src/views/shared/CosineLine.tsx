import { useQk } from '../../state/react';


/** Per-token cosine similarity as a sparkline; hovering it links the token to the other views. */
export function CosineLine({ cos, tokens }: { cos: Float32Array; tokens: string[] }) {
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
