import type { Meta, StoryObj } from '@storybook/react-vite';
import { TokenStrip } from '../src/views/tokenStrip/TokenStrip';
import { HOSTILE_TEXT } from './fixtures';
import { qk, withQkStore } from './StoryStore';

const meta = {
  title: 'Views/TokenStrip',
  component: TokenStrip,
  decorators: [withQkStore],
  parameters: {
    docs: { description: { component: 'The tokens in order; hovering one makes it the query everywhere, and an active query tints every token by its weight.' } },
  },
} satisfies Meta<typeof TokenStrip>;

export default meta;
type Story = StoryObj<typeof meta>;

export const Default: Story = {
  parameters: qk({}, 'The default sentence split by the teaching tokenizer, with no query selected.'),
};

export const LockedQuery: Story = {
  parameters: qk({ pattern: 'mixed', heads: 8, kvHeads: 4, locked: { q: 24, k: null }, view: { head: 5 } }, 'A locked query on an induction head: the query token is outlined and every token is tinted by the weight it receives.'),
};

export const HostileTokens: Story = {
  parameters: qk({ text: HOSTILE_TEXT, pattern: 'previous', heads: 2, kvHeads: 1, locked: { q: 6, k: 5 } }, 'Markup-like tokens (<script>, <img onerror>) are shown as plain text in the strip and its tooltips.'),
};
