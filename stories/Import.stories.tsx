import { useState } from 'react';
import type { Meta, StoryObj } from '@storybook/react-vite';
import { QkProvider } from '../src/state/react';
import { SourcePanel } from '../src/app/SourcePanel';
import { LayoutDialog } from '../src/app/LayoutDialog';
import { LinkedViews } from '../src/app/LinkedViews';
import { createQkStore, type QkStore } from '../src/state/store';
import { confirmStore, importedStore } from './importFixtures';

/** The source panel beside the linked views, on a store built for the story. */
function Importing({ make, views = true }: { make: () => QkStore; views?: boolean }) {
  const [store] = useState(make);
  return (
    <QkProvider store={store}>
      <LayoutDialog />
      <div style={{ display: 'grid', gridTemplateColumns: views ? '300px 1fr' : '300px', gap: 12, padding: 12 }}>
        <aside className="controls">
          <SourcePanel />
        </aside>
        {views ? <LinkedViews /> : null}
      </div>
    </QkProvider>
  );
}

const meta = {
  title: 'Import/Bring your own tensors',
  component: Importing,
  parameters: {
    layout: 'fullscreen',
    docs: { description: { component: 'Opening attention or Q/K/V from a file: the source panel (pick, drop, examples, progress, errors, layer picker, export) with the views it feeds.' } },
  },
} satisfies Meta<typeof Importing>;

export default meta;
type Story = StoryObj<typeof meta>;

export const CrossAttention: Story = {
  args: { make: () => importedStore(4) },
  parameters: { docs: { description: { story: 'An encoder-decoder file (BertViz form) at its first cross-attention layer: decoder queries × encoder keys, each with its own token strip; markup in tokens stays text.' } } },
};

export const DecoderSelfAttention: Story = {
  args: { make: () => importedStore(2) },
  parameters: { docs: { description: { story: 'The same file’s decoder self-attention: detected as causal from the zeros above the diagonal.' } } },
};

export const ConfirmLayout: Story = {
  args: { make: confirmStore },
  parameters: { docs: { description: { story: 'A [3, 6, 5, 5] array could be layers × heads, heads × layers or a batch: the dialog shows the guess and its reasons, and every other reading.' } } },
};

export const Reading: Story = {
  args: {
    views: false,
    make: () => {
      const s = createQkStore();
      s.getState().setImportState({ reading: { name: 'attentions-12x12x512.npy', progress: 0.42, bytes: 63_500_000 } });
      return s;
    },
  },
  parameters: { docs: { description: { story: 'A file over 50 MB is read in pieces with a progress bar.' } } },
};

export const Refused: Story = {
  args: {
    views: false,
    make: () => {
      const s = createQkStore();
      s.getState().setImportState({ error: 'model.safetensors, tensor "layers.3.k": shape [8, 512, 64] of F32 needs 1048576 bytes but data_offsets cover 1048572' });
      return s;
    },
  },
  parameters: { docs: { description: { story: 'A file that cannot be opened: the message names the tensor, the problem and what was expected; the previous view stays.' } } },
};
