/**
 * Every key the page answers to, in the order the help overlay lists them (issue 8: keyboard
 * control for lecturers). The handler (useKeyboard) and the overlay read this one list.
 */
export const KEYS: { keys: string[]; what: string }[] = [
  { keys: ['?'], what: 'show or hide this list of keys' },
  { keys: ['p'], what: 'presentation mode on or off (large type, high contrast, the map alone)' },
  { keys: ['f'], what: 'full screen on or off' },
  { keys: ['s'], what: 'the step-through of this head\'s computation (QKᵀ, scale, mask, softmax, × V) on or off' },
  { keys: ['[', ']'], what: 'previous / next head' },
  { keys: ['{', '}'], what: 'previous / next layer (a model or a dump)' },
  { keys: ['←', '→', '↑', '↓'], what: 'move the locked cell (key ← →, query ↑ ↓)' },
  { keys: ['Enter'], what: 'lock the cell under the pointer, or unlock' },
  { keys: ['Esc'], what: 'unlock; close this list' },
  { keys: ['+', '-', '0'], what: 'zoom the heatmap in / out / back to the whole map' },
  { keys: ['PageDown', 'n'], what: 'next step of a lesson or of the step-through (a presenter clicker sends PageDown)' },
  { keys: ['PageUp', 'b'], what: 'previous step' },
];

export { STEP_EVENT, ZOOM_EVENT } from '../ui/events';
