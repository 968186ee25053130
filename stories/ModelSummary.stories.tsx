import type { Meta, StoryObj } from '@storybook/react-vite';
import { QkProvider } from '../src/state/react';
import type { QkStore } from '../src/state/store';
import { ModelSummary } from '../src/views/model/ModelSummary';
import type { ModelSummary as Summary, NamedHead } from '../src/core/modelSpec';
import { parameterCount, parseConfig } from '../src/models/config';
import sotuConfig from '../public/models/sotu-llama/config.json';
import sotuHeads from '../public/models/sotu-llama/heads.json';
import sotuTimeline from '../public/models/sotu-llama/timeline.json';
import { makeStore } from './fixtures';

/**
 * The summary of the built-in State of the Union model at checkpoint `step` of its timeline:
 * its real config, named heads and their scores at that step (heads.json, timeline.json). The
 * next-token list is a layout sample, not a model output (the app computes it from the logits).
 */
export function sotuSummary(step: number): Summary {
  const config = parseConfig(sotuConfig);
  const at = sotuTimeline[step];
  const named = (kind: NamedHead['kind'], list: number[][], scores: number[][]): NamedHead[] => list.map(([layer, head]) => ({ kind, layer, head, score: scores[layer][head] }));
  return {
    name: 'State of the Union (Llama-style, 3 layers)',
    config,
    parameters: parameterCount(config),
    dtypes: ['F16'],
    diskBytes: 2 * parameterCount(config),
    loadedBytes: 4 * parameterCount(config),
    tokenizerVocab: config.vocab,
    unused: [],
    backend: 'wasm',
    ms: 0,
    tokens: 0,
    next: [
      { token: ' the', p: 0.3 },
      { token: '<script>', p: 0.1 },
    ],
    builtin: {
      id: 'sotu-llama',
      step,
      steps: sotuTimeline.length,
      trainingStep: at.step,
      lastStep: sotuTimeline[sotuTimeline.length - 1].step,
      loss: at.val_loss,
      heads: [...named('previous-token', sotuHeads.previous_token, at.prev_token_score), ...named('induction', sotuHeads.induction, at.induction_score)],
    },
  };
}

/** A store showing a one-layer stand-in source with the summary attached, as the app holds a checkpoint's run. */
export function makeModelSummaryStore(step: number): QkStore {
  const store = makeStore({ heads: 6, kvHeads: 2 });
  const st = store.getState();
  // One layer of six heads attending to themselves: the panel reads only the summary.
  const H = 6;
  const weights = { shape: [H, 2, 2], data: new Float32Array(Array.from({ length: H }, () => [1, 0, 0, 1]).flat()) };
  const layer = { label: 'layer 0', weights, queryTokens: ['a', 'b'], keyTokens: ['a', 'b'], causal: true, scale: null };
  st.setImported({ name: 'sotu', format: 'built-in llama model', kind: 'attention', layers: [layer], notes: [], bytes: 0, checkpoint: { model: null, text: '', ids: [], summary: sotuSummary(step), lastLogits: null } });
  return store;
}

const meta = {
  title: 'Views/ModelSummary',
  // The store builders above are exported for the unit tests; they are not stories.
  excludeStories: /^[a-z]/,
  component: ModelSummary,
  parameters: { docs: { description: { component: "A loaded model at a glance: architecture, memory, the last run, the likeliest next tokens and, for a built-in model, its training step and the heads its card names with their scores at that step (click one to show it). Here the built-in State of the Union model's real config, heads.json and timeline.json; the next-token rows are layout samples (one escapes hostile text)." } } },
  loaders: [async (ctx) => ({ store: makeModelSummaryStore((ctx.parameters.step as number | undefined) ?? 5) })],
  render: (_args, { loaded }) => (
    <QkProvider store={loaded.store as QkStore}>
      <div style={{ maxWidth: 420 }}>
        <ModelSummary />
      </div>
    </QkProvider>
  ),
} satisfies Meta<typeof ModelSummary>;

export default meta;
type Story = StoryObj<typeof meta>;

export const FinalCheckpoint: Story = { parameters: { step: 5 } };
export const FirstCheckpoint: Story = { parameters: { step: 0, docs: { description: { story: 'The untrained model: the same heads, scored at step 0, before they formed.' } } } };
