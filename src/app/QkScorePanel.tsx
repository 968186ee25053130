import { useMemo, useRef, useState } from 'react';
import { useQk, useQkStore } from '../state/react';
import { importedLayer } from '../state/store';
import { LETTERS, formatPrompt, locateOptions, parsePrompt, parseQuestionSet, qkReadout, type Letter, type McqaQuestion } from '../methods/positional/qkscore';
import { runCheckpoint, type LoadedCheckpoint } from './modelLoader';
import { letterIds, modelAnswer, runQuestionSet, type QuestionSetResult } from './qkScoreRun';

/** The question the panel starts with (also the stories'). */
export const EXAMPLE_QUESTION: McqaQuestion = {
  context: 'Anna likes tea. Ben likes milk. Cara likes juice.',
  question: 'What does Ben like?',
  options: ['juice', 'tea', 'milk', 'water'],
  answer: 'C',
};
const OK = '#009E73';
const BAD = '#D55E00';

/** Bars of one head's four option scores, its pick outlined, the right answer marked. */
function OptionBars({ title, values, pick, answer, fmt, testId }: { title: string; values: number[]; pick: number; answer: number | null; fmt: (x: number) => string; testId: string }) {
  const m = Math.max(1e-12, ...values.map(Math.abs));
  return (
    <div className="qk-bars" data-testid={testId}>
      <div className="small">{title}</div>
      {values.map((v, i) => (
        <div key={i} className="qk-bar-row small">
          <span className="qk-letter">{LETTERS[i]}</span>
          <span className="qk-bar" style={{ width: `${(80 * Math.abs(v)) / m}px`, background: v < 0 ? '#bbb' : i === answer ? OK : '#4c78a8', outline: i === pick ? '2px solid #111' : 'none' }} />
          <span>
            {fmt(v)}
            {i === pick ? ' ← pick' : ''}
            {i === answer ? ' (right)' : ''}
          </span>
        </div>
      ))}
    </div>
  );
}

/**
 * The QK-score readout of select-and-copy heads (issue 7, ALGORITHMS.md §11) on the loaded
 * model: a question in the paper's prompt layout runs through the model; every head's QK-score
 * and Attention Score of the four options, its pick, a layer × head map of which heads pick the
 * right answer, the model's own answer from its letter logits; and over a question set, every
 * head's accuracy, ranked.
 */
