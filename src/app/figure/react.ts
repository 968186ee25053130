// The React entry of the figure library (vite.lib.config.ts, mode react): the component and the
// app's stylesheet, emitted as dist-lib/qkscope-react.css for the page to include.
import '../app.css';

export { AttentionFigure, figureSource, FIGURE_VIEWS, type AttentionFigureProps, type FigureView } from './AttentionFigure';
