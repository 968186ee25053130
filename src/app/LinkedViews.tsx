import type { CSSProperties } from 'react';
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

/** The four linked views, laid out as on the page; each isolated by an error boundary. */
export function LinkedViews({ style }: { style?: CSSProperties }) {
  return (
    <main className="views" style={style}>
      <ErrorBoundary name="token strip">
        <TokenStrip />
      </ErrorBoundary>
      <div className="views-row">
        <ErrorBoundary name="heatmap">
          <Heatmap />
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
      <details className="view-more" data-testid="rope-details">
        <summary>Show the RoPE explorer (how rotary positions turn queries and keys)</summary>
        <ErrorBoundary name="RoPE explorer">
          <RopeExplorer />
        </ErrorBoundary>
      </details>
      <p className="muted small keys">Hover a token or cell to link the views · click to lock · Esc to clear · arrow keys move the locked cell · [ ] change head · {'{ }'} change layer</p>
    </main>
  );
}
