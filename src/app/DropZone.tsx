import { useEffect, useState } from 'react';
import type { QkStore } from '../state/store';
import { openFile } from './importer';

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
      const f = e.dataTransfer!.files[0];
      if (f) void openFile(store, f);
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
      <p>Drop to open: attention or a Q/K/V dump (.npy, .npz, .safetensors, JSON). It stays on this computer.</p>
    </div>
  ) : null;
}
