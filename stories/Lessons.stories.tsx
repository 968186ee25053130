import type { Meta, StoryObj } from '@storybook/react-vite';
import { QkProvider } from '../src/state/react';
import { createQkStore, type QkStore } from '../src/state/store';
import { DEFAULT_INPUTS } from '../src/state/defaults';
import { ComputeClient } from '../src/compute/client';
import { startController } from '../src/app/controller';
import { setModelClient } from '../src/app/modelLoader';
import { LessonPlayer } from '../src/app/LessonPlayer';
import { LinkedViews } from '../src/app/LinkedViews';
import { applyStep, lessonById, LESSONS } from '../src/app/lessons';

/**
 * A store wired to a main-thread compute client (stories have no worker) and put in the first
 * state of a lesson, as the app does when the lesson starts; models load on the CPU backend.
 */
async function lessonStore(id: string): Promise<QkStore> {
  const client = new ComputeClient({ worker: false });
  const store = createQkStore({ compute: { ...DEFAULT_INPUTS.compute, backend: 'cpu' } });
  startController(store, client, { syncUrl: false, probe: false });
  setModelClient(client);
  await applyStep(store, lessonById(id)!.steps[0], 'cpu');
  return store;
}

const meta = {
  title: 'Lessons',
  component: LessonPlayer,
  parameters: {
    layout: 'fullscreen',
    docs: { description: { component: 'The guided tours of the app (src/app/lessons.ts): each step is a state of the app (a link) with a caption; back and next (or PageUp / PageDown) step through them. Each story starts a lesson at its first step on a store of its own.' } },
  },
  args: { store: null as unknown as QkStore, id: LESSONS[0].id, onClose: () => undefined },
  loaders: [async (ctx) => ({ store: await lessonStore(ctx.parameters.lesson as string) })],
  render: (_args, { loaded, parameters }) => (
    <QkProvider store={loaded.store as QkStore}>
      <LessonPlayer store={loaded.store as QkStore} id={parameters.lesson as string} onClose={() => undefined} backend="cpu" />
      <LinkedViews />
    </QkProvider>
  ),
} satisfies Meta<typeof LessonPlayer>;

export default meta;
type Story = StoryObj<typeof meta>;

const lesson = (id: string): Story => ({ parameters: { lesson: id, docs: { description: { story: lessonById(id)!.title } } } });

export const WhatAHeadAttendsTo = lesson('heads');
export const CausalMasks = lesson('causal');
export const GroupedQueryAttention = lesson('gqa');
export const MobaAndSparseMasks = lesson('sparse');
export const Rope = lesson('rope');
export const SelectAndCopyHeads = lesson('select-copy');
