import { useMemo } from 'react';
import { useQk } from '../state/react';
import { encodeState } from '../state/urlCodec';

/**
 * The short link of the current state, recomputed only when the inputs or the locked cell
 * change (not on hover: a long text is deflated for it).
 */
export function useShortLink(): string {
  const source = useQk((s) => s.source);
  const compute = useQk((s) => s.compute);
  const method = useQk((s) => s.method);
  const view = useQk((s) => s.view);
  const locked = useQk((s) => s.selection.locked);
  return useMemo(() => encodeState({ inputs: { source, compute, method, view }, locked }, { short: true }), [source, compute, method, view, locked]);
}
