// One colour per run, the same on every page, after a reload and when new
// runs arrive.
//
// The palette is colour-blind safe as far as twelve categories can be: the
// Okabe–Ito colours (without yellow, unreadable on white) and the darker
// ones of Paul Tol's "muted" scheme, ordered so that neighbours differ in
// hue and lightness. A run's first choice is a hash of its id; a page that
// shows runs assigns each new run the least-used colour among its
// neighbours in the page's order, starting from that first choice, so runs
// shown together rarely share a colour. Once assigned, a run keeps its
// colour: the assignments live in local storage.
import { load, save } from '../lib/store';

export const PALETTE = [
  '#0072B2', // blue
  '#E69F00', // orange
  '#009E73', // bluish green
  '#D55E00', // vermillion
  '#56B4E9', // sky blue
  '#CC79A7', // reddish purple
  '#332288', // indigo
  '#999933', // olive
  '#882255', // wine
  '#44AA99', // teal
  '#AA4499', // purple
  '#4D4D4D', // dark grey
];

const KEY = 'runColors';
const MAX_STORED = 5000;
/** Runs assigned per call: beyond these (a table of thousands) a run shows its first choice until a page with fewer runs assigns it. */
const MAX_ASSIGN = 1000;
/** Neighbours looked at on each side when choosing a colour. */
const WINDOW = 6;

let assigned: Map<string, number> | undefined;
let saveTimer: ReturnType<typeof setTimeout> | undefined;

function table(): Map<string, number> {
  if (!assigned) {
    const raw = load<Record<string, number>>(KEY, {});
    assigned = new Map(Object.entries(raw).filter(([, v]) => Number.isInteger(v) && v >= 0 && v < PALETTE.length));
  }
  return assigned;
}

function persist() {
  if (saveTimer) return;
  saveTimer = setTimeout(() => {
    saveTimer = undefined;
    const t = table();
    while (t.size > MAX_STORED) t.delete(t.keys().next().value as string);
    save(KEY, Object.fromEntries(t));
  }, 200);
}

/** firstChoice is a run's colour slot before any neighbour is considered (FNV-1a of its id). */
export function firstChoice(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % PALETTE.length;
}

/**
 * assignColors gives the runs of a page, in the page's order, their colours:
 * runs that have one keep it; each other run takes the colour least used by
 * its neighbours, trying its first choice first.
 */
export function assignColors(ids: string[]) {
  const t = table();
  const n = Math.min(ids.length, MAX_ASSIGN);
  let changed = false;
  for (let i = 0; i < n; i++) {
    const id = ids[i];
    if (t.has(id)) continue;
    const uses = new Array(PALETTE.length).fill(0);
    for (let j = Math.max(0, i - WINDOW); j < Math.min(n, i + WINDOW + 1); j++) {
      const s = t.get(ids[j]);
      if (j !== i && s !== undefined) uses[s]++;
    }
    const first = firstChoice(id);
    let best = first;
    for (let k = 0; k < PALETTE.length; k++) {
      const s = (first + k * 5) % PALETTE.length; // 5 is prime to 12: every slot once
      if (uses[s] < uses[best]) best = s;
    }
    t.set(id, best);
    changed = true;
  }
  if (changed) persist();
}

/** colorFor is a run's colour: its assigned one, or its first choice. */
export function colorFor(id: string): string {
  return PALETTE[table().get(id) ?? firstChoice(id)];
}
