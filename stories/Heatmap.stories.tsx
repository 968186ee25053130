import type { Meta, StoryObj } from '@storybook/react-vite';
import { Heatmap } from '../src/views/heatmap/Heatmap';
import { HOSTILE_TEXT, repeatToTokens } from './fixtures';
import { qk, withQkStore } from './StoryStore';

const meta = {
  title: 'Views/Heatmap',
  component: Heatmap,
  decorators: [withQkStore],
  parameters: {
    docs: { description: { component: 'The selected head’s attention map: canvas cells, token axes, zoom/pan, a crosshair overlay and a colour legend.' } },
  },
} satisfies Meta<typeof Heatmap>;

export default meta;
type Story = StoryObj<typeof meta>;

export const Default: Story = {
  parameters: qk({ pattern: 'mixed', heads: 8, kvHeads: 4, view: { head: 0, mode: 'weights' } }, 'Attention weights of a previous-token head (head 0 of the mixed pattern) on the default sentence, causal mask in grey.'),
};

export const Scores: Story = {
  parameters: qk({ pattern: 'induction', heads: 4, kvHeads: 2, view: { mode: 'scores' } }, 'Pre-softmax scores of an induction head on the diverging RdBu map centred on zero.'),
};

export const LogWeights: Story = {
  parameters: qk({ pattern: 'local', heads: 4, kvHeads: 4, view: { head: 2, mode: 'logWeights' } }, 'Log₁₀ weights of a local-window head (window of four), so small weights far from the diagonal stay visible.'),
};

export const LockedQuery: Story = {
  parameters: qk({ pattern: 'mixed', heads: 8, kvHeads: 4, locked: { q: 17, k: 15 }, view: { head: 5 } }, 'A locked query/key cell on an induction head: the overlay draws the query row band, the key column band and an orange outline.'),
};

export const LongSequence: Story = {
  // A 360 px map has fewer device pixels than the ~600 tokens on screens up to devicePixelRatio 1.6.
  // headDim 128 and temperature 0.5 keep the synthetic pattern above the crosstalk of 600 keys.
  args: { maxSize: 360 },
  parameters: qk(
    { text: repeatToTokens('The quick brown fox jumps over the lazy dog near the river bank.', 600), pattern: 'previous', heads: 2, kvHeads: 1, headDim: 128, temperature: 0.5, view: { head: 1 } },
    'About 600 tokens (a sentence repeated) on a 360 px map: more cells than canvas pixels, so the map is max-pooled (the previous-token diagonal stays visible) and the legend says so; axes fall back to index ticks.',
  ),
};

export const HostileTokens: Story = {
  parameters: qk({ text: HOSTILE_TEXT, pattern: 'self', heads: 2, kvHeads: 2, view: { head: 0 } }, 'Tokens from text containing <script> and <img onerror> markup are drawn as SVG text on the axes, never parsed as HTML.'),
};
