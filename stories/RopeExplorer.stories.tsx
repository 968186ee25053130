import type { Meta, StoryObj } from '@storybook/react-vite';
import { QkProvider } from '../src/state/react';
import { RopeExplorer } from '../src/views/positional/RopeExplorer';
import { makeStore } from './fixtures';

const meta = {
  title: 'Views/RopeExplorer',
  component: RopeExplorer,
  parameters: {
    docs: {
      description: {
        component:
          'Rotary position embedding (ALGORITHMS.md §12.1): each frequency pair of a query as a dial turning with its position, and the score of a fixed query and key against their distance with RoPE at θ = 100, 10,000 and 500,000 and without it, in the half-split (Llama) or interleaved (GPT-J) layout. In the app, a locked cell of a model or a Q/K/V dump with pre-RoPE copies supplies the vectors; here they are seeded.',
      },
    },
  },
  render: () => (
    <QkProvider store={makeStore({})}>
      <RopeExplorer />
    </QkProvider>
  ),
} satisfies Meta<typeof RopeExplorer>;

export default meta;
type Story = StoryObj<typeof meta>;

export const SeededVectors: Story = {};
