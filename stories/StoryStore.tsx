import { useState, type ReactNode } from 'react';
import type { Decorator } from '@storybook/react-vite';
import { QkProvider } from '../src/state/react';
import { makeStore, type StoryStoreOptions } from './fixtures';

/** Builds the story's own store once per mount and hands it down (DESIGN.md §4: every story owns its store). */
export function StoryStore({ opts, children }: { opts: StoryStoreOptions; children: ReactNode }) {
  const [store] = useState(() => makeStore(opts));
  return <QkProvider store={store}>{children}</QkProvider>;
}

/**
 * Decorator that wraps a story in a fresh {@link StoryStore} built from `parameters.qk`
 * (a {@link StoryStoreOptions}); keyed by story id so switching stories never shares a store.
 */
export const withQkStore: Decorator = (Story, ctx) => (
  <StoryStore key={ctx.id} opts={(ctx.parameters.qk ?? {}) as StoryStoreOptions}>
    <Story />
  </StoryStore>
);

/** Story parameters: the store options and a one-sentence description for the docs page. */
export function qk(opts: StoryStoreOptions, description: string) {
  return { qk: opts, docs: { description: { story: description } } };
}
