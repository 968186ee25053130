import type { Meta, StoryObj } from '@storybook/react-vite';
import { QkProvider } from '../src/state/react';
import type { QkStore } from '../src/state/store';
import { LayerGrid } from '../src/views/layerGrid/LayerGrid';
import { syntheticQKV, type Pattern } from '../src/core/synthetic';
import { referenceAttention } from '../src/core/referenceAttention';
import { maxPoolMaps } from '../src/core/pool';
import { tokenize } from '../src/core/tokenize';
import { makeStore } from './fixtures';
import { DEFAULT_TEXT } from '../src/state/defaults';

/**
 * A store whose layer grid holds one seeded synthetic "layer" per pattern (the views never see
 * a difference between these and a model's layers), max-pooled as the controller does.
 */
export function makeLayerGridStore(patterns: Pattern[], pooled: number | null = null): QkStore {
  const store = makeStore({ heads: 4, kvHeads: 2 });
  const tokens = tokenize(DEFAULT_TEXT).map((t) => t.text);
  const N = tokens.length;
  const P = Math.min(N, pooled ?? 32);
  const maps = patterns.map((pattern, l) => {
    const x = syntheticQKV({ tokens, pattern, heads: 4, kvHeads: 2, headDim: 16, temperature: 1, seed: 10 + l });
    return maxPoolMaps(referenceAttention(x, { causal: true }).weights, 4, N, P);
  });
  store.getState().setDerived({ layerGrid: { key: 'story', L: patterns.length, H: 4, P, N, maps } });
  return store;
}

const meta = {
  title: 'Views/LayerGrid',
  // The store builders above are exported for the unit tests; they are not stories.
  excludeStories: /^[a-z]/,
  component: LayerGrid,
  parameters: { docs: { description: { component: 'Every layer × head of a multi-layer source at once (a checkpoint or a Q/K/V dump), each map max-pooled to at most 32 × 32 and scaled to its own peak; clicking a map shows that layer and head. Here each "layer" is the seeded synthetic source with one pattern.' } } },
  loaders: [async (ctx) => ({ store: makeLayerGridStore(ctx.parameters.patterns as Pattern[], (ctx.parameters.pooled as number | undefined) ?? null) })],
  render: (_args, { loaded }) => (
    <QkProvider store={loaded.store as QkStore}>
      <LayerGrid />
    </QkProvider>
  ),
} satisfies Meta<typeof LayerGrid>;

export default meta;
type Story = StoryObj<typeof meta>;

export const FourLayers: Story = {
  parameters: { patterns: ['previous', 'local', 'induction', 'sink'] },
};

export const PooledMaps: Story = {
  parameters: { patterns: ['self', 'block', 'random'], pooled: 8, docs: { description: { story: 'Maps max-pooled to 8 × 8: a diagonal or a block stays visible because each cell keeps its peak.' } } },
};
