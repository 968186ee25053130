import { useEffect, useRef, useState } from 'react';

/** Whether the user asked the system for reduced motion. */
export function prefersReducedMotion(): boolean {
  return typeof window !== 'undefined' && typeof window.matchMedia === 'function' && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
}

/**
 * Animates an array of numbers towards `target` over `ms` (ease-in-out), one frame at a time.
 * Jumps straight to the target when its length changes (a different structure, nothing to
 * interpolate), when `ms` is 0, or when the user prefers reduced motion.
 */
export function useTween(target: number[], ms = 450): number[] {
  const [shown, setShown] = useState(target);
  const from = useRef(target);
  const cur = useRef(target);
  const key = target.join(',');
  useEffect(() => {
    const start = cur.current;
    if (start.length !== target.length || ms <= 0 || prefersReducedMotion()) {
      cur.current = target;
      setShown(target);
      return;
    }
    from.current = start;
    const t0 = performance.now();
    let raf = 0;
    const step = (now: number) => {
      const t = Math.min(1, (now - t0) / ms);
      const e = t < 0.5 ? 2 * t * t : 1 - (-2 * t + 2) ** 2 / 2;
      const next = target.map((x, i) => from.current[i] + (x - from.current[i]) * e);
      cur.current = next;
      setShown(next);
      if (t < 1) raf = requestAnimationFrame(step);
    };
    raf = requestAnimationFrame(step);
    return () => cancelAnimationFrame(raf);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, ms]);
  return shown;
}
