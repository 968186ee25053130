import { useMemo } from 'react';
import { useQk } from '../state/react';
import { importedLayer, marksFor } from '../state/store';
import { compareSpec } from '../views/shared/mapSpec';
import { methodActive, methodName } from '../state/result';
import type { HeatmapFigure } from '../io/figure';

/**
 * The heatmap on screen as a figure: the shown head's map as the heatmap colours it, its tokens,
 * the locked cell and the marks, titled "source · head h[ · method]". The figure export and the
 * presentation caption both describe this one object. Null before the first result.
 */
export function useShownFigure(): { fig: HeatmapFigure; where: string; head: number; H: number; method: string | null } | null {
  const result = useQk((s) => s.derived.result);
  const head = useQk((s) => s.view.head);
  const mode = useQk((s) => s.view.mode);
  const cmap = useQk((s) => s.view.colormap);
  const compare = useQk((s) => s.view.compare);
  const locked = useQk((s) => s.selection.locked);
  const marks = useQk((s) => marksFor(s.selection, s.derived.result?.tokens));
  const where = useQk((s) => {
    const l = importedLayer(s);
    return l ? `${s.imported!.name} · ${l.label}` : s.source.kind === 'video' ? 'synthetic video' : 'synthetic example';
  });
  return useMemo(() => {
    if (!result) return null;
    const h = Math.min(head, result.H - 1);
    const method = methodActive(result) ? (compare === 'diff' ? `${methodName(result.method)} − reference` : compare === 'reference' ? 'reference' : methodName(result.method)) : null;
    const fig: HeatmapFigure = { title: `${where} · head ${h}${method ? ` · ${method}` : ''}`, spec: compareSpec(result, h, mode, cmap, 'head', compare), tokens: result.tokens, keyTokens: result.keyTokens, locked, marks };
    return { fig, where, head: h, H: result.H, method };
  }, [result, head, mode, cmap, compare, locked, marks, where]);
}
