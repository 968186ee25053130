/**
 * tfjs backends in the order of preference on hardware with a GPU (DESIGN.md §1). The names
 * live in core so that the URL codec can validate them without importing the compute layer.
 */
export const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];
/** `auto` picks the fastest backend measured in this browser. */
export type BackendChoice = BackendName | 'auto';

export function isBackendName(x: unknown): x is BackendName {
  return typeof x === 'string' && (BACKENDS as readonly string[]).includes(x);
}

/** A backend that could not be used, and why. */
export interface BackendFailure {
  backend: BackendName;
  reason: string;
}
