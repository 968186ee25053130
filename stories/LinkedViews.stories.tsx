import type { Meta, StoryObj } from '@storybook/react-vite';
import { LinkedViews as Views } from '../src/app/LinkedViews';
import { qk, withQkStore } from './StoryStore';

/** The views of the app page under one provider, without the controls or the compute controller. */
function LinkedViews() {
  return <Views style={{ padding: 12 }} />;
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
