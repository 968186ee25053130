import { isBackendName, type BackendName } from '../core/backendNames';

export const FASTEST_KEY = 'qkscope.fastestBackend';

/** The fastest backend an earlier visit measured in this browser, if any. */
export function rememberedFastest(): BackendName | null {
  try {
    const v = localStorage.getItem(FASTEST_KEY);
    return isBackendName(v) ? v : null;
  } catch {
    return null;
  }
}
