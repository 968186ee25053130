/** Formats a value for tooltips: exact enough to compare, short enough to read. */
export function fmtValue(x: number): string {
  if (x === -Infinity) return 'masked';
  if (Number.isNaN(x)) return 'NaN';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a < 1e-4 || a >= 1e5) return x.toExponential(4);
  return x.toPrecision(6);
}

/** A token shown in a label: whitespace made visible, long tokens shortened. Text only — never HTML. */
export function showToken(t: string, max = 14): string {
  const v = t.replace(/\n/g, '⏎').replace(/\t/g, '⇥').replace(/ /g, '·');
  return v.length > max ? `${v.slice(0, max - 1)}…` : v;
}
