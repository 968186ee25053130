import { useMemo, useRef } from 'react';
import { schemeTableau10 } from 'd3';
import { useQk } from '../../state/react';
import { methodActive } from '../../state/result';
import { useElementWidth } from '../../ui/useElementWidth';
import { useTween } from '../../ui/useTween';
import { layoutAssignment, linkPath } from './assignmentLayout';

/** Colour of KV head g (a categorical, colour-blind-tolerant palette; labels carry the number too). */
export function kvColor(g: number): string {
  return schemeTableau10[g % schemeTableau10.length];
}

/**
 * The grouped-head assignment: query heads on the left, KV heads on the right, a link from each
 * query head to the KV head it reads, the key norms (or DGQA's norm changes) as bars beside the
 * KV heads, and the allocation counts. Links and bars animate to a new assignment (not under
 * reduced motion). Hovering a query head links it to the other views; clicking selects it.
 */
export function AssignmentDiagram() {
  const result = useQk((s) => s.derived.result);
  const head = useQk((s) => s.view.head);
  const hoverHead = useQk((s) => s.selection.hoverHead);
  const setHover = useQk((s) => s.hoverHead);
  const setView = useQk((s) => s.setView);
  const wrap = useRef<HTMLDivElement>(null);
  const width = Math.max(360, useElementWidth(wrap, 520));

  const model = useMemo(() => {
    if (!result) return null;
    const H = result.H;
    if (methodActive(result)) {
      const m = result.method;
      const active = m.queryHeads;
      // SQA: of every H/Hq nominal slots the first holds the active query head that stands in
      // for the group; the others are greyed out. Slot h is source head h, as in the other views.
      const per = H / active;
      const slotHead = Array.from({ length: H }, (_, h) => (h % per === 0 ? m.slotOf[h] : -1));
      const bars = m.detail.change ?? m.detail.norms ?? null;
      const barLabel = m.detail.change ? (m.params.variant === 'ema' ? 'EMA weight w' : 'norm change |cache − m|') : m.detail.norms ? (m.detail.normsLabel ?? 'key norm') : null;
      return { H, slotHead, mapping: m.mapping, G: m.kvHeads, allocation: m.allocation, bars, barLabel, sqa: m.queryHeads !== H, norms: m.detail.change ? m.detail.norms : undefined, raw: m.detail.raw, disagreement: m.detail.disagreement };
    }
    const alloc = new Array<number>(result.Hkv).fill(0);
    for (const g of result.mapping) alloc[g]++;
    return { H, slotHead: Array.from({ length: H }, (_, h) => h), mapping: result.mapping, G: result.Hkv, allocation: alloc, bars: null, barLabel: null, sqa: false, norms: undefined, raw: undefined, disagreement: undefined };
  }, [result]);

  const lay = model ? layoutAssignment({ slots: model.H, slotHead: model.slotHead, mapping: model.mapping, kvHeads: model.G, width }) : null;
  const maxBar = model?.bars ? Math.max(1e-12, ...model.bars) : 1;
  const target = lay && model ? [...lay.links.map((l) => l.y1), ...(model.bars ?? []).map((b) => (b / maxBar) * lay.barW)] : [];
  const tween = useTween(target);
  if (!result || !model || !lay) return <div ref={wrap} />;
  const nLinks = lay.links.length;
  const barLen = (g: number) => tween[nLinks + g] ?? 0;
  const hi = hoverHead ?? head;
  const kvOfHi = model.slotHead[hi] >= 0 ? model.mapping[model.slotHead[hi]] : -1;

  return (
    <div ref={wrap} className="assignment">
      <svg width={width} height={lay.height} role="img" aria-label={`assignment of ${model.H} query heads to ${model.G} KV heads: ${model.allocation.map((a, g) => `KV ${g} serves ${a}`).join(', ')}`}>
        <text x={lay.qx - 40} y={14} className="axis-title">
          query heads
        </text>
        <text x={lay.kvx} y={14} className="axis-title">
          KV heads
        </text>
        {model.barLabel ? (
          <text x={lay.barX} y={14} className="axis-title">
            {model.barLabel}
          </text>
        ) : null}
        {lay.links.map((l, i) => (
          <path
            key={l.slot}
            d={linkPath(lay.qx, l.y0, lay.kvx, tween[i] ?? l.y1)}
            fill="none"
            stroke={kvColor(l.kv)}
            strokeWidth={l.slot === hi ? 3 : 1.6}
            opacity={l.slot === hi ? 1 : hoverHead !== null && hoverHead !== l.slot ? 0.25 : 0.75}
            data-testid="assignment-link"
          />
        ))}
        {lay.qy.map((y, h) => {
          const on = model.slotHead[h] >= 0;
          const kv = on ? model.mapping[model.slotHead[h]] : -1;
          return (
            <g key={h} className="qslot" onPointerEnter={() => setHover(h)} onPointerLeave={() => setHover(null)} onClick={() => setView({ head: h })} style={{ cursor: 'pointer' }}>
              <rect x={lay.qx - 40} y={y - lay.rowH / 2 + 2} width={40} height={lay.rowH - 4} rx={3} fill={on ? kvColor(kv) : '#e5e7eb'} fillOpacity={on ? 0.25 : 1} stroke={h === head ? '#111' : on ? kvColor(kv) : '#9ca3af'} strokeWidth={h === head ? 2 : 1} strokeDasharray={on ? undefined : '3 2'} />
              <text x={lay.qx - 20} y={y + 4} textAnchor="middle" className="slot-label">
                {on ? (model.sqa ? `q${model.slotHead[h]}` : `q${h}`) : 'off'}
              </text>
            </g>
          );
        })}
        {lay.kvy.map((y, g) => {
          const a = model.allocation[g];
          const starved = a === 0;
          return (
            <g key={g} opacity={kvOfHi >= 0 && kvOfHi !== g && hoverHead !== null ? 0.45 : 1}>
              <rect x={lay.kvx} y={y - lay.kvH / 2} width={56} height={lay.kvH} rx={4} fill={starved ? '#fff' : kvColor(g)} fillOpacity={starved ? 1 : 0.85} stroke={kvColor(g)} strokeDasharray={starved ? '4 3' : undefined} strokeWidth={1.5} />
              <text x={lay.kvx + 28} y={y + 4} textAnchor="middle" className={starved ? 'kv-label' : 'kv-label on'}>
                kv{g}
              </text>
              <text x={lay.kvx + 60} y={y + 4} className="count-label">
                {starved ? '0 (unused)' : `×${a}`}
              </text>
              {model.bars ? (
                <>
                  <rect x={lay.barX} y={y - 5} width={Math.max(0, barLen(g))} height={10} fill={kvColor(g)} opacity={0.7} data-testid="norm-bar" />
                  <text x={lay.barX + 4 + Math.max(0, barLen(g))} y={y + 4} className="bar-label">
                    {model.bars[g].toPrecision(3)}
                    {model.norms ? ` (m ${model.norms[g].toPrecision(3)})` : ''}
                    {model.raw ? ` → share ${model.raw[g].toFixed(2)}` : ''}
                  </text>
                </>
              ) : null}
            </g>
          );
        })}
      </svg>
      <p className="muted small">
        Allocation {model.allocation.join(' : ')} ({model.H} {model.sqa ? 'nominal slots' : 'query heads'} over {model.G} KV head{model.G === 1 ? '' : 's'}). {model.allocation.some((a) => a === 0) ? 'Dashed KV heads serve no query head: their keys and values are computed and cached for nothing.' : ''}
      </p>
      {model.disagreement && model.disagreement.some((x) => x > 0) ? (
        <p className="muted small" data-testid="disagreement">
          Within-group disagreement (mean pairwise cosine distance between the original key heads pooled into each KV head; higher means pooling changes the maps more):{' '}
          {model.disagreement.map((x, g) => `kv${g} ${x.toFixed(2)}`).join(' · ')}
        </p>
      ) : null}
    </div>
  );
}
