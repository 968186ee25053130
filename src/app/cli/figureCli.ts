import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { importTensors } from '../../io/importTensors';
import { referenceAttention } from '../../core/referenceAttention';
import { headGridSvg, heatmapSvg, type HeatmapFigure } from '../../io/figure';
import { figureHtml } from '../../io/figureHtml';
import { mapSpec } from '../../views/shared/mapSpec';
import { SEQUENTIAL_MAPS, type SequentialMap } from '../../core/colormapNames';
import type { MapMode } from '../../state/types';
import type { ImportedLayer } from '../../io/types';
import { MODEL_DEFAULT_TEXT } from '../../state/defaults';

/** A problem with the command line or its input: printed as one line, exit status 2. */
export class CliError extends Error {}

export const FIGURE_HELP = `qkscope figure: render an attention figure from a file or a model, without a browser

  qkscope figure --input FILE [options] --out fig.svg
  qkscope figure --model DIR|ID [--text TEXT] [options] --out fig.png

Source (one of):
  --input FILE     .npy, .npz, .safetensors, CircuitsVis / BertViz / Inspectus / Tensor2Tensor
                   JSON, or a qkscope-qkv Q/K/V dump (docs/import-formats.md)
  --model DIR|ID   a checkpoint folder (config.json, model.safetensors, tokenizer.json) or a
                   built-in model of public/models (sotu-llama, induction-tiny, mcqa-tiny)
  --text TEXT      the text the model reads (default: the model's own example, else a sentence)

Options:
  --view heatmap|grid   one head (default), or every head of the layer
  --layer L             layer or block (default 0)
  --head H              query head for the heatmap (default 0)
  --mode weights|scores|logWeights   what the map shows (default weights)
  --colormap viridis|magma|cividis   (default viridis)
  --lock Q[,K]          outline query row Q (and key K)
  --scale 1|2|4         PNG scale (default 2)
  --out FILE            .svg, .png or .html (the extension decides)
  --help                this text`;

export interface FigureArgs {
  input: string | null;
  model: string | null;
  text: string | null;
  view: 'heatmap' | 'grid';
  layer: number;
  head: number;
  mode: MapMode;
  colormap: SequentialMap;
  lock: { q: number; k: number | null } | null;
  scale: number;
  out: string;
}

/** Parses `figure`'s options; every mistake names the option and what it expects. */
export function parseFigureArgs(argv: string[]): FigureArgs {
  const a: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (!k.startsWith('--')) throw new CliError(`unexpected "${k}": options start with -- (see qkscope figure --help)`);
    const name = k.slice(2);
    const known = ['input', 'model', 'text', 'view', 'layer', 'head', 'mode', 'colormap', 'lock', 'scale', 'out'];
    if (!known.includes(name)) throw new CliError(`unknown option --${name}; the options are ${known.map((x) => `--${x}`).join(', ')}`);
    const v = argv[i + 1];
    if (v === undefined || (v.startsWith('--') && name !== 'text')) throw new CliError(`--${name} needs a value`);
    a[name] = v;
    i++;
  }
  if (!a.out) throw new CliError('--out FILE is required (.svg, .png or .html)');
  if (!!a.input === !!a.model) throw new CliError('give exactly one source: --input FILE or --model DIR|ID');
  const int = (name: string, def: number) => {
    if (a[name] === undefined) return def;
    if (!/^\d+$/.test(a[name])) throw new CliError(`--${name} must be a whole number ≥ 0, not "${a[name]}"`);
    return Number(a[name]);
  };
  const oneOf = <T extends string>(name: string, options: readonly T[], def: T): T => {
    const v = a[name] ?? def;
    if (!options.includes(v as T)) throw new CliError(`--${name} must be one of ${options.join(', ')}, not "${v}"`);
    return v as T;
  };
  const ext = extname(a.out).toLowerCase();
  if (!['.svg', '.png', '.html'].includes(ext)) throw new CliError(`--out ${a.out}: the file name must end in .svg, .png or .html`);
  let lock: FigureArgs['lock'] = null;
  if (a.lock !== undefined) {
    const m = /^(\d+)(?:,(\d+))?$/.exec(a.lock);
    if (!m) throw new CliError(`--lock must be Q or Q,K (token positions), not "${a.lock}"`);
    lock = { q: Number(m[1]), k: m[2] === undefined ? null : Number(m[2]) };
  }
  const scale = Number(oneOf('scale', ['1', '2', '4'] as const, '2'));
  return { input: a.input ?? null, model: a.model ?? null, text: a.text ?? null, view: oneOf('view', ['heatmap', 'grid'] as const, 'heatmap'), layer: int('layer', 0), head: int('head', 0), mode: oneOf('mode', ['weights', 'scores', 'logWeights'] as const, 'weights'), colormap: oneOf('colormap', SEQUENTIAL_MAPS, 'viridis'), lock, scale, out: a.out };
}

