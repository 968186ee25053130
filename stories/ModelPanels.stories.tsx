import type { Meta, StoryObj } from '@storybook/react-vite';
import { QkProvider } from '../src/state/react';
import type { QkStore } from '../src/state/store';
import { Heatmap } from '../src/views/heatmap/Heatmap';
import { QkScorePanel, EXAMPLE_QUESTION } from '../src/app/QkScorePanel';
import { MergeLockPanel } from '../src/app/MergeLockPanel';
import { formatPrompt } from '../src/methods/positional/qkscore';
import { builtinModelStore } from './modelStoryStore';

interface ModelStory {
  model: string;
  text: string;
  layer?: number;
  head?: number;
  panel: 'qkscore' | 'mergelock';
}

/** The panel beside the heatmap of the head it shows, on one store holding the model's run. */
function ModelPanelView({ store, panel }: { store: QkStore; panel: ModelStory['panel'] }) {
  return (
    <QkProvider store={store}>
      <div style={{ display: 'grid', gridTemplateColumns: 'minmax(0, 1fr) minmax(0, 1fr)', gap: 12, padding: 12 }}>
        <Heatmap maxSize={440} />
        {panel === 'qkscore' ? <QkScorePanel /> : <MergeLockPanel />}
      </div>
    </QkProvider>
  );
}

const modelStory = (opts: ModelStory, story: string) => ({ model: opts, docs: { description: { story } } });

const meta = {
  title: 'Views/Model panels',
  component: QkScorePanel,
  parameters: {
    layout: 'fullscreen',
    docs: {
      description: {
        component:
          'Panels that read a real checkpoint (issue 7): the QK-score readout of select-and-copy heads (ALGORITHMS.md §11) and the MergeLock check (§12.6). The loader opens a built-in model from public/models on the CPU backend and runs the text through it, as the app does; nothing is hand-made. Buttons that run the model again work here too (a main-thread compute client).',
      },
    },
  },
  loaders: [async (ctx) => ({ store: await builtinModelStore((ctx.parameters.model as ModelStory).model, (ctx.parameters.model as ModelStory).text, ctx.parameters.model as ModelStory) })],
  render: (_args, { loaded, parameters }) => <ModelPanelView store={loaded.store as QkStore} panel={(parameters.model as ModelStory).panel} />,
} satisfies Meta<typeof QkScorePanel>;

export default meta;
type Story = StoryObj<typeof meta>;

export const QkScoreReadout: Story = {
  parameters: modelStory({ model: 'sotu-llama', text: formatPrompt(EXAMPLE_QUESTION), layer: 2, head: 2, panel: 'qkscore' }, 'The State of the Union model reads a multiple-choice question in the Sec. 11 layout: per head the QK-score and Attention Score of the four option line ends, the layer × head map of picks and the model\'s own letter. A language model this small has no select-and-copy heads; click a head to see its map with the option line ends marked.'),
};

export const MergeLockCheck: Story = {
  parameters: modelStory({ model: 'sotu-llama', text: 'When Mary and John went to the store, John gave a drink to Mary.', layer: 1, head: 0, panel: 'mergelock' }, 'MergeLock on the State of the Union model: press the button to lock every layer with seeded keys; the weights move while the attention and the logits stay within 1e-4. Pick a general A to see RoPE break it.'),
};
