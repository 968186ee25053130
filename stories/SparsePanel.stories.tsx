import type { Meta, StoryObj } from '@storybook/react-vite';
import { QkProvider } from '../src/state/react';
import type { QkStore } from '../src/state/store';
import { Heatmap } from '../src/views/heatmap/Heatmap';
import { HeadGrid } from '../src/views/headGrid/HeadGrid';
import { SparsePanel } from '../src/views/sparse/SparsePanel';
import { makeSparseStore, type SparseStoryOptions } from './sparseFixtures';

/** The heatmap with its block grid, the head grid and the sparse panel on one store. */
function SparseViews({ store }: { store: QkStore }) {
  return (
    <QkProvider store={store}>
      <div style={{ display: 'grid', gridTemplateColumns: 'minmax(0, 1fr) 360px', gap: 12, padding: 12 }}>
        <Heatmap maxSize={480} />
        <HeadGrid />
      </div>
      <div style={{ padding: '0 12px 12px' }}>
        <SparsePanel />
      </div>
    </QkProvider>
  );
}

const sparse = (opts: SparseStoryOptions, story: string) => ({ sparse: opts, docs: { description: { story } } });

const meta = {
  title: 'Views/SparsePanel',
  component: SparsePanel,
  parameters: {
    layout: 'fullscreen',
    docs: { description: { component: 'Sparse attention on the seeded synthetic source: the block grid over the map (outlines coloured by why each block was chosen; the active query\'s blocks filled), the sparse, dense and difference maps, and the panel with density, mass kept, output error, FLOPs and the sweep of every method. Each story runs the method (runSparse) in a loader; nothing is hand-made.' } },
  },
  loaders: [async (ctx) => ({ store: await makeSparseStore(ctx.parameters.sparse as SparseStoryOptions) })],
  render: (_args, { loaded }) => <SparseViews store={loaded.store as QkStore} />,
} satisfies Meta<typeof SparsePanel>;

export default meta;
type Story = StoryObj<typeof meta>;

export const MobaLockedQuery: Story = {
  parameters: sparse({ pattern: 'mixed', heads: 8, kvHeads: 4, method: { id: 'moba', params: { block: 4, topk: 2 } }, locked: { q: 20, k: 5 }, view: { head: 5 } }, 'MoBA with blocks of 4 and top-2: each query keeps its own block (forced) and the one earlier block whose mean key scores highest; the locked query\'s gate scores are in the panel.'),
};

export const FlexPrefillQueryAware: Story = {
  parameters: sparse({ pattern: 'mixed', heads: 4, kvHeads: 2, method: { id: 'flexprefill', params: { block: 4, divisor: 'b' } }, view: { head: 3 } }, 'FlexPrefill with the intent budget divisor: per head a query-aware or vertical-slash pattern, forced first column and main diagonal, with the last block\'s vertical and slash curves.'),
};

export const SlidingWindow: Story = {
  parameters: sparse({ pattern: 'local', heads: 4, kvHeads: 4, method: { id: 'window', params: { window: 6, sinks: 2, block: 4 } }, locked: { q: 25, k: null }, view: { head: 1 } }, 'Sliding window of 6 with 2 sink tokens (StreamingLLM): local blocks in green, sink-only blocks in blue; the token rule cuts them exactly.'),
};

export const SparseDBidirectional: Story = {
  parameters: sparse({ pattern: 'block', heads: 4, kvHeads: 4, causal: false, method: { id: 'sparsed', params: {} } }, 'SparseD on a bidirectional source: the top tiles of every query block, with the 16 generated tokens selected separately (the dashed divider), and the schedule of dense and sparse denoising steps.'),
};

export const ThinKChannels: Story = {
  parameters: sparse({ pattern: 'random', heads: 4, kvHeads: 2, headDim: 16, method: { id: 'think', params: { lambda: 0.5 } } }, 'ThinK prunes half of the key channels of every head (crossed out) for all but the most recent keys: every token stays, the maps and the output error show the change.'),
};
