import { useEffect, useState } from 'react';
import type { QkStore } from '../state/store';
import { applyStep, lessonById, stepCaption, LESSONS } from './lessons';
import { STEP_EVENT } from './keys';
import type { BackendName } from '../core/backendNames';

/** Writes the lesson and its step into the address (kept by the controller's own link updates). */
function remember(id: string | null, step: number) {
  if (typeof history === 'undefined') return;
  const p = new URLSearchParams(location.search);
  if (id) {
    p.set('lesson', id);
    p.set('lstep', String(step));
  } else {
    p.delete('lesson');
    p.delete('lstep');
  }
  history.replaceState(null, '', `?${p.toString()}`);
}

/**
 * A lesson in progress (issue 8): its title, the step's caption, back and forth with the
 * buttons or PageDown / PageUp (n / b; presenter clickers send these). Each step puts the app in
 * a state of its own (a link), so the views show what the caption talks about.
 */
export function LessonPlayer({ store, id, start = 0, onClose, large = false, backend }: { store: QkStore; id: string; start?: number; onClose: () => void; large?: boolean; backend?: BackendName }) {
  const lesson = lessonById(id);
  const [at, setAt] = useState(Math.max(0, Math.min(start, (lesson?.steps.length ?? 1) - 1)));
  // The step whose state is in place: until it equals `at`, the step is still being applied.
  const [applied, setApplied] = useState(-1);
  const [error, setError] = useState<string | null>(null);
  const n = lesson?.steps.length ?? 0;
  useEffect(() => {
    document.documentElement.dataset.lesson = id;
    return () => {
      delete document.documentElement.dataset.lesson;
    };
  }, [id]);
  useEffect(() => {
    if (!lesson) return;
    let live = true;
    setError(null);
    remember(id, at);
    applyStep(store, lesson.steps[at], backend).then(
      () => live && setApplied(at),
      (e) => live && (setApplied(at), setError((e as Error).message)),
    );
    return () => {
      live = false;
    };
  }, [store, lesson, id, at, backend]);
  useEffect(() => {
    const on = (e: Event) => setAt((a) => Math.max(0, Math.min(n - 1, a + (e as CustomEvent<number>).detail)));
    window.addEventListener(STEP_EVENT, on);
    return () => window.removeEventListener(STEP_EVENT, on);
  }, [n]);
  if (!lesson) return null;
  const close = () => {
    remember(null, 0);
    onClose();
  };
  return (
    <section className={`lesson${large ? ' lesson-large' : ''}`} aria-label={`lesson: ${lesson.title}`} data-testid="lesson" data-lesson={id} data-step={at} data-busy={applied === at ? '0' : '1'}>
      <div className="lesson-head">
        <b>{lesson.title}</b>
        <span className="small" data-testid="lesson-count">
          step {at + 1} of {n}
        </span>
        <button onClick={() => setAt(Math.max(0, at - 1))} disabled={at === 0} aria-label="previous step of the lesson">
          ← back
        </button>
        <button onClick={() => setAt(Math.min(n - 1, at + 1))} disabled={at === n - 1} aria-label="next step of the lesson" data-testid="lesson-next">
          next →
        </button>
        <button onClick={close} aria-label="end the lesson" data-testid="lesson-close">
          end lesson
        </button>
      </div>
      <p className="lesson-caption" aria-live="polite" data-testid="lesson-caption">
        {stepCaption(lesson.steps[at])}
      </p>
      {error ? (
        <p className="field-error" role="alert">
          This step could not be shown: {error}
        </p>
      ) : null}
    </section>
  );
}

/** The lesson picker for the top bar. */
export function LessonMenu({ onStart }: { onStart: (id: string) => void }) {
  return (
    <select
      aria-label="start a lesson"
      data-testid="lesson-menu"
      value=""
      onChange={(e) => {
        if (e.target.value) onStart(e.target.value);
      }}
    >
      <option value="">Lessons…</option>
      {LESSONS.map((l) => (
        <option key={l.id} value={l.id}>
          {l.title}
        </option>
      ))}
    </select>
  );
}
