import type { Meta, StoryObj } from '@storybook/react-vite';
import { AttentionFigure } from '../src/app/figure/AttentionFigure';

/** The example files the app ships (public/examples, served by Storybook as by the app). */
async function example(name: string): Promise<Uint8Array> {
  const r = await fetch(`examples/${name}`);
  if (!r.ok) throw new Error(`examples/${name}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

const meta = {
  title: 'Library/AttentionFigure',
  component: AttentionFigure,
  parameters: {
    docs: {
      description: {
        component:
          'The figure component of the library build (npm run build:lib → dist-lib/qkscope-react.js; the custom element <qk-scope-figure> wraps it). Data in any format the importers read; each figure owns its store, so the figures below keep separate hover and lock. Attention of a Q/K/V dump is computed in plain JavaScript: no tfjs, no worker.',
      },
    },
  },
  loaders: [async () => ({ qkv: await example('qkv-gqa-rope.safetensors'), encdec: await example('encoder-decoder.json') })],
} satisfies Meta<typeof AttentionFigure>;

export default meta;
type Story = StoryObj<typeof meta>;

export const TwoHeadsSideBySide: Story = {
  render: (_args, { loaded }) => (
    <div style={{ display: 'flex', gap: 24 }}>
      <div style={{ width: 420 }}>
        <AttentionFigure data={loaded.qkv as Uint8Array} filename="qkv-gqa-rope.safetensors" head={0} lock={{ q: 6, k: 2 }} />
      </div>
      <div style={{ width: 420 }}>
        <AttentionFigure data={loaded.qkv as Uint8Array} filename="qkv-gqa-rope.safetensors" head={3} colormap="magma" />
      </div>
    </div>
  ),
};

export const HeadGridOfALayer: Story = {
  render: (_args, { loaded }) => (
    <div style={{ width: 560 }}>
      <AttentionFigure data={loaded.qkv as Uint8Array} filename="qkv-gqa-rope.safetensors" view="grid" />
    </div>
  ),
};

export const CrossAttentionFromBertViz: Story = {
  render: (_args, { loaded }) => (
    <div style={{ width: 480 }}>
      <AttentionFigure data={new TextDecoder().decode(loaded.encdec as Uint8Array)} filename="encoder-decoder.json" layer={2} />
    </div>
  ),
};
