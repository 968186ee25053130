import type { Meta, StoryObj } from '@storybook/react-vite';
import { StatsTable } from '../src/views/statsTable/StatsTable';
import { qk, withQkStore } from './StoryStore';

const meta = {
  title: 'Views/StatsTable',
  component: StatsTable,
  decorators: [withQkStore],
  parameters: {
    docs: { description: { component: 'Per-head entropy, mean attention distance and sink mass, sortable, with inline bars.' } },
  },
} satisfies Meta<typeof StatsTable>;

export default meta;
type Story = StoryObj<typeof meta>;

export const MixedHeads: Story = {
  parameters: qk({ pattern: 'mixed', heads: 8, kvHeads: 4, view: { head: 3 } }, 'Eight heads of the mixed pattern: the sink head has sink mass near 1, the self head near-zero distance, the random head the highest entropy.'),
};
