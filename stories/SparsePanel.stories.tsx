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

export const VmobaVideo2D: Story = {
  parameters: sparse({ video: { T: 4, Hp: 8, Wp: 8 }, heads: 4, kvHeads: 2, causal: false, method: { id: 'vmoba', params: { partition: '2d', scope: 'query_head' } }, locked: { q: 100, k: null }, view: { head: 0 } }, 'VMoBA on the synthetic video (4 frames of 8 × 8 patches) with the 2D partition: four spatial chunks across all frames, drawn on the token grid; the locked patch keeps its own chunk and the chunks its gate covers up to τ = 0.25 per query and head. In token order the mask is scattered (the heatmap).'),
};

export const DraftAttentionVideo: Story = {
  parameters: sparse({ video: { T: 4, Hp: 8, Wp: 8 }, heads: 4, kvHeads: 2, causal: false, method: { id: 'draft', params: { ph: 2, pw: 4 } }, locked: { q: 70, k: null }, view: { head: 1 } }, 'DraftAttention with cells of 2 × 4 patches: the draft map of pooled queries and keys, its kept cell pairs (σ = 0.9, one more than the top 10%), the block mask in the reordered order, and the same mask scattered over the token-order heatmap.'),
};

export const TokenSelectVotes: Story = {
  parameters: sparse({ pattern: 'mixed', heads: 8, kvHeads: 4, method: { id: 'tokenselect', params: { nLocal: 4, topk: 6 } }, locked: { q: 40, k: null }, view: { head: 2 } }, 'TokenSelect on the text: each head\'s softmax criticality over the middle tokens, the summed votes, and the six tokens they keep with the sink and the four recent tokens, shared by every head.'),
};
