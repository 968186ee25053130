import { useEffect, useRef, useState } from 'react';
import { useQk, useQkStore } from '../state/react';
import { LIMITS } from '../state/defaults';
import { openBuiltin, runCheckpoint, type LoadedCheckpoint } from './modelLoader';

/**
 * The text a loaded checkpoint runs, editable: after a pause the model runs the new text and
 * every view shows its layers. A refused text (too long, ids outside the vocabulary) keeps the
 * last result on screen and the typed text in the box, with the reason.
 */
export function ModelText() {
  const store = useQkStore();
  const cp = useQk((s) => s.imported?.checkpoint);
  const [text, setText] = useState(cp?.text ?? '');
  const [error, setError] = useState<string | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => setText(cp?.text ?? ''), [cp?.text]);
  if (!cp) return null;
  const model = cp.model as LoadedCheckpoint;
  const onText = (t: string) => {
    setText(t);
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      runCheckpoint(store, model, t.slice(0, LIMITS.maxTextChars)).then(
        () => setError(null),
        (e) => setError((e as Error).message),
      );
    }, 400);
  };
  const b = model.builtin;
  const tl = b?.timeline ?? [];
  const at = tl[b?.step ?? -1];
  const loss = at ? (at.val_loss ?? at.loss ?? at.train_loss) : undefined;
  return (
    <>
      {b && tl.length > 1 ? (
        <div className="ctl" data-testid="timeline">
          <label htmlFor="qk-timeline">
            Training timeline: step {at?.step ?? '?'} of {tl[tl.length - 1].step}
            {loss !== undefined ? ` (loss ${loss.toFixed(3)})` : ''}
          </label>
          <input
            id="qk-timeline"
            type="range"
            min={0}
            max={tl.length - 1}
            step={1}
            value={b.step}
            aria-valuetext={`checkpoint ${b.step + 1} of ${tl.length}, step ${at?.step}`}
            onChange={(e) => void openBuiltin(store, b.id, Number(e.target.value), text)}
          />
          <p className="help">Each position is a checkpoint saved while the model trained: move it to watch heads form.</p>
        </div>
      ) : null}
    <div className="ctl">
      <label htmlFor="qk-model-text">{model.tokenizer ? 'Text the model reads' : 'Token ids the model reads (no tokenizer.json was given)'}</label>
      <textarea id="qk-model-text" data-testid="model-text" rows={4} value={text} maxLength={LIMITS.maxTextChars} onChange={(e) => onText(e.target.value)} spellCheck={false} />
      {error ? (
        <p className="field-error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
    </>
  );
}
