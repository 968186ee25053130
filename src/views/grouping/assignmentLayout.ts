/** Inputs of the grouped-head assignment diagram. */
export interface AssignmentInput {
  /** Nominal query-head slots (the source's H). */
  slots: number;
  /** Method query head of each slot, or -1 for an inactive slot (SQA). */
  slotHead: number[];
  /** KV head of each method query head. */
  mapping: number[];
  kvHeads: number;
  width: number;
}

export interface AssignmentLayout {
  height: number;
  rowH: number;
  qx: number;
  kvx: number;
  /** Centre y of each query slot. */
  qy: number[];
  /** Centre y of each KV head. */
  kvy: number[];
  kvH: number;
  /** One link per active slot: from slot to KV head. */
  links: { slot: number; kv: number; y0: number; y1: number }[];
  /** x where the norm bars start and their largest length. */
  barX: number;
  barW: number;
}

/**
 * Places query slots on the left and KV heads on the right, evenly spread over the same height,
 * and one link per active query slot to its KV head. Pure, so it is tested in Node.
 */
export function layoutAssignment(a: AssignmentInput): AssignmentLayout {
  const rowH = a.slots > 24 ? 14 : a.slots > 12 ? 18 : 24;
  const top = 26;
  const height = top + a.slots * rowH + 12;
  const qx = 70;
  const kvx = Math.max(qx + 120, Math.round(a.width * 0.42));
  const qy = Array.from({ length: a.slots }, (_, i) => top + (i + 0.5) * rowH);
  const span = a.slots * rowH;
  const kvH = Math.max(12, Math.min(40, span / a.kvHeads - 6));
  const kvy = Array.from({ length: a.kvHeads }, (_, g) => top + ((g + 0.5) * span) / a.kvHeads);
  const links = a.slotHead.flatMap((m, slot) => (m < 0 ? [] : [{ slot, kv: a.mapping[m], y0: qy[slot], y1: kvy[a.mapping[m]] }]));
  const barX = kvx + 132;
  const barW = Math.max(60, a.width - barX - 110);
  return { height, rowH, qx, kvx, qy, kvy, kvH, links, barX, barW };
}

/** A smooth link from (x0, y0) to (x1, y1), horizontal at both ends. */
export function linkPath(x0: number, y0: number, x1: number, y1: number): string {
  const mx = (x0 + x1) / 2;
  return `M${x0},${y0} C${mx},${y0} ${mx},${y1} ${x1},${y1}`;
}