/** One layer's maps, ready to draw: weights (and scores when known) `[H, Nq, Nk]`. */
interface LayerMaps {
  name: string;
  label: string;
  H: number;
  Hkv: number;
  N: number;
  Nk: number;
  causal: boolean;
  weights: Float32Array;
  scores: Float32Array | null;
  tokens: string[];
  keyTokens: string[];
  layers: number;
}

function fromLayer(name: string, layer: ImportedLayer, layers: number): LayerMaps {
  if (layer.weights) {
    const [H, N, Nk] = layer.weights.shape;
    return { name, label: layer.label, H, Hkv: H, N, Nk, causal: layer.causal, weights: layer.weights.data, scores: null, tokens: layer.queryTokens, keyTokens: layer.keyTokens, layers };
  }
  const qkv = layer.qkv!;
  const r = referenceAttention({ q: qkv.q, k: qkv.k, v: qkv.v ?? qkv.k }, { causal: layer.causal, scale: layer.scale });
  const [H, N] = qkv.q.shape;
  return { name, label: layer.label, H, Hkv: qkv.k.shape[0], N, Nk: qkv.k.shape[1], causal: layer.causal, weights: r.weights, scores: r.scores, tokens: layer.queryTokens, keyTokens: layer.keyTokens, layers };
}

/** Where a built-in model lives: public/models/<id> beside this package, or a folder given. */
function modelDir(spec: string, root: string): string {
  const asDir = resolve(spec);
  if (existsSync(asDir) && statSync(asDir).isDirectory()) return asDir;
  const builtin = join(root, 'public', 'models', spec);
  if (/^[a-z0-9][a-z0-9-]{0,40}$/.test(spec) && existsSync(join(builtin, 'config.json'))) return builtin;
  const ids = existsSync(join(root, 'public', 'models')) ? readdirSync(join(root, 'public', 'models')).filter((d) => existsSync(join(root, 'public', 'models', d, 'config.json'))) : [];
  throw new CliError(`--model ${spec}: no such folder, and not a built-in model (built-in: ${ids.join(', ') || 'none'})`);
}

async function loadLayer(args: FigureArgs, root: string): Promise<LayerMaps> {
  if (args.input) {
    const path = resolve(args.input);
    if (!existsSync(path)) throw new CliError(`--input ${args.input}: no such file`);
    const o = importTensors(new Uint8Array(readFileSync(path)), basename(path));
    let src;
    if (o.status === 'ready') src = o.source;
    else {
      src = o.finish(o.pending.guess);
      process.stderr.write(`qkscope: ${basename(path)} holds an array of shape [${o.pending.shape.join(', ')}]; read with axes ${o.pending.guess.roles.join(' × ')} as ${o.pending.guess.values} (${o.pending.reasons.join('; ')})\n`);
    }
    if (args.layer >= src.layers.length) throw new CliError(`--layer ${args.layer}: ${basename(path)} has ${src.layers.length} layer${src.layers.length === 1 ? '' : 's'} (0 to ${src.layers.length - 1})`);
    return fromLayer(basename(path), src.layers[args.layer], src.layers.length);
  }
  const dir = modelDir(args.model!, root);
  // The model code loads tfjs (CPU backend in Node) only for this path.
  const { fileFromBytes, loadModel, runModel } = await import('../../index');
  await import('@tensorflow/tfjs-backend-cpu');
  // tfjs greets Node users with advice to install its native backend; a figure tool's output stays clean.
  const warn = console.warn;
  console.warn = (...a: unknown[]) => void (String(a[0]).includes('tfjs-node') || warn(...a));
  const names = readdirSync(dir).filter((n) => !n.startsWith('step-') && /\.(json|safetensors)$/.test(n) && n !== 'questions.json' && n !== 'timeline.json' && n !== 'heads.json');
  const model = await loadModel(names.map((n) => fileFromBytes(n, new Uint8Array(readFileSync(join(dir, n))))), { backend: 'cpu' });
  try {
    const c = model.info.config;
    if (args.layer >= c.layers) throw new CliError(`--layer ${args.layer}: the model has ${c.layers} layers (0 to ${c.layers - 1})`);
    const own = ownText(dir, root);
    const text = args.text ?? own ?? MODEL_DEFAULT_TEXT;
    const r = await runModel(model, text, { capture: [args.layer] });
    const l = r.layers[args.layer]!;
    const [H, N] = l.weights.shape;
    return { name: basename(dir), label: `layer ${args.layer}`, H, Hkv: c.kvHeads, N, Nk: N, causal: true, weights: l.weights.data, scores: l.scores.data, tokens: r.tokens, keyTokens: r.tokens, layers: c.layers };
  } finally {
    model.dispose();
    console.warn = warn;
  }
}

