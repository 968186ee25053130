/**
 * Window events the page keys send to the views that own the state they change (the views may
 * not import the app): the heatmap's zoom (detail: a factor, or 0 for the whole map) and a step
 * of a lesson or of the step-through (detail: +1 or −1).
 */
export const ZOOM_EVENT = 'qk-zoom';
export const STEP_EVENT = 'qk-step';
