import { useEffect } from 'react';
import type { Meta, StoryObj } from '@storybook/react-vite';
import { QkProvider } from '../src/state/react';
import type { QkStore } from '../src/state/store';
import { GroupingPanel } from '../src/views/grouping/GroupingPanel';
import { Heatmap } from '../src/views/heatmap/Heatmap';
import { HeadGrid } from '../src/views/headGrid/HeadGrid';
import { followMethod, makeGroupingStore, type GroupingStoryOptions } from './groupingFixtures';

/** The grouped-heads view under the story's store; with `linked`, the heatmap and head grid beside it as on the page. */
function GroupedViews({ store, linked }: { store: QkStore; linked: boolean }) {
  useEffect(() => followMethod(store), [store]);
  return (
    <QkProvider store={store}>
      <main className="views">
        {linked ? (
          <div className="views-row">
            <Heatmap />
            <div className="side">
              <HeadGrid />
            </div>
          </div>
        ) : null}
        <GroupingPanel />
      </main>
    </QkProvider>
  );
}

/** Story parameters: the source and method the loader computes, whether to show the linked maps, and a description. */
function grouping(opts: GroupingStoryOptions, description: string, linked = false) {
  return { grouping: opts, linked, docs: { description: { story: description } } };
}

const meta = {
  title: 'Views/GroupingPanel',
  component: GroupingPanel,
  parameters: {
    layout: 'fullscreen',
    docs: {
      description: {
        component:
          'The grouped-heads view: which KV head each query head reads, the method\'s attention and output against the source\'s own (the reference), what it saves, and DGQA\'s timeline or PGQA\'s noise. Every story runs the method (runGrouping) on the seeded synthetic source with the plain-JS reference attention in a loader; nothing is hand-made.',
      },
    },
  },
  // runGrouping is async: compute the store (source result + method run) before rendering. Each
  // load builds a fresh store, so stories never share one.
  loaders: [async (ctx) => ({ store: await makeGroupingStore((ctx.parameters.grouping ?? {}) as GroupingStoryOptions) })],
  render: (_args, { loaded, parameters }) => <GroupedViews store={loaded.store as QkStore} linked={!!parameters.linked} />,
} satisfies Meta<typeof GroupingPanel>;

export default meta;
type Story = StoryObj<typeof meta>;

export const KdgqaMinMax: Story = {
  parameters: grouping(
    { pattern: 'mixed', heads: 8, kvHeads: 8, method: { id: 'kdgqa', params: { groups: 4, mode: 'minmax' } }, view: { head: 0, compare: 'method' } },
    'KDGQA as the official code does it: eight MHA heads mean-pooled to four KV heads, query heads allocated by the min-max-scaled key norms (the smallest-norm KV head gets none). The heatmap and head grid show the method\'s maps; switch to reference or difference above the heatmap.',
    true,
  ),
};

export const KdgqaProportional: Story = {
  name: 'KDGQA proportional (illustrative)',
  parameters: grouping(
    { pattern: 'mixed', heads: 8, kvHeads: 8, method: { id: 'kdgqa', params: { groups: 4, mode: 'proportional' } } },
    'Illustrative, not faithful: the same source with query heads allocated in proportion to the raw key norms (the paper\'s intent, not what the code does), so every KV head keeps some query heads.',
  ),
};

export const KdgqaTwoGroups: Story = {
  name: 'KDGQA G = 2 (all-or-nothing)',
  parameters: grouping(
    { pattern: 'mixed', heads: 8, kvHeads: 8, method: { id: 'kdgqa', params: { groups: 2, mode: 'minmax' } } },
    'KDGQA with two groups: min-max scaling maps the two norms to 0 and 1, so one KV head takes all eight query heads and the other none.',
  ),
};

export const DgqaDiffSixSteps: Story = {
  name: 'DGQA diff over 6 steps',
  parameters: grouping(
    { pattern: 'mixed', heads: 8, kvHeads: 8, seed: 7, method: { id: 'dgqa', params: { groups: 4, variant: 'diff' } } },
    'DGQA (diff weights |cache − m|) stepped through six inputs, the source drawn with seeds 7…12; the timeline shows the allocation after each step and where the seeded random fix-up fired. Click a step to show it.',
  ),
};

export const PgqaSeed1: Story = {
  name: 'PGQA (seed 1)',
  parameters: grouping(
    { pattern: 'mixed', heads: 8, kvHeads: 8, method: { id: 'pgqa', params: { groups: 4, seed: 1 } } },
    'PGQA: static GQA with four KV heads whose head outputs get seeded noise (seed 1) subtracted; the maps equal GQA\'s, the panel shows each head\'s output mean and std before and after.',
  ),
};

export const QkNorm: Story = {
  name: 'QK-norm (temperature 3)',
  parameters: grouping(
    { pattern: 'mixed', heads: 8, kvHeads: 8, temperature: 3, method: { id: 'qknorm', params: {} }, view: { head: 0, compare: 'diff' } },
    'QK-norm (§12.2): every query and key LayerNorm-ed per head; the histograms show the scaled logits of the causal pairs before and after, bounded by √d, and the maps show the difference it makes.',
  ),
};

export const SqaXsmqa16Heads: Story = {
  name: 'SQA xSMQA (16 heads)',
  parameters: grouping(
    { pattern: 'mixed', heads: 16, kvHeads: 16, method: { id: 'sqa', params: { variant: 'xsmqa' } } },
    'Sparse Query Attention, extreme variant with one KV head: sixteen nominal heads, four active query heads (each the mean of four source query heads) sharing a single KV head; the inactive slots are greyed out.',
  ),
};

export const Difference: Story = {
  name: 'Difference view (GQA G = 2)',
  parameters: grouping(
    { pattern: 'mixed', heads: 8, kvHeads: 8, method: { id: 'gqa', params: { groups: 2 } }, view: { head: 1, compare: 'diff' } },
    'The heatmap and head grid in difference mode: GQA\'s weights minus the source\'s for each head, after mean-pooling eight MHA heads into two KV heads.',
    true,
  ),
};

export const MhaDefault: Story = {
  name: 'MHA default (the source)',
  parameters: grouping(
    { pattern: 'mixed', heads: 8, kvHeads: 4 },
    'No method: the view shows the source\'s own grouping, eight query heads over four KV heads, and invites picking a method.',
  ),
};
