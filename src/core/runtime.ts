/**
 * True in a page or a Web Worker; false in Node, where only tfjs's cpu backend exists.
 * Reads globals only, so it is safe anywhere.
 */
export function inBrowser(): boolean {
  const g = globalThis as { navigator?: unknown; document?: unknown; WorkerGlobalScope?: unknown };
  return typeof g.navigator !== 'undefined' && (typeof g.document !== 'undefined' || typeof g.WorkerGlobalScope !== 'undefined');
}
