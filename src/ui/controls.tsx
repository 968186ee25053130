import { useEffect, useId, useState, type ReactNode } from 'react';

/** A labelled number slider with its value; store-agnostic. */
export function Slider({ label, value, min, max, step = 1, onChange, help }: { label: string; value: number; min: number; max: number; step?: number; onChange: (v: number) => void; help?: string }) {
  const id = useId();
  return (
    <div className="ctl">
      <label htmlFor={id} title={help}>
        {label} <output>{value}</output>
      </label>
      <input id={id} type="range" min={min} max={max} step={step} value={value} onChange={(e) => onChange(Number(e.target.value))} />
    </div>
  );
}

/** A labelled select. */
export function Select<T extends string>({ label, value, options, onChange, help }: { label: string; value: T; options: readonly { value: T; label: string }[]; onChange: (v: T) => void; help?: ReactNode }) {
  const id = useId();
  return (
    <div className="ctl">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value as T)}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {help ? <p className="help">{help}</p> : null}
    </div>
  );
}

/** A labelled number field that commits on blur or Enter and rejects what is not a number in range. */
export function NumberField({ label, value, min, max, step = 1, onChange, allowEmpty, placeholder }: { label: string; value: number | null; min: number; max: number; step?: number; onChange: (v: number | null) => void; allowEmpty?: boolean; placeholder?: string }) {
  const id = useId();
  const [text, setText] = useState(value === null ? '' : String(value));
  const [err, setErr] = useState<string | null>(null);
  useEffect(() => setText(value === null ? '' : String(value)), [value]);
  const commit = () => {
    if (text.trim() === '' && allowEmpty) {
      setErr(null);
      onChange(null);
      return;
    }
    const x = Number(text);
    if (!Number.isFinite(x) || x < min || x > max) {
      setErr(`expected a number from ${min} to ${max}`);
      return;
    }
    setErr(null);
    onChange(x);
  };
  return (
    <div className="ctl">
      <label htmlFor={id}>{label}</label>
      <input id={id} type="number" min={min} max={max} step={step} value={text} placeholder={placeholder} onChange={(e) => setText(e.target.value)} onBlur={commit} onKeyDown={(e) => e.key === 'Enter' && commit()} aria-invalid={!!err} />
      {err ? <p className="field-error">{err}</p> : null}
    </div>
  );
}

/** A labelled checkbox. */
export function Checkbox({ label, checked, onChange }: { label: string; checked: boolean; onChange: (v: boolean) => void }) {
  return (
    <label className="ctl check">
      <input type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} /> {label}
    </label>
  );
}

/** A row of mutually exclusive buttons (an ARIA radio group); store-agnostic. */
export function Segmented<T extends string>({ label, value, options, onChange }: { label: string; value: T; options: readonly (readonly [T, string])[]; onChange: (v: T) => void }) {
  return (
    <div className="seg" role="radiogroup" aria-label={label}>
      {options.map(([v, text]) => (
        <button key={v} role="radio" aria-checked={value === v} className={value === v ? 'on' : ''} onClick={() => onChange(v)}>
          {text}
        </button>
      ))}
    </div>
  );
}
