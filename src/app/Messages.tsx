import { useQk } from '../state/react';

/** The newest error (bad input, failed compute) and dismissible notices (a clamped link). */
export function Messages() {
  const error = useQk((s) => s.derived.error);
  const notices = useQk((s) => s.derived.notices);
  const dismiss = useQk((s) => s.dismissNotice);
  if (!error && notices.length === 0) return null;
  return (
    <div className="messages">
      {error ? (
        <p className="error" role="alert" data-testid="error">
          {error}
        </p>
      ) : null}
      {notices.map((n, i) => (
        <p key={i} className="notice" data-testid="notice">
          {n} <button onClick={() => dismiss(i)} aria-label="dismiss">×</button>
        </p>
      ))}
    </div>
  );
}
