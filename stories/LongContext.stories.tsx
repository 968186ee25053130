import { useEffect, useState } from 'react';
import type { Meta, StoryObj } from '@storybook/react-vite';
import { createLongStore, LONG_DEFAULT_SOURCE, type LongStore } from '../src/state/longStore';
import { startLongController, type LongController } from '../src/app/long/longController';
import { LongPage } from '../src/app/long/LongPage';
import type { Pattern } from '../src/core/synthetic';

interface LongStory {
  N: number;
  pattern: Pattern;
  head: number;
  method: 'dense' | 'window' | 'sinks';
}

/** The long-context page on its own store and workers (stopped when the story unmounts). */
function LongView({ N, pattern, head, method }: LongStory) {
  const [pair, setPair] = useState<{ store: LongStore; controller: LongController } | null>(null);
  useEffect(() => {
    const base = LONG_DEFAULT_SOURCE as Extract<typeof LONG_DEFAULT_SOURCE, { kind: 'synthetic' }>;
    const store = createLongStore({ source: { ...base, N, pattern }, head, method: { kind: method, window: 128, sinks: 4 } });
    const controller = startLongController(store);
    setPair({ store, controller });
    return () => controller.dispose();
  }, [N, pattern, head, method]);
  return pair ? <LongPage store={pair.store} controller={pair.controller} /> : null;
}

const meta = {
  title: 'Pages/Long context',
  component: LongView,
  parameters: {
    layout: 'fullscreen',
    docs: {
      description: {
        component:
          'The long-context page (issue 9): the memory plan, the grid of every head and the zoomable heatmap, computed in tiles by the WebAssembly SIMD kernel in Web Workers (never a whole [H, N, N]). Zoom in with the wheel: at 1024 cells a side or fewer the exact weights of the window replace the pooled map. The stories use fewer tokens than the page\'s default of 8192 so that they open quickly.',
      },
    },
  },
} satisfies Meta<typeof LongView>;
export default meta;
type Story = StoryObj<typeof meta>;

export const Dense: Story = {
  args: { N: 2048, pattern: 'mixed', head: 2, method: 'dense' },
  parameters: { docs: { description: { story: 'Eight heads over 2048 tokens of the built-in long text, one synthetic pattern per head; head 2 is the attention sink.' } } },
};

export const SlidingWindowWithSinks: Story = {
  args: { N: 1024, pattern: 'induction', head: 0, method: 'sinks' },
  parameters: { docs: { description: { story: 'StreamingLLM\'s mask: each query sees its last 128 keys and the first 4 (the sinks). Masked cells are grey.' } } },
};
