import { useEffect, useRef } from 'react';
import { KEYS } from './keys';

/** The list of keys, over the page (`?` shows it, Esc or the button closes it). */
export function KeyHelp({ onClose }: { onClose: () => void }) {
  const close = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    close.current?.focus();
    const on = (e: KeyboardEvent) => {
      if (e.key === 'Escape' || e.key === '?') {
        e.stopPropagation();
        onClose();
      }
    };
    window.addEventListener('keydown', on, true);
    return () => window.removeEventListener('keydown', on, true);
  }, [onClose]);
  return (
    <div className="key-help-backdrop" onClick={onClose}>
      <div className="key-help" role="dialog" aria-modal="true" aria-labelledby="key-help-title" data-testid="key-help" onClick={(e) => e.stopPropagation()}>
        <h2 id="key-help-title">Keys</h2>
        <table>
          <tbody>
            {KEYS.map((k) => (
              <tr key={k.what}>
                <th>
                  {k.keys.map((x, i) => (
                    <span key={x}>
                      {i ? ' ' : ''}
                      <kbd>{x}</kbd>
                    </span>
                  ))}
                </th>
                <td>{k.what}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <button ref={close} onClick={onClose}>
          close (Esc)
        </button>
      </div>
    </div>
  );
}