/** A built-in model's own example text (public/models/index.json), when it has one. */
function ownText(dir: string, root: string): string | null {
  const index = join(root, 'public', 'models', 'index.json');
  if (!existsSync(index)) return null;
  const list = (JSON.parse(readFileSync(index, 'utf8')) as { models?: { id: string; text?: string }[] }).models ?? [];
  return list.find((m) => resolve(join(root, 'public', 'models', m.id)) === resolve(dir))?.text ?? null;
}

/** Runs `qkscope figure …`: writes the file and returns a one-line report. */
export async function figureCommand(argv: string[], root: string): Promise<string> {
  const args = parseFigureArgs(argv);
  const m = await loadLayer(args, root);
  const view = { N: m.N, Nk: m.Nk, H: m.H, causal: m.causal, weights: m.weights, scores: m.scores };
  const title = `${m.name} · ${m.label}`;
  const ext = extname(args.out).toLowerCase();
  let svg: string;
  let fig: HeatmapFigure | null = null;
  if (args.view === 'grid') {
    const maps = Array.from({ length: m.H }, (_, h) => mapSpec(view, h, args.mode, args.colormap));
    svg = headGridSvg(`${title} · all ${m.H} heads`, maps, m.Hkv !== m.H ? { kvOf: (h) => Math.floor(h / (m.H / m.Hkv)) } : {});
  } else {
    if (args.head >= m.H) throw new CliError(`--head ${args.head}: ${title} has ${m.H} heads (0 to ${m.H - 1})`);
    if (args.lock && (args.lock.q >= m.N || (args.lock.k !== null && args.lock.k >= m.Nk))) throw new CliError(`--lock ${args.lock.q}${args.lock.k === null ? '' : `,${args.lock.k}`}: the map has ${m.N} queries and ${m.Nk} keys`);
    fig = { title: `${title} · head ${args.head}`, spec: mapSpec(view, args.head, args.mode, args.colormap), tokens: m.tokens, keyTokens: m.keyTokens, locked: args.lock };
    svg = heatmapSvg(fig);
  }
  let bytes: Uint8Array | string;
  if (ext === '.svg') bytes = svg;
  else if (ext === '.html') {
    if (!fig) throw new CliError('--out .html is for --view heatmap (one head with its values); use .svg or .png for the grid');
    bytes = figureHtml(fig, svg);
  } else bytes = await svgToPngNode(svg, args.scale);
  writeFileSync(args.out, bytes);
  const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length;
  return `qkscope: wrote ${args.out} (${size} bytes): ${args.view === 'grid' ? `${m.H} heads of ${title}` : fig!.title}, ${m.N} × ${m.Nk} tokens`;
}

/** Rasterises an SVG in Node with @napi-rs/canvas (Skia, shipped as an npm package; no browser). */
async function svgToPngNode(svg: string, scale: number): Promise<Uint8Array> {
  let canvas: typeof import('@napi-rs/canvas');
  try {
    canvas = await import('@napi-rs/canvas');
  } catch (e) {
    throw new CliError(`PNG output needs the @napi-rs/canvas package (npm install), which could not be loaded: ${(e as Error).message.split('\n')[0]}; SVG and HTML work without it`);
  }
  const img = await canvas.loadImage(Buffer.from(svg));
  const c = canvas.createCanvas(Math.round(img.width * scale), Math.round(img.height * scale));
  const ctx = c.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(img, 0, 0, c.width, c.height);
  return c.encode('png');
}
