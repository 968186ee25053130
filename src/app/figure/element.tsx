import { createRoot, type Root } from 'react-dom/client';
import css from '../app.css?inline';
import { AttentionFigure, FIGURE_VIEWS, type AttentionFigureProps, type FigureView } from './AttentionFigure';
import { SEQUENTIAL_MAPS, type SequentialMap } from '../../core/colormapNames';

/**
 * `<qk-scope-figure>`: a QK Scope view as a custom element (issue 8), for pages without React.
 *
 * Attributes: `src` (a file to fetch: .npy, .npz, .safetensors or JSON), `filename`, `view`
 * (heatmap, grid, tokens, stats, layers), `layer`, `head`, `lock` ("q" or "q,k"), `colormap`
 * (viridis, magma, cividis), `height`. Or set the `data` property to the bytes, JSON text or a
 * parsed object. Each element renders into its own shadow root with its own store, so several on
 * one page keep separate state.
 */
export class QkScopeFigure extends HTMLElement {
  static observedAttributes = ['src', 'filename', 'view', 'layer', 'head', 'lock', 'colormap', 'height'];
  private root: Root | null = null;
  private mount: HTMLDivElement | null = null;
  private loaded: AttentionFigureProps['data'] = null;
  private fetchError: string | null = null;

  /** The data to show (bytes, JSON text or a parsed object); setting it re-renders. */
  set data(d: AttentionFigureProps['data']) {
    this.loaded = d;
    this.render();
  }
  get data(): AttentionFigureProps['data'] {
    return this.loaded;
  }

  connectedCallback(): void {
    if (!this.mount) {
      const shadow = this.shadowRoot ?? this.attachShadow({ mode: 'open' });
      const style = document.createElement('style');
      // The app's stylesheet, with its page-level variables scoped to this element.
      style.textContent = `${css.replace(/:root\b/g, ':host')}\n:host { display: block; }`;
      this.mount = document.createElement('div');
      shadow.append(style, this.mount);
      this.root = createRoot(this.mount);
    }
    this.render();
  }

  disconnectedCallback(): void {
    this.root?.unmount();
    this.root = null;
    this.mount = null;
  }

  attributeChangedCallback(name: string, old: string | null, value: string | null): void {
    if (name === 'src' && value && value !== old) void this.fetchSrc(value);
    else this.render();
  }

  private async fetchSrc(src: string): Promise<void> {
    try {
      const r = await fetch(src);
      if (!r.ok) throw new Error(`${src} could not be fetched: HTTP ${r.status}`);
      this.fetchError = null;
      this.loaded = new Uint8Array(await r.arrayBuffer());
    } catch (e) {
      this.fetchError = (e as Error).message;
      this.loaded = null;
    }
    this.render();
  }

  private render(): void {
    if (!this.root) return;
    const int = (n: string) => {
      const v = this.getAttribute(n);
      return v !== null && /^\d+$/.test(v) ? Number(v) : undefined;
    };
    const view = this.getAttribute('view');
    const cmap = this.getAttribute('colormap');
    const lock = /^(\d+)(?:,(\d+))?$/.exec(this.getAttribute('lock') ?? '');
    const filename = this.getAttribute('filename') ?? this.getAttribute('src')?.split(/[?#]/)[0].split('/').pop() ?? 'data';
    if (this.fetchError) {
      this.root.render(<p role="alert">{this.fetchError}</p>);
      return;
    }
    this.root.render(
      <AttentionFigure
        data={this.loaded}
        filename={filename}
        view={(FIGURE_VIEWS as readonly string[]).includes(view ?? '') ? (view as FigureView) : 'heatmap'}
        layer={int('layer')}
        head={int('head')}
        lock={lock ? { q: Number(lock[1]), k: lock[2] === undefined ? null : Number(lock[2]) } : null}
        colormap={(SEQUENTIAL_MAPS as readonly string[]).includes(cmap ?? '') ? (cmap as SequentialMap) : undefined}
        height={int('height')}
      />,
    );
  }
}

/** Registers `<qk-scope-figure>` (once; later calls do nothing). */
export function defineQkScopeFigure(name = 'qk-scope-figure'): void {
  if (typeof customElements !== 'undefined' && !customElements.get(name)) customElements.define(name, QkScopeFigure);
}

defineQkScopeFigure();
