import type { Meta, StoryObj } from '@storybook/react-vite';
import { ErrorBoundary } from '../src/ui/ErrorBoundary';
import { Heatmap } from '../src/views/heatmap/Heatmap';
import { HeadGrid } from '../src/views/headGrid/HeadGrid';
import { TokenStrip } from '../src/views/tokenStrip/TokenStrip';
import { StatsTable } from '../src/views/statsTable/StatsTable';
import { qk, withQkStore } from './StoryStore';

/** The views of src/app/App.tsx under one provider, without the controls or the compute controller. */
function LinkedViews() {
  return (
    <main className="views" style={{ padding: 12 }}>
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
      <p className="muted small keys">Hover a token or cell to link the views · click to lock · click a head tile or table row to show it large</p>
    </main>
  );
}

const meta = {
  title: 'Views/LinkedViews',
  component: LinkedViews,
  decorators: [withQkStore],
  parameters: {
    layout: 'fullscreen',
    docs: { description: { component: 'All four views sharing one store: hovering a token, a heatmap cell or a head tile highlights the same query in every view.' } },
  },
} satisfies Meta<typeof LinkedViews>;

export default meta;
type Story = StoryObj<typeof meta>;

export const Default: Story = {
  parameters: qk({ pattern: 'mixed', heads: 8, kvHeads: 4 }, 'The app’s default example (8 heads, 4 KV heads, mixed pattern); hover anywhere to see the views link.'),
};

export const LockedInduction: Story = {
  parameters: qk({ pattern: 'mixed', heads: 8, kvHeads: 4, locked: { q: 24, k: 9 }, view: { head: 5 } }, 'An induction head with a locked query (the second “,” attends to “John”, the token after the first “,”): the heatmap overlay, the query band in every grid tile and the token tint all show the same cell.'),
};
