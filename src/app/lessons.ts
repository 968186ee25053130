import { decodeState } from '../state/urlCodec';
import type { QkStore } from '../state/store';
import { getMethod } from '../methods/registry';
import { getSparseMethod } from '../methods/sparse/registry';
import { openBuiltin } from './modelLoader';
import type { BackendName } from '../core/backendNames';

/** A panel a lesson step opens (the rest are closed while the lesson runs). */
export type LessonPanel = 'steps' | 'rope' | 'qkscore' | 'mergelock';

/** One state of a lesson: a link (the app's own link format) and what the lecturer says about it. */
export interface LessonStep {
  /** The state, as a short link's query string. */
  link: string;
  caption: string;
  /** Appends the summary of this method from the registry (the method's own words). */
  method?: string;
  open?: LessonPanel[];
}

export interface Lesson {
  id: string;
  title: string;
  steps: LessonStep[];
}

/**
 * The guided tours (issue 8). Each step is a link, so every state of a lesson is also a
 * permalink; the captions say what to look at. The claims about particular cells are checked
 * by tests/browser/lessons.test.ts.
 */
export const LESSONS: Lesson[] = [
  {
    id: 'heads',
    title: 'What a head attends to',
    steps: [
      { link: 'v=1&head=0', caption: 'Each row is a query token and each column a key token; a cell\'s colour is how much that query attends to that key, and each row sums to 1. This head looks at the token just before: a stripe under the diagonal.' },
      { link: 'v=1&head=1', caption: 'Another head of the same layer attends to each token itself: the main diagonal. Heads of one layer read the same text in different ways.' },
      { link: 'v=1&head=2', caption: 'This head parks its attention on the first token, an "attention sink", as real language models do with attention they do not need.' },
      { link: 'v=1&head=5&lock=25', caption: 'An induction head: at the last "John" (the locked row) it attends to the tokens that followed earlier "John"s, so it can predict what comes next by copying.' },
      { link: 'model=sotu-llama&mstep=-1&layer=2&head=2', caption: 'A real model: the State of the Union model (trained here) has learned a previous-token head in layer 2 on its own. Its model card names it; [ and ] show the other heads.' },
    ],
  },
  {
    id: 'causal',
    title: 'Causal masks',
    steps: [
      { link: 'v=1&head=3', caption: 'In a decoder (GPT, Llama) a token may only look at itself and earlier tokens: the upper triangle is masked (grey) and gets no weight.' },
      { link: 'v=1&head=3&causal=0', caption: 'Without the mask, as in an encoder (BERT), every token sees every token and the whole square fills in; the same queries and keys now spread their weight over later tokens too.' },
      { link: 'v=1&head=3&lock=5', caption: 'How the mask works: the hidden scores are set to −∞ before the softmax, so exp(−∞) = 0. Step through the computation below with its → button to the mask and the softmax.', open: ['steps'] },
    ],
  },
  {
    id: 'gqa',
    title: 'Grouped-query attention and its key-driven variants',
    steps: [
      { link: 'v=1&h=8&kv=8&head=4', caption: 'Multi-head attention: 8 query heads, each with its own key and value head, so the KV cache holds 8 heads per token.' },
      { link: 'v=1&h=8&kv=2&head=4', caption: 'Grouped-query attention: the 8 query heads share 2 KV heads, 4 per group. The cache is 4 times smaller; heads of a group see the same keys.' },
      { link: 'v=1&h=8&kv=8&method=gqa&mp.groups=2', caption: 'Converting a trained MHA model into GQA:', method: 'gqa' },
      { link: 'v=1&h=8&kv=8&method=kdgqa', caption: 'Key-driven GQA decides the groups from the keys themselves:', method: 'kdgqa' },
    ],
  },
  {
    id: 'sparse',
    title: 'MoBA and sparse masks',
    steps: [
      { link: 'v=1&pattern=block&head=1', caption: 'Long contexts make the N × N map expensive. This source attends within blocks of four tokens, the structure sparse methods exploit.' },
      { link: 'v=1&pattern=block&head=1&method=moba&mp.block=4&mp.topk=2', caption: 'MoBA computes only the outlined blocks:', method: 'moba' },
      { link: 'v=1&pattern=block&head=1&method=moba&mp.block=4&mp.topk=2&lock=22', caption: 'For the locked query the filled blocks are the ones its gate chose; everything else is skipped. The panel below shows how much attention mass the skipped blocks held.' },
      { link: 'v=1&pattern=local&head=1&method=window&mp.window=6&mp.sinks=2&mp.block=4', caption: 'A sliding window with sink tokens (StreamingLLM) is the simplest sparse mask:', method: 'window' },
    ],
  },
  {
    id: 'rope',
    title: 'RoPE: positions as rotations',
    steps: [
      { link: 'model=sotu-llama&mstep=-1&layer=1&head=0', caption: 'Rotary position embedding turns each pair of query and key dimensions by an angle proportional to the token\'s position; the explorer below shows the pairs turning.', open: ['rope'] },
      { link: 'model=sotu-llama&mstep=-1&layer=1&head=0&lock=20,19', caption: 'With a locked cell the explorer uses that query and key: the score of the pair depends on their distance only, the curve on the right.', open: ['rope'] },
      { link: 'model=sotu-llama&mstep=-1&layer=1&head=0&pos=pre', caption: 'The same head with RoPE switched off on its captured queries and keys: without positions the stripes that depend on distance fade.' },
    ],
  },
  {
    id: 'select-copy',
    title: 'Select-and-copy heads',
    steps: [
      { link: 'model=mcqa-tiny&mstep=-1&layer=2&head=3', caption: 'A small model trained here on multiple-choice questions. At the last token ":" its head L2H3 attends to the line end of the right option (B), and the model copies that option\'s letter.', open: ['qkscore'] },
      { link: 'model=mcqa-tiny&mstep=0&layer=2&head=3', caption: 'The same head before training (step 0): its attention is spread out and its QK-score picks the right option about one time in four, as chance would.', open: ['qkscore'] },
      { link: 'model=mcqa-tiny&mstep=4&layer=2&head=3', caption: 'At training step 3,250 the model already answers 94 % right, and the head is forming: its QK-score picks the right option half the time.', open: ['qkscore'] },
      { link: 'model=mcqa-tiny&mstep=-1&layer=2&head=3', caption: 'Fully trained: 97 % by QK-score on 500 new questions. Score every head on the built-in question set in the panel to see that it is the only one.', open: ['qkscore'] },
    ],
  },
];

