import { QkProvider } from '../state/react';
import type { QkStore } from '../state/store';
import { ErrorBoundary } from '../ui/ErrorBoundary';
import { Heatmap } from '../views/heatmap/Heatmap';
import { HeadGrid } from '../views/headGrid/HeadGrid';
import { TokenStrip } from '../views/tokenStrip/TokenStrip';
import { StatsTable } from '../views/statsTable/StatsTable';
import { Controls } from './Controls';
import { StatusBar } from './StatusBar';
import { Messages } from './Messages';
import { useKeyboard } from './useKeyboard';

/** The QK Scope page: source controls, status, and the linked views. */
export function App({ store }: { store: QkStore }) {
  useKeyboard(store);
  return (
    <QkProvider store={store}>
      <div className="app">
        <header className="topbar">
          <h1>
            QK Scope <span className="muted">attention microscope</span>
          </h1>
          <StatusBar />
        </header>
        <Messages />
        <div className="layout">
          <Controls />
          <main className="views">
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
              </div>
            </div>
            <p className="muted small keys">Hover a token or cell to link the views · click to lock · Esc to clear · arrow keys move the locked cell · [ ] change head</p>
          </main>
        </div>
      </div>
    </QkProvider>
  );
}
