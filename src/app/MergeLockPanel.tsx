import { useState } from 'react';
import { useQk } from '../state/react';
import { DivergingMatrix } from '../views/shared/DivergingMatrix';
import type { AKind } from '../methods/positional/mergelock';
import { runMerge, runMergeLock, type MergeLockRun } from './mergeLockRun';
import type { ModelCompareReport } from '../compute/protocol';
import { showToken } from '../views/shared/format';
import type { LoadedCheckpoint } from './modelLoader';

const TOLERANCE = 1e-4;
const maxAbsOf = (x: Float32Array) => x.reduce((a, v) => Math.max(a, Math.abs(v)), 1e-30);
const wOf = (cols: number) => Math.min(320, Math.max(120, cols * 2));
const hOf = (rows: number) => Math.min(120, Math.max(40, rows * 4));

/**
 * MergeLock on the loaded model (issue 7, ALGORITHMS.md §12.6): seeded invertible keys for the
 * QK and VO pairs of every layer; the weights change completely while the attention, the hidden
 * states and the logits stay the same (the errors are shown). A key A that does not commute with
 * RoPE is offered too, and warned about, to show what breaks.
 */
export function MergeLockPanel() {
  const cp = useQk((s) => (s.source.kind === 'imported' ? s.imported?.checkpoint : undefined));
  const layer = useQk((s) => s.source.layer);
  const head = useQk((s) => s.view.head);
  const [seed, setSeed] = useState(1);
  const [kind, setKind] = useState<AKind | null>(null);
  const [busy, setBusy] = useState(false);
  const [run, setRun] = useState<MergeLockRun | null>(null);
  const [merge, setMerge] = useState<ModelCompareReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (!cp) return null;
  const model = cp.model as LoadedCheckpoint;
  const rope = model.info.config.family === 'llama';
  const aKind: AKind = kind ?? (rope ? 'rope-commuting' : 'general');
  const go = () => {
    setBusy(true);
    setError(null);
    setMerge(null);
    runMergeLock(model, cp.ids, seed, aKind, { layer, head }).then(
      (r) => {
        setRun(r);
        setBusy(false);
      },
      (e) => {
        setError((e as Error).message);
        setBusy(false);
      },
    );
  };
  const goMerge = () => {
    if (!run) return;
    setBusy(true);
    setError(null);
    runMerge(model, cp.ids, run.seed, run.aKind, { layer: run.sample.layer, head: run.sample.head }).then(
      (r) => {
        setMerge(r);
        setBusy(false);
      },
      (e) => {
        setError((e as Error).message);
        setBusy(false);
      },
    );
  };
  const tokenText = (id: number) => (id < 0 ? '?' : model.tokenizer ? showToken(model.tokenizer.decode([id]), 20) : `#${id}`);
  const rep = run?.report;
  const worst = rep ? Math.max(...rep.layers.map((l) => l.weightsMaxAbs)) : 0;
  const same = rep ? rep.layers.every((l) => l.weightsMaxAbs <= TOLERANCE && l.hiddenMaxRel <= TOLERANCE) && rep.logitsMaxRel <= TOLERANCE : false;
  return (
    <section className="view mergelock" aria-label="MergeLock" data-testid="mergelock">
      <p className="small">
        Each layer&apos;s query and key projections are multiplied by a seeded invertible A and A<sup>−T</sup>, the value and output projections by B and B<sup>−1</sup>, one pair per KV group, so q·k and the outputs are unchanged while every weight moves (Sec. 12.6; the paper&apos;s code is not available, so the details are derived from the algebra).
      </p>
      <div className="ctl-row">
        <label>
          seed <input type="number" min={0} value={seed} onChange={(e) => setSeed(Math.max(0, Math.trunc(Number(e.target.value) || 0)))} style={{ width: 60 }} aria-label="MergeLock seed" />
        </label>
        <label>
          A{' '}
          <select value={aKind} onChange={(e) => setKind(e.target.value as AKind)} aria-label="kind of A" data-testid="mergelock-kind">
            {rope ? <option value="rope-commuting">a scaled rotation on each RoPE pair (commutes with RoPE)</option> : null}
            <option value="orthogonal">orthogonal</option>
            <option value="general">general (Gaussian){rope ? ': breaks RoPE' : ''}</option>
          </select>
        </label>
        <button onClick={go} disabled={busy} data-testid="mergelock-run">
          {busy ? 'running both models…' : 'Lock the weights and compare'}
        </button>
      </div>
      {error ? (
        <p className="field-error" role="alert">
          MergeLock could not run: {error}
        </p>
      ) : null}
      {run && rep ? (
        <div data-testid="mergelock-result">
          {run.warnings.map((w) => (
            <p key={w} className="field-error" role="alert" data-testid="mergelock-warning">
              {w}
            </p>
          ))}
          <div className="ctl-row">
            <DivergingMatrix data={run.sample.before} rows={run.sample.d} cols={run.sample.hidden} limit={maxAbsOf(run.sample.before)} w={wOf(run.sample.hidden)} h={hOf(run.sample.d)} title={`W_Q of layer ${run.sample.layer}, head ${run.sample.head}, before`} testId="mergelock-before" />
            <DivergingMatrix data={run.sample.after} rows={run.sample.d} cols={run.sample.hidden} limit={maxAbsOf(run.sample.after)} w={wOf(run.sample.hidden)} h={hOf(run.sample.d)} title="after MergeLock (own scale)" testId="mergelock-after" />
          </div>
          <p className="small">
            The weights moved by up to <b data-testid="mergelock-change">{run.sample.change.toFixed(2)}</b>× their largest entry. The outputs{' '}
            <b data-testid="mergelock-verdict">{same ? `are unchanged (every difference ≤ ${TOLERANCE})` : 'changed'}</b>: the largest attention-weight difference is <span data-testid="mergelock-worst">{worst.toExponential(2)}</span>, and the logits moved by {rep.logitsMaxRel.toExponential(2)} of their largest value (float32 on {rep.backend}, {rep.ms.toFixed(0)} ms for both runs).
          </p>
          <table className="model-table small">
            <thead>
              <tr>
                <th>layer</th>
                <th>max |Δ attention weight|</th>
                <th>max |Δ hidden| / max |hidden|</th>
              </tr>
            </thead>
            <tbody>
              {rep.layers.map((l, i) => (
                <tr key={i}>
                  <td>{i}</td>
                  <td>{l.weightsMaxAbs.toExponential(2)}</td>
                  <td>{l.hiddenMaxRel.toExponential(2)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="ctl-row">
            <button onClick={goMerge} disabled={busy} data-testid="mergelock-merge">
              Merge: average every weight of the locked model with the original
            </button>
          </div>
          {merge ? <MergeResult lock={rep} merge={merge} worstLock={worst} tokenText={tokenText} /> : null}
        </div>
      ) : null}
    </section>
  );
}

/**
 * The merge demo (§12.6): averaging the locked model with the original is what a model merge
 * does, and it is not a re-parameterisation, so attention and the next token change. The
 * shown head's attention difference is drawn for the lock and for the merge at one scale.
 */
function MergeResult({ lock, merge, worstLock, tokenText }: { lock: ModelCompareReport; merge: ModelCompareReport; worstLock: number; tokenText: (id: number) => string }) {
  const worst = Math.max(...merge.layers.map((l) => l.weightsMaxAbs));
  const d = merge.diff;
  const limit = d ? maxAbsOf(d.data) : 1;
  const side = (N: number) => Math.min(200, Math.max(80, N * 4));
  return (
    <div data-testid="mergelock-merge-result">
      <p className="small">
        Merged with the original, the model is no longer the same: attention weights move by up to <b data-testid="mergelock-merge-worst">{worst.toFixed(3)}</b> (the lock alone: {worstLock.toExponential(1)}), the logits by {(100 * merge.logitsMaxRel).toFixed(1)} % of their largest value, and the likeliest next token is{' '}
        {merge.nextId[0] === merge.nextId[1] ? (
          <>
            still “{tokenText(merge.nextId[1])}”
          </>
        ) : (
          <>
            “<span data-testid="mergelock-merge-next">{tokenText(merge.nextId[1])}</span>” instead of “{tokenText(merge.nextId[0])}”
          </>
        )}
        .
      </p>
      {d && lock.diff ? (
        <div className="ctl-row">
          <DivergingMatrix data={lock.diff.data} rows={d.N} cols={d.N} limit={limit} w={side(d.N)} h={side(d.N)} title={`layer ${d.layer}, head ${d.head}: locked − original`} testId="mergelock-diff-lock" />
          <DivergingMatrix data={d.data} rows={d.N} cols={d.N} limit={limit} w={side(d.N)} h={side(d.N)} title={`merged − original (same scale, ±${limit.toFixed(3)})`} testId="mergelock-diff-merge" />
        </div>
      ) : null}
    </div>
  );
}
