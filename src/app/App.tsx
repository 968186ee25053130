import { useCallback, useState } from 'react';
import { QkProvider } from '../state/react';
import type { QkStore } from '../state/store';
import { Controls } from './Controls';
import { LinkedViews } from './LinkedViews';
import { StatusBar } from './StatusBar';
import { Messages } from './Messages';
import { useKeyboard } from './useKeyboard';
import { LayoutDialog } from './LayoutDialog';
import { DropZone } from './DropZone';
import { KeyHelp } from './KeyHelp';
import { Presentation } from './Presentation';
import { LessonMenu, LessonPlayer } from './LessonPlayer';

/** The QK Scope page: source controls, status, and the linked views. */
export function App({ store, present = false, lesson: initialLesson = null }: { store: QkStore; present?: boolean; lesson?: { id: string; step: number } | null }) {
  const [presenting, setPresenting] = useState(present);
  const [lesson, setLesson] = useState(initialLesson);
  const [help, setHelp] = useState(false);
  const toggleHelp = useCallback(() => setHelp((x) => !x), []);
  const togglePresent = useCallback(() => setPresenting((x) => !x), []);
  const [steps, setSteps] = useState(false);
  const toggleSteps = useCallback(() => {
    // On the page, s opens or closes the steps' panel; in presentation mode (no panel) the steps replace the map.
    const d = document.querySelector<HTMLDetailsElement>('[data-testid=steps-details]');
    if (d) {
      d.open = !d.open;
      if (d.open) d.scrollIntoView({ block: 'nearest' });
    } else setSteps((x) => !x);
  }, []);
  useKeyboard(store, { onHelp: toggleHelp, onPresent: togglePresent, onSteps: toggleSteps });
  return (
    <QkProvider store={store}>
      {help ? <KeyHelp onClose={() => setHelp(false)} /> : null}
      {lesson ? <LessonPlayer key={lesson.id} store={store} id={lesson.id} start={lesson.step} onClose={() => setLesson(null)} large={presenting} /> : null}
      {presenting ? (
        <Presentation onLeave={() => setPresenting(false)} onHelp={() => setHelp(true)} steps={steps} onSteps={toggleSteps} />
      ) : (
        <AppBody store={store} onPresent={() => setPresenting(true)} onHelp={() => setHelp(true)} onLesson={(id) => setLesson({ id, step: 0 })} />
      )}
    </QkProvider>
  );
}

function AppBody({ store, onPresent, onHelp, onLesson }: { store: QkStore; onPresent: () => void; onHelp: () => void; onLesson: (id: string) => void }) {
  return (
    <>
      <DropZone store={store} />
      <LayoutDialog />
      <div className="app">
        <header className="topbar">
          <h1>
            QK Scope <span className="muted">attention microscope</span>
          </h1>
          <StatusBar />
          <span className="topbar-buttons">
            <LessonMenu onStart={onLesson} />
            <button onClick={onPresent} data-testid="present" title="large type and high contrast for a room (p)">
              Present
            </button>
            <button onClick={onHelp} data-testid="keys" title="the keyboard keys (?)">
              Keys
            </button>
          </span>
        </header>
        <Messages />
        <div className="layout">
          <Controls />
          <LinkedViews />
        </div>
      </div>
    </>
  );
}