export function lessonById(id: string): Lesson | undefined {
  return LESSONS.find((l) => l.id === id);
}

/** The caption of a step, with the method's own summary when the step names a method. */
export function stepCaption(s: LessonStep): string {
  if (!s.method) return s.caption;
  const m = getMethod(s.method) ?? getSparseMethod(s.method);
  return m ? `${s.caption} ${m.summary}` : s.caption;
}

const PANELS: LessonPanel[] = ['steps', 'rope', 'qkscore', 'mergelock'];

/**
 * Puts the store in a step's state: a built-in model is opened when the step names another
 * model or training step; otherwise the link's inputs replace the current ones. Panels the step
 * names are opened, the others closed. `backend` loads a model there (stories use CPU).
 */
export async function applyStep(store: QkStore, step: LessonStep, backend?: BackendName): Promise<void> {
  const d = decodeState(step.link);
  const st = store.getState();
  const m = d.inputs.source.model;
  if (m) {
    const loaded = st.imported?.checkpoint?.model as { builtin?: { id: string; step: number; timeline: unknown[] } } | undefined;
    const want = m.step < 0 && loaded?.builtin ? loaded.builtin.timeline.length - 1 : m.step;
    if (st.source.kind !== 'imported' || !loaded?.builtin || loaded.builtin.id !== m.id || loaded.builtin.step !== want) await openBuiltin(store, m.id, m.step, undefined, backend);
    const now = store.getState();
    now.setMethod(d.inputs.method.id);
    now.setSource({ kind: 'imported', layer: d.inputs.source.layer, positions: d.inputs.source.positions });
    now.setView({ head: d.inputs.view.head, mode: d.inputs.view.mode, compare: d.inputs.view.compare });
  } else {
    store.setState({ source: d.inputs.source, compute: d.inputs.compute, method: d.inputs.method, view: d.inputs.view });
  }
  store.setState((s) => ({ selection: { ...s.selection, locked: d.locked, hover: null } }));
  if (typeof document !== 'undefined')
    for (const p of PANELS) {
      const el = document.querySelector<HTMLDetailsElement>(`[data-testid=${p}-details]`);
      if (el) el.open = (step.open ?? []).includes(p);
    }
}
