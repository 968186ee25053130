import { parseSafetensorsHeader, type SafetensorsEntry } from '../io/safetensors';
import { decode } from '../io/dtype';
import { ImportError } from '../io/errors';
import { fmtShape, sizeOf, type Tensor } from '../core/tensor';
import { expectedTensors, isIgnorable, ModelError, nameVariants, parameterCount, parseConfig, type ModelConfig } from './config';

/**
 * A file of a checkpoint that is read in slices, never whole: a `File` from the page (read with
 * `Blob.slice`) or bytes already in memory. Only the header and then one tensor at a time are
 * read, so a large checkpoint is never held twice.
 */
export interface ModelFile {
  /** The file's name (a folder pick gives paths; only the last part counts). */
  name: string;
  size: number;
  read(begin: number, end: number): Promise<Uint8Array>;
}

/** A checkpoint file from bytes in memory (Node, tests). */
export function fileFromBytes(name: string, bytes: Uint8Array): ModelFile {
  return { name, size: bytes.length, read: async (b, e) => bytes.subarray(b, e) };
}

/** A checkpoint file picked or dropped on the page, read slice by slice. */
export function fileFromBlob(blob: Blob, name = (blob as File).name ?? 'file'): ModelFile {
  return { name, size: blob.size, read: async (b, e) => new Uint8Array(await blob.slice(b, e).arrayBuffer()) };
}

const base = (name: string) => name.split(/[\\/]/).pop() ?? name;
const DTYPE_NAMES: Record<string, string> = { f32: 'F32', f16: 'F16', bf16: 'BF16', f64: 'F64' };

/** What a checkpoint holds, read from its config and headers before any weight is read. */
export interface CheckpointInfo {
  config: ModelConfig;
  /** The raw `config.json` object (for the model summary). */
  rawConfig: Record<string, unknown>;
  /** Where each canonical tensor lives. */
  tensors: Map<string, { file: ModelFile; entry: SafetensorsEntry }>;
  files: ModelFile[];
  parameters: number;
  /** Bytes of the weights on disk, and as float32 once loaded (what the backend will hold). */
  diskBytes: number;
  loadedBytes: number;
  /** Data types of the weights, e.g. ["BF16"]. */
  dtypes: string[];
  /** Tensors in the files that the model does not use (reported, then skipped). */
  unused: string[];
  /** The `tokenizer.json` file, when one was given. */
  tokenizer: ModelFile | null;
}

async function readJson(f: ModelFile): Promise<unknown> {
  const bytes = await f.read(0, f.size);
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new ModelError(f.name, `is not valid JSON (${(e as Error).message.slice(0, 80)})`);
  }
}

/** The header of one safetensors file, read from its first bytes only. */
async function readHeader(f: ModelFile): Promise<SafetensorsEntry[]> {
  if (f.size < 8) throw new ModelError(f.name, `is ${f.size} bytes; a safetensors file starts with an 8-byte header length`);
  const head = await f.read(0, 8);
  const n = Number(new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true));
  if (8 + n > f.size) throw new ModelError(f.name, `the header claims ${n} bytes but the file has only ${f.size - 8} after its length: the file is truncated or not a safetensors file`);
  try {
    return parseSafetensorsHeader(await f.read(0, 8 + n), f.size, f.name).entries;
  } catch (e) {
    if (e instanceof ImportError) throw new ModelError(f.name, e.message.replace(`${f.name}: `, '').replace(`${f.name}, `, ''));
    throw e;
  }
}

/**
 * Reads a checkpoint's `config.json`, its safetensors headers (one file, or the shards a
 * `model.safetensors.index.json` names) and notes its `tokenizer.json`, and checks that every
 * tensor the config implies is present with the right shape and a supported dtype. Reads no
 * weights: the architecture, parameter count and memory can be shown before loading.
 */
