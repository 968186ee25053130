import { useState, type CSSProperties, type ReactNode } from 'react';
import { ErrorBoundary } from '../ui/ErrorBoundary';
import { Heatmap } from '../views/heatmap/Heatmap';
import { HeadGrid } from '../views/headGrid/HeadGrid';
import { TokenStrip } from '../views/tokenStrip/TokenStrip';
import { StatsTable } from '../views/statsTable/StatsTable';
import { GroupingPanel } from '../views/grouping/GroupingPanel';
import { SparsePanel } from '../views/sparse/SparsePanel';
import { LayerGrid } from '../views/layerGrid/LayerGrid';
import { ModelSummary } from '../views/model/ModelSummary';
import { RopeExplorer } from '../views/positional/RopeExplorer';
import { StepThrough } from '../views/stepThrough/StepThrough';
import { MergeLockPanel } from './MergeLockPanel';
import { QkScorePanel } from './QkScorePanel';
import { FigureExport } from './FigureExport';
import { useQk } from '../state/react';

/** A panel whose body is rendered only while it is open: its work waits until someone looks. */
function LazyDetails({ testId, summary, children }: { testId: string; summary: string; children: ReactNode }) {
  const [open, setOpen] = useState(false);
  return (
    <details className="view-more" data-testid={testId} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>{summary}</summary>
      {open ? children : null}
    </details>
  );
}

/** The four linked views, laid out as on the page; each isolated by an error boundary. */
export function LinkedViews({ style }: { style?: CSSProperties }) {
  const checkpoint = useQk((s) => s.source.kind === 'imported' && !!s.imported?.checkpoint);
  return (
    <main className="views" style={style}>
      <ErrorBoundary name="token strip">
        <TokenStrip />
      </ErrorBoundary>
      <div className="views-row">
        <ErrorBoundary name="heatmap">
          <div className="heatmap-col">
            <Heatmap />
            <FigureExport />
          </div>
        </ErrorBoundary>
        <div className="side">
          <ErrorBoundary name="head grid">
            <HeadGrid />
          </ErrorBoundary>
          <ErrorBoundary name="statistics">
            <StatsTable />
          </ErrorBoundary>
          <ErrorBoundary name="model summary">
            <ModelSummary />
          </ErrorBoundary>
        </div>
      </div>
      <ErrorBoundary name="all layers">
        <LayerGrid />
      </ErrorBoundary>
      <ErrorBoundary name="sparse attention">
        <SparsePanel />
      </ErrorBoundary>
      <ErrorBoundary name="grouped heads">
        <GroupingPanel />
      </ErrorBoundary>
      <LazyDetails testId="steps-details" summary="Step through the computation of this head (QKᵀ, scale, mask, softmax, × V) with its numbers">
        <ErrorBoundary name="step-through">
          <StepThrough />
        </ErrorBoundary>
      </LazyDetails>
      <details className="view-more" data-testid="rope-details">
        <summary>Show the RoPE explorer (how rotary positions turn queries and keys)</summary>
        <ErrorBoundary name="RoPE explorer">
          <RopeExplorer />
        </ErrorBoundary>
      </details>
      {checkpoint ? (
        <details className="view-more" data-testid="qkscore-details">
          <summary>QK-score readout: which heads select and copy the answer of a multiple-choice question</summary>
          <ErrorBoundary name="QK-score readout">
            <QkScorePanel />
          </ErrorBoundary>
        </details>
      ) : null}
      {checkpoint ? (
        <details className="view-more" data-testid="mergelock-details">
          <summary>MergeLock: scramble the model&apos;s weights and keep its outputs</summary>
          <ErrorBoundary name="MergeLock">
            <MergeLockPanel />
          </ErrorBoundary>
        </details>
      ) : null}
      <p className="muted small keys">Hover a token or cell to link the views · click to lock · Esc to clear · arrow keys move the locked cell · [ ] change head · {'{ }'} change layer · p presents · ? lists every key</p>
    </main>
  );
}
