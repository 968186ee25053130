import { useEffect, useState } from 'react';
import type { QkStore } from '../state/store';
import { openFile } from './importer';
import { openCheckpoint } from './modelLoader';

/** The files of a drop, with a dropped folder's files (one level down, as a checkpoint folder is). */
async function droppedFiles(dt: DataTransfer): Promise<File[]> {
  const out: File[] = [];
  const entries = Array.from(dt.items ?? [])
    .map((i) => (i.kind === 'file' ? i.webkitGetAsEntry?.() : null))
    .filter((x): x is FileSystemEntry => !!x);
  if (!entries.some((e) => e.isDirectory)) return Array.from(dt.files);
  for (const e of entries) {
    if (e.isFile) out.push(await new Promise<File>((res, rej) => (e as FileSystemFileEntry).file(res, rej)));
    else if (e.isDirectory) {
      const reader = (e as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
        if (!batch.length) break;
        for (const f of batch) if (f.isFile) out.push(await new Promise<File>((res, rej) => (f as FileSystemFileEntry).file(res, rej)));
      }
    }
  }
  return out;
}

/**
 * Lets a file be dropped anywhere on the page: while one is dragged over, an overlay says what
 * happens; dropping opens it (the first file if several are dropped). Nothing is uploaded.
 */
export function DropZone({ store }: { store: QkStore }) {
  const [over, setOver] = useState(false);
  useEffect(() => {
    let depth = 0;
    const hasFiles = (e: DragEvent) => !!e.dataTransfer && Array.from(e.dataTransfer.types).includes('Files');
    const enter = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      depth++;
      setOver(true);
    };
    const leave = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) setOver(false);
    };
    const overFn = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault(); // allows the drop
      e.dataTransfer!.dropEffect = 'copy';
    };
    const drop = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth = 0;
      setOver(false);
      const dt = e.dataTransfer!;
      void droppedFiles(dt).then((files) => {
        // A checkpoint is a folder (or its files) with config.json; anything else is one tensor file.
        if (files.some((f) => f.name === 'config.json')) void openCheckpoint(store, files);
        else if (files[0]) void openFile(store, files[0]);
      });
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragleave', leave);
    window.addEventListener('dragover', overFn);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('dragover', overFn);
      window.removeEventListener('drop', drop);
    };
  }, [store]);
  return over ? (
    <div className="drop-overlay" data-testid="drop-overlay">
      <p>Drop to open: attention or a Q/K/V dump (.npy, .npz, .safetensors, JSON), or a model's folder (config.json, safetensors, tokenizer.json). It stays on this computer.</p>
    </div>
  ) : null;
}