export function QkScorePanel() {
  const store = useQkStore();
  const cp = useQk((s) => (s.source.kind === 'imported' ? s.imported?.checkpoint : undefined));
  const imported = useQk((s) => s.imported);
  const layerIdx = useQk((s) => s.source.layer);
  const head = useQk((s) => s.view.head);
  const shown = useQk((s) => importedLayer(s));
  const setSource = useQk((s) => s.setSource);
  const setView = useQk((s) => s.setView);
  // The form starts with the question the model ran (a built-in question set's model opens on one), else the example.
  const [q, setQ] = useState<McqaQuestion>(() => (cp?.text ? parsePrompt(cp.text) : null) ?? EXAMPLE_QUESTION);
  const [postRope, setPostRope] = useState(false);
  const [by, setBy] = useState<'qk' | 'att'>('qk');
  const [error, setError] = useState<string | null>(null);
  const [set, setSet] = useState<{ name: string; questions: McqaQuestion[] } | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [result, setResult] = useState<QuestionSetResult | null>(null);
  const cancel = useRef(false);
  const model = cp?.model as LoadedCheckpoint | undefined;
  const tokens = shown?.queryTokens;

  // The readout of what the model just ran, when it is a question.
  const readout = useMemo(() => {
    if (!imported || !model?.tokenizer || !tokens) return null;
    try {
      const at = locateOptions(tokens);
      const layers = imported.layers.map((l) => l.qkv!).filter(Boolean);
      return { at, layers: qkReadout(layers, at, { postRope }) };
    } catch {
      return null; // not a question (McqaError): the panel says so
    }
  }, [imported, model, tokens, postRope]);
  if (!cp || !model) return null;
  if (!model.tokenizer) return <p className="muted small">The QK-score readout needs a model with tokenizer.json (it reads a question as text).</p>;
  const answer = q.answer ? LETTERS.indexOf(q.answer) : null;
  const own = cp.lastLogits && readout ? modelAnswer(cp.lastLogits, letterIds(model.tokenizer)) : null;
  const L = readout?.layers.length ?? 0;
  const H = readout?.layers[0]?.qk.length ?? 0;
  const cur = readout?.layers[Math.min(layerIdx, L - 1)];
  const h = Math.min(head, H - 1);
  const edit = (patch: Partial<McqaQuestion>) => setQ({ ...q, ...patch });
  /** Shows a head's heatmap with the option line ends of the question it ran marked (Sec. 11). */
  const showHead = (l: number, hh: number) => {
    setSource({ layer: l });
    setView({ head: hh });
    if (readout && tokens)
      store.getState().setMarks({
        keys: readout.at.positions,
        labels: [...LETTERS],
        right: answer,
        note: 'the line ends of options A–D, whose keys the QK-score reads',
        tokens,
      });
  };
  const runQuestion = () => {
    setError(null);
    runCheckpoint(store, model, formatPrompt(q)).catch((e) => setError((e as Error).message));
  };
  const openSet = async (file: File) => {
    setError(null);
    try {
      setSet({ name: file.name, questions: parseQuestionSet(await file.text(), file.name) });
      setResult(null);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const builtinSet = async () => {
    const id = model.builtin?.id;
    if (!id) return;
    setError(null);
    const r = await fetch(`models/${id}/questions.json`).catch(() => null);
    if (!r?.ok) return setError(`the built-in model ${id} ships no question set (models/${id}/questions.json)`);
    try {
      setSet({ name: `${id} questions`, questions: parseQuestionSet(await r.text(), `models/${id}/questions.json`) });
      setResult(null);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const score = async () => {
    if (!set) return;
    cancel.current = false;
    setProgress(0);
    setError(null);
    try {
      setResult(await runQuestionSet(model, set.questions, { postRope, onProgress: setProgress, cancelled: () => cancel.current }));
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setProgress(null);
    }
  };
  const ranked = result
    ? result.accuracy[by]
        .flatMap((row, l) => row.map((acc, hh) => ({ l, h: hh, acc })))
        .sort((a, b) => b.acc - a.acc || a.l - b.l || a.h - b.h)
        .slice(0, 10)
    : [];

  return (
    <section className="view qkscore" aria-label="QK-score readout" data-testid="qkscore">
      <p className="small">
        A multiple-choice question in the prompt layout of Sec. 11. For every head: the QK-score, the query of the last token against the key of each option&apos;s line end (the new line after &quot;A. …&quot;), {postRope ? 'after RoPE' : 'before RoPE (the follow-up code does not rotate; whether the 2024 paper did is unverified)'}, and the Attention Score, the head&apos;s attention weight from the last token to that line end. Select-and-copy heads pick the right option.
      </p>
      <div className="qk-form">
        <label className="small">
          Context <input value={q.context ?? ''} onChange={(e) => edit({ context: e.target.value.replace(/\n/g, ' ') || undefined })} data-testid="qk-context" />
        </label>
        <label className="small">
          Question <input value={q.question} onChange={(e) => edit({ question: e.target.value.replace(/\n/g, ' ') })} data-testid="qk-question" />
        </label>
        {q.options.map((o, i) => (
          <label key={i} className="small">
            {LETTERS[i]}. <input value={o} onChange={(e) => edit({ options: q.options.map((x, j) => (j === i ? e.target.value.replace(/\n/g, ' ') : x)) })} data-testid={`qk-option-${i}`} />
          </label>
        ))}
        <label className="small">
          right answer{' '}
          <select value={q.answer ?? ''} onChange={(e) => edit({ answer: (e.target.value || undefined) as Letter | undefined })} data-testid="qk-answer">
            <option value="">unknown</option>
            {LETTERS.map((l) => (
              <option key={l}>{l}</option>
            ))}
          </select>
        </label>
        <button onClick={runQuestion} data-testid="qk-run">
          Run this question
        </button>
        <label className="small">
          <input type="checkbox" checked={postRope} onChange={(e) => setPostRope(e.target.checked)} /> QK-score after RoPE
        </label>
      </div>
      {error ? (
        <p className="field-error" role="alert" data-testid="qk-error">
          {error}
        </p>
      ) : null}
      {!readout ? (
        <p className="muted small" data-testid="qk-not-a-question">
          The text the model ran is not a question with options A–D on their own lines; run one above.
        </p>
      ) : (
        <div data-testid="qk-readout">
          {readout.at.exact.some((e) => !e) ? <p className="small">The tokenizer merged a line end with the next text; that token is used for the option (Sec. 11, unverified point).</p> : null}
          {own ? (
            <p className="small" data-testid="qk-model-answer">
              The model&apos;s own answer from its letter logits: <b>{LETTERS[own.pick]}</b> ({(100 * own.probs[own.pick]).toFixed(1)} % among the four){answer !== null ? (own.pick === answer ? ', right' : ', wrong') : ''}.
            </p>
          ) : null}
          {cur && cur.qk[h].every((v) => v === cur.qk[h][0]) ? (
            <p className="small" data-testid="qk-tie">
              This head&apos;s four QK-scores are equal: the option line ends are the same token, and before RoPE its first layer gives them the same key, so the first option wins the tie.
            </p>
          ) : null}
          {cur ? (
            <div className="ctl-row">
              <OptionBars title={`layer ${Math.min(layerIdx, L - 1)}, head ${h}: QK-score`} values={cur.qk[h]} pick={cur.pickQk[h]} answer={answer} fmt={(x) => x.toFixed(3)} testId="qk-bars-qk" />
              <OptionBars title="Attention Score" values={cur.att[h]} pick={cur.pickAtt[h]} answer={answer} fmt={(x) => x.toFixed(4)} testId="qk-bars-att" />
            </div>
          ) : null}
          <div className="ctl-row small">
            Map of picks by{' '}
            <select value={by} onChange={(e) => setBy(e.target.value as 'qk' | 'att')} aria-label="score for the map">
              <option value="qk">QK-score</option>
              <option value="att">Attention Score</option>
            </select>
            {answer === null ? ' (set the right answer to colour the picks)' : ': green picks the right option, orange another; click a head to show it'}
          </div>
          <table className="qk-map" data-testid="qk-map">
            <tbody>
              {readout.layers.map((l, li) => (
                <tr key={li}>
                  <th className="small muted">layer {li}</th>
                  {(by === 'qk' ? l.pickQk : l.pickAtt).map((p, hi) => (
                    <td key={hi}>
                      <button
                        className={`qk-cell${li === layerIdx && hi === head ? ' selected' : ''}`}
                        style={{ background: answer === null ? '#ddd' : p === answer ? OK : BAD }}
                        title={`layer ${li}, head ${hi} picks ${LETTERS[p]}`}
                        data-testid={`qk-cell-${li}-${hi}`}
                        data-pick={LETTERS[p]}
                        onClick={() => {
                          showHead(li, hi);
                          store.getState().lock({ q: readout.at.pN, k: readout.at.positions[p] });
                        }}
                      >
                        {LETTERS[p]}
                      </button>
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="ctl-row small">
        Question set:{' '}
        <input type="file" accept=".json,.csv,application/json,text/csv" onChange={(e) => e.target.files?.[0] && void openSet(e.target.files[0])} data-testid="qk-set-input" aria-label="question set (JSON or CSV)" />
        {model.builtin ? (
          <button onClick={() => void builtinSet()} data-testid="qk-set-builtin">
            this model&apos;s built-in set
          </button>
        ) : null}
        {set ? (
          <>
            <span data-testid="qk-set-name">
              {set.name}: {set.questions.length} questions
            </span>
            {progress === null ? (
              <button onClick={() => void score()} data-testid="qk-set-run">
                Score every head
              </button>
            ) : (
              <>
                <progress max={set.questions.length} value={progress} aria-label="questions scored" />
                <button onClick={() => (cancel.current = true)}>cancel</button>
              </>
            )}
          </>
        ) : null}
      </div>
      {result ? (
        <div data-testid="qk-set-result">
          <p className="small">
            Over {result.n} questions{result.modelAccuracy !== null ? <>, the model answers <b data-testid="qk-model-accuracy">{(100 * result.modelAccuracy).toFixed(1)} %</b> right from its letter logits</> : ''}. The best head by {by === 'qk' ? 'QK-score' : 'Attention Score'} is marked as a select-and-copy candidate{result.inexact ? `; ${result.inexact} questions had a merged line end` : ''}.
          </p>
          <table className="model-table small" data-testid="qk-ranking">
            <thead>
              <tr>
                <th>head</th>
                <th>accuracy ({by === 'qk' ? 'QK-score' : 'Attention Score'})</th>
                <th>other score</th>
              </tr>
            </thead>
            <tbody>
              {ranked.map((r, i) => (
                <tr key={`${r.l}-${r.h}`}>
                  <td>
                    <button className="link" onClick={() => showHead(r.l, r.h)}>
                      L{r.l}H{r.h}
                    </button>
                    {i === 0 ? ' ★ select-and-copy candidate' : ''}
                  </td>
                  <td>{(100 * r.acc).toFixed(1)} %</td>
                  <td>{(100 * result.accuracy[by === 'qk' ? 'att' : 'qk'][r.l][r.h]).toFixed(1)} %</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
