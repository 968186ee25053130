import type { Meta, StoryObj } from '@storybook/react-vite';
import { HeadGrid } from '../src/views/headGrid/HeadGrid';
import { qk, withQkStore } from './StoryStore';

const meta = {
  title: 'Views/HeadGrid',
  component: HeadGrid,
  decorators: [withQkStore],
  parameters: {
    docs: { description: { component: 'All heads as small multiples on one canvas, each tile naming its KV head; click a tile to select the head.' } },
  },
} satisfies Meta<typeof HeadGrid>;

export default meta;
type Story = StoryObj<typeof meta>;

export const GroupedMixed: Story = {
  parameters: qk({ pattern: 'mixed', heads: 8, kvHeads: 4, view: { head: 2, gridScale: 'perHead' } }, 'Eight query heads sharing four KV heads (GQA), one synthetic pattern per head, each tile on its own colour scale.'),
};

export const MhaSharedScale: Story = {
  parameters: qk({ pattern: 'mixed', heads: 12, kvHeads: 12, seed: 3, view: { head: 0, gridScale: 'shared' } }, 'Twelve heads of multi-head attention (no KV sharing) on one shared colour scale, so sharp heads stand out against diffuse ones.'),
};

export const SingleHead: Story = {
  parameters: qk({ pattern: 'sink', heads: 1, kvHeads: 1, view: { head: 0 } }, 'A single attention-sink head: the grid degenerates to one tile.'),
};
