import { createContext, useContext, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { QkState, QkStore } from './store';

const Ctx = createContext<QkStore | null>(null);

/** Hands one visualizer instance's store down to its views. */
export function QkProvider({ store, children }: { store: QkStore; children: ReactNode }) {
  return <Ctx.Provider value={store}>{children}</Ctx.Provider>;
}

/** The store of the enclosing {@link QkProvider}. */
export function useQkStore(): QkStore {
  const s = useContext(Ctx);
  if (!s) throw new Error('useQkStore must be used inside <QkProvider>');
  return s;
}

/** Subscribes a component to a slice of the state (re-renders only when the slice changes). */
export function useQk<T>(selector: (s: QkState) => T): T {
  return useStore(useQkStore(), selector);
}
