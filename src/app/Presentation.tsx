import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { useQk } from '../state/react';
import { useShownFigure } from './useShownFigure';
import { figureSummary } from '../io/figure';
import { Heatmap } from '../views/heatmap/Heatmap';
import { TokenStrip } from '../views/tokenStrip/TokenStrip';
import { ErrorBoundary } from '../ui/ErrorBoundary';
import { useViewport } from '../ui/useViewport';
import { Messages } from './Messages';
import { StepThrough } from '../views/stepThrough/StepThrough';

/** What is on screen, in words large enough for the back row: source, layer, head, method. */
function Caption() {
  const shown = useShownFigure();
  if (!shown) return null;
  const { fig, where, head, H, method } = shown;
  return (
    <div className="present-caption">
      <div className="present-title" data-testid="present-title">
        {where} · head {head} of {H}
        {method ? ` · ${method}` : ''}
      </div>
      <p className="present-summary" aria-live="polite" data-testid="present-summary">
        {figureSummary(fig, 3, false)}
      </p>
    </div>
  );
}

/**
 * Presentation mode (issue 8): the tokens and the heatmap alone, large type and high contrast,
 * driven from the keyboard (the key list: ?). `p` or Esc-then-`p` leaves it.
 */
export function Presentation({ onLeave, onHelp, steps = false, onSteps }: { onLeave: () => void; onHelp: () => void; steps?: boolean; onSteps?: () => void }) {
  const { w, h } = useViewport();
  useEffect(() => {
    document.documentElement.classList.add('present-mode');
    return () => document.documentElement.classList.remove('present-mode');
  }, []);
  // The map takes the height left below the caption and the tokens (measured: their height
  // depends on the text), less its title and key labels (about 125 px) and legend (about 70 px).
  const mapTop = useRef<HTMLDivElement>(null);
  const [top, setTop] = useState(300);
  const tokens = useQk((st) => st.derived.result?.tokens);
  useLayoutEffect(() => {
    const y = mapTop.current?.getBoundingClientRect().top;
    if (y !== undefined) setTop(y + window.scrollY);
  }, [w, h, tokens]);
  return (
    <div className="present" data-testid="presentation">
      <Caption />
      <Messages />
      <ErrorBoundary name="tokens">
        <TokenStrip />
      </ErrorBoundary>
      <div ref={mapTop} />
      {steps ? (
        <ErrorBoundary name="step-through">
          <StepThrough large />
        </ErrorBoundary>
      ) : (
        <ErrorBoundary name="heatmap">
          <Heatmap compact maxSize={Math.max(200, Math.min(w - 260, h - top - 200))} />
        </ErrorBoundary>
      )}
      <div className="present-bar">
        <button onClick={onSteps} data-testid="present-steps">
          {steps ? 'the map (s)' : 'step-through (s)'}
        </button>
        <button onClick={onHelp}>keys (?)</button>
        <button onClick={onLeave} data-testid="present-leave">
          leave presentation (p)
        </button>
      </div>
    </div>
  );
}
