import { useEffect, useRef, useState } from 'react';
import { useQk, useQkStore } from '../state/react';
import { Segmented } from '../ui/controls';
import { cancelLayout, confirmLayout } from './importer';
import { describeLayout } from '../io/layout';

/**
 * Asks the user to confirm how an ambiguous array is laid out (which axis is layers, heads or a
 * batch, and whether the values are weights or scores) before it is used. The guess comes first
 * with its reasons. A modal dialog: Escape cancels and keeps what was on screen.
 */
export function LayoutDialog() {
  const store = useQkStore();
  const confirm = useQk((s) => s.importState.confirm);
  const error = useQk((s) => s.importState.error);
  const ref = useRef<HTMLDialogElement>(null);
  const [choice, setChoice] = useState(0);
  const [values, setValues] = useState<'weights' | 'scores'>('weights');
  const [batch, setBatch] = useState(0);

  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (confirm) {
      const g = confirm.pending.guess;
      setChoice(Math.max(0, confirm.pending.options.findIndex((o) => o.join() === g.roles.join())));
      setValues(g.values);
      setBatch(g.batchIndex);
      if (!d.open) d.showModal?.();
    } else if (d.open) d.close();
  }, [confirm]);

  if (!confirm) return <dialog ref={ref} className="layout-dialog" />;
  const p = confirm.pending;
  const roles = p.options[choice] ?? p.options[0];
  const bAxis = roles.indexOf('batch');
  const B = bAxis >= 0 ? p.shape[bAxis] : 1;
  return (
    <dialog ref={ref} className="layout-dialog" aria-labelledby="layout-title" data-testid="layout-dialog" onCancel={() => cancelLayout(store)}>
      <h2 id="layout-title">How is this array laid out?</h2>
      <p>
        <b>{p.name}</b> ({p.format}) has shape <code>[{p.shape.join(', ')}]</code>. Confirm the guess or pick another reading.
      </p>
      <ul className="muted small">
        {p.reasons.map((r, i) => (
          <li key={i}>{r}</li>
        ))}
      </ul>
      <fieldset>
        <legend>Axes</legend>
        {p.options.map((o, i) => (
          <label key={i} className="ctl check">
            <input type="radio" name="layout" checked={i === choice} onChange={() => setChoice(i)} data-testid={`layout-option-${i}`} />
            {describeLayout(o, p.shape)}
            {i === 0 ? <span className="muted"> (guess)</span> : null}
          </label>
        ))}
      </fieldset>
      <div className="ctl">
        <label>The values are</label>
        <Segmented
          label="the values are"
          value={values}
          options={[
            ['weights', 'attention weights (rows sum to 1)'],
            ['scores', 'scores / logits (softmax them)'],
          ]}
          onChange={setValues}
        />
      </div>
      {B > 1 ? (
        <label className="ctl">
          Batch item (of {B})
          <input type="number" min={0} max={B - 1} value={batch} onChange={(e) => setBatch(Math.max(0, Math.min(B - 1, Math.trunc(Number(e.target.value) || 0))))} />
        </label>
      ) : null}
      {error ? (
        <p className="field-error" role="alert">
          {error}
        </p>
      ) : null}
      <div className="dialog-buttons">
        <button onClick={() => cancelLayout(store)}>Cancel</button>
        <button className="primary" onClick={() => confirmLayout(store, { roles, values, batchIndex: batch })} data-testid="layout-confirm">
          Use this layout
        </button>
      </div>
    </dialog>
  );
}
