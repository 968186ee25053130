import { describe, expect, it } from 'vitest';
import * as stories from '../../stories/SparsePanel.stories';
import { makeSparseStore, type SparseStoryOptions } from '../../stories/sparseFixtures';

// Every story of the sparse panel builds its store as the loader does (runSparse on the seeded
// source), so a story that no longer fits its method fails here, not only in Storybook.
describe('sparse panel stories', () => {
  const entries = Object.entries(stories).filter(([name]) => name !== 'default') as [string, { parameters: { sparse: SparseStoryOptions } }][];
  it('has the video and token-selection stories', () => {
    expect(entries.map(([n]) => n)).toEqual(expect.arrayContaining(['VmobaVideo2D', 'DraftAttentionVideo', 'TokenSelectVotes']));
  });
  for (const [name, story] of entries) {
    it(`${name}: the loader's store holds the method's result`, async () => {
      const store = await makeSparseStore(story.parameters.sparse);
      const r = store.getState().derived.result!;
      expect(r.sparse?.id).toBe(story.parameters.sparse.method.id);
      expect(r.sparse!.metrics.density.length).toBe(r.H);
      if (story.parameters.sparse.video) {
        expect(r.grid).toEqual(story.parameters.sparse.video);
        expect(r.sparse!.perm).toBeDefined();
      }
    });
  }
});
