/**
 * Names of the colour maps: perceptually uniform, colour-blind-safe sequential maps, and
 * diverging maps for signed values. Kept apart from the d3 interpolators so that the URL codec
 * (loaded before anything else) does not pull d3 in.
 */
export const SEQUENTIAL_MAPS = ['viridis', 'magma', 'cividis'] as const;
export const DIVERGING_MAPS = ['RdBu', 'PuOr'] as const;
export type SequentialMap = (typeof SEQUENTIAL_MAPS)[number];
export type DivergingMap = (typeof DIVERGING_MAPS)[number];
export type ColorMapName = SequentialMap | DivergingMap;