export async function inspectCheckpoint(given: ModelFile[]): Promise<CheckpointInfo> {
  const files = given.map((f) => ({ ...f, name: base(f.name) }));
  const byName = new Map(files.map((f) => [f.name, f]));
  const cfgFile = byName.get('config.json');
  if (!cfgFile) throw new ModelError('config.json', `is missing: a checkpoint needs config.json beside its weights (given: ${files.map((f) => f.name).join(', ').slice(0, 200) || 'nothing'})`);
  const rawConfig = (await readJson(cfgFile)) as Record<string, unknown>;
  const config = parseConfig(rawConfig, 'config.json');
  let shards: ModelFile[];
  const index = byName.get('model.safetensors.index.json');
  if (index) {
    const j = (await readJson(index)) as { weight_map?: Record<string, unknown> };
    if (!j || typeof j.weight_map !== 'object' || !j.weight_map) throw new ModelError(index.name, 'has no "weight_map" object (tensor name → shard file)');
    const names = [...new Set(Object.values(j.weight_map).map(String))];
    const missing = names.filter((n) => !byName.has(n));
    if (missing.length) throw new ModelError(index.name, `names shard${missing.length > 1 ? 's' : ''} ${missing.join(', ').slice(0, 200)} that ${missing.length > 1 ? 'were' : 'was'} not given: pick the whole folder`);
    shards = names.map((n) => byName.get(n)!);
  } else {
    shards = files.filter((f) => f.name.endsWith('.safetensors'));
    if (shards.length === 0) throw new ModelError('model.safetensors', 'is missing: QK Scope reads safetensors weights (model.safetensors, or shards with model.safetensors.index.json); .bin and .pt files are not read');
    if (shards.length > 1) throw new ModelError('model.safetensors.index.json', `is missing: ${shards.length} safetensors files were given without the index that says which tensor is where`);
  }
  const found = new Map<string, { file: ModelFile; entry: SafetensorsEntry }>();
  for (const f of shards)
    for (const entry of await readHeader(f)) {
      if (found.has(entry.name)) throw new ModelError(f.name, `tensor "${entry.name.slice(0, 80)}" is also in ${found.get(entry.name)!.file.name}`);
      found.set(entry.name, { file: f, entry });
    }
  const tensors = new Map<string, { file: ModelFile; entry: SafetensorsEntry }>();
  const used = new Set<string>();
  const dtypes = new Set<string>();
  let diskBytes = 0;
  for (const t of expectedTensors(config)) {
    const name = nameVariants(t.name).find((n) => found.has(n));
    if (!name) throw new ModelError(shards.map((s) => s.name).join(' + '), `has no tensor "${t.name}" (shape ${fmtShape(t.shape)}), which a ${config.modelType} with this config.json needs`);
    const hit = found.get(name)!;
    if (fmtShape(hit.entry.shape) !== fmtShape(t.shape)) throw new ModelError(hit.file.name, `tensor "${name}" has shape ${fmtShape(hit.entry.shape)}, but config.json implies ${fmtShape(t.shape)}`);
    if (!DTYPE_NAMES[hit.entry.dtype]) throw new ModelError(hit.file.name, `tensor "${name}" is ${hit.entry.dtype.toUpperCase()}; weights must be F32, F16, BF16 or F64`);
    dtypes.add(DTYPE_NAMES[hit.entry.dtype]);
    diskBytes += hit.entry.end - hit.entry.begin;
    used.add(name);
    tensors.set(t.name, hit);
  }
  const unused = [...found.keys()].filter((n) => !used.has(n) && !isIgnorable(n) && !(config.tiedEmbeddings && n === 'lm_head.weight'));
  const parameters = parameterCount(config);
  return { config, rawConfig, tensors, files, parameters, diskBytes, loadedBytes: 4 * parameters, dtypes: [...dtypes], unused, tokenizer: byName.get('tokenizer.json') ?? null };
}

/**
 * Reads every weight as float32, one tensor slice at a time, in file order (so a sharded or
 * large file is read sequentially). `onProgress` gets the bytes read so far and the total.
 */
export async function readWeights(info: CheckpointInfo, onProgress?: (read: number, total: number) => void): Promise<Map<string, Tensor>> {
  const out = new Map<string, Tensor>();
  const order = [...info.tensors.entries()].sort((a, b) => (a[1].file.name === b[1].file.name ? a[1].entry.begin - b[1].entry.begin : a[1].file.name < b[1].file.name ? -1 : 1));
  let read = 0;
  for (const [name, { file, entry }] of order) {
    const bytes = await file.read(entry.begin, entry.end);
    const data = decode(bytes, 0, sizeOf(entry.shape), entry.dtype);
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) throw new ModelError(file.name, `tensor "${name}" holds a non-finite value (${data[i]}) at flat index ${i}`);
    }
    // A view of the slice would pin the whole read buffer; a copy keeps only this tensor.
    out.set(name, { shape: entry.shape, data: data.buffer === bytes.buffer ? data.slice() : data });
    read += entry.end - entry.begin;
    onProgress?.(read, info.diskBytes);
  }
  return out;
}
