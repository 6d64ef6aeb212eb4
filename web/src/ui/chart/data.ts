import { ApiError, Run, getPath, num } from '../../lib/api';
import type { Metric } from '../../lib/api';
import { metricHistory, metricHistoryBulk } from './api';
import type { Series, XMode } from './Chart';

/** The x axis a request is about: steps, or timestamps in milliseconds. */
export type XKind = 'step' | 'timestamp';

export const xKindOf = (m: XMode): XKind => (m === 'step' ? 'step' : 'timestamp');

/** What a chart holds for one metric of some runs. */
export interface Loaded {
  byRun: Map<string, Metric[]>;
  /** Points each run has in the requested range (more than held when downsampled). */
  total: Map<string, number>;
  /** Some run's points were thinned by the server. */
  downsampled: boolean;
  /** Every point of every run is held, so zooming needs no request. */
  full: boolean;
}

/** Points a chart asks for per run; the server keeps each bucket's min and max. */
export const MAX_POINTS = 2000;

// undefined: not tried yet; false: the server answered 404 (an older mltrack or MLflow).
let downsampledWorks: boolean | undefined;
let bulkWorks = true;

function group(metrics: Metric[] | undefined, fallbackRun: string): Map<string, Metric[]> {
  const byRun = new Map<string, Metric[]>();
  for (const m of metrics || []) {
    const id = m.run_id || fallbackRun;
    let a = byRun.get(id);
    if (!a) byRun.set(id, (a = []));
    a.push(m);
  }
  return byRun;
}

async function downsampled(runIds: string[], key: string, x: XKind, start?: number, end?: number): Promise<Loaded> {
  const out: Loaded = { byRun: new Map(), total: new Map(), downsampled: false, full: true };
  for (let i = 0; i < runIds.length; i += 100) {
    const chunk = runIds.slice(i, i + 100);
    const r = await getPath<{ metrics?: Metric[]; total_points?: Record<string, number>; downsampled?: boolean }>(
      'ajax-api/2.0/mltrack/metrics/get-history-downsampled',
      { run_ids: chunk, metric_key: key, max_points: MAX_POINTS, x, start: start === undefined ? undefined : Math.floor(start), end: end === undefined ? undefined : Math.ceil(end) },
    );
    group(r.metrics, chunk[0]).forEach((v, k) => out.byRun.set(k, v));
    for (const id of chunk) out.total.set(id, r.total_points?.[id] ?? out.byRun.get(id)?.length ?? 0);
    if (r.downsampled) {
      out.downsampled = true;
      out.full = false;
    }
  }
  return out;
}

/**
 * loadMetric fetches one metric of some runs, optionally only the range
 * [start, end] of steps or millisecond timestamps. It uses mltrack's
 * downsampling endpoint when the server has it; otherwise one run's full
 * history (paged get-history), or MLflow's sampled bulk-interval endpoint
 * for several runs.
 */
export async function loadMetric(runIds: string[], key: string, x: XKind, start?: number, end?: number): Promise<Loaded> {
  if (downsampledWorks !== false && runIds.length) {
    try {
      const r = await downsampled(runIds, key, x, start, end);
      downsampledWorks = true;
      return r;
    } catch (e) {
      // 404 from a server without the endpoint; an HTML page (200) from one whose UI catch-all answers it.
      if (e instanceof ApiError && (e.status === 404 || e.status === 405 || e.status === 501 || e.code === 'BAD_RESPONSE')) downsampledWorks = false;
      else throw e;
    }
  }
  if (runIds.length > 1 && bulkWorks) {
    try {
      const ranged = x === 'step' && start !== undefined && end !== undefined;
      const byRun = await metricHistoryBulk(runIds, key, 2500, ranged ? Math.floor(start) : undefined, ranged ? Math.ceil(end) : undefined);
      const total = new Map<string, number>();
      let sampled = false;
      for (const id of runIds) {
        const n = byRun.get(id)?.length || 0;
        total.set(id, n);
        if (n >= 2500) sampled = true;
      }
      return { byRun, total, downsampled: sampled, full: !sampled };
    } catch (e) {
      if (e instanceof ApiError && (e.status === 404 || e.status === 405 || e.status === 501)) bulkWorks = false;
      else throw e;
    }
  }
  const byRun = new Map<string, Metric[]>();
  await Promise.all(runIds.map(async (id) => byRun.set(id, await metricHistory(id, key))));
  const total = new Map<string, number>();
  byRun.forEach((v, k) => total.set(k, v.length));
  return { byRun, total, downsampled: false, full: true };
}

/** toXY turns a metric history into chart coordinates for the chosen x axis. */
export function toXY(h: Metric[], xMode: XMode, runStart?: number): { x: number[]; y: (number | null)[] } {
  const x: number[] = new Array(h.length);
  const y: (number | null)[] = new Array(h.length);
  let t0 = runStart || 0;
  if (!t0) {
    t0 = Infinity;
    for (let i = 0; i < Math.min(h.length, 1000); i++) t0 = Math.min(t0, h[i].timestamp);
  }
  for (let i = 0; i < h.length; i++) {
    const m = h[i];
    x[i] = xMode === 'step' ? m.step : xMode === 'wall' ? m.timestamp / 1000 : (m.timestamp - t0) / 1000;
    const v = m.value;
    y[i] = typeof v === 'number' ? v : num(v);
  }
  return { x, y };
}

/** sortXY orders points by x (histories come by step; time axes may differ). */
export function sortXY(x: number[], y: (number | null)[]): [number[], (number | null)[]] {
  let ok = true;
  for (let i = 1; i < x.length; i++) if (x[i] < x[i - 1]) { ok = false; break; }
  if (ok) return [x, y];
  const idx = x.map((_, i) => i).sort((a, b) => x[a] - x[b]);
  return [idx.map((i) => x[i]), idx.map((i) => y[i])];
}

/** clip keeps the points inside [lo, hi] plus one neighbour each side, so lines reach the edges. */
export function clip(x: number[], y: (number | null)[], lo: number, hi: number): [number[], (number | null)[]] {
  let a = 0;
  while (a < x.length && x[a] < lo) a++;
  let b = x.length;
  while (b > a && x[b - 1] > hi) b--;
  a = Math.max(0, a - 1);
  b = Math.min(x.length, b + 1);
  return [x.slice(a, b), y.slice(a, b)];
}

/**
 * decimate thins a sorted series to about `buckets` buckets, keeping the
 * first, minimum, maximum and last point of each, so spikes stay visible.
 */
export function decimate(x: number[], y: (number | null)[], buckets: number): [number[], (number | null)[]] {
  if (x.length <= buckets * 2) return [x, y];
  const lo = x[0], hi = x[x.length - 1];
  const width = (hi - lo) / buckets || 1;
  const ox: number[] = [], oy: (number | null)[] = [];
  let i = 0;
  while (i < x.length) {
    const b = Math.min(buckets - 1, Math.floor((x[i] - lo) / width));
    const first = i;
    let mn = -1, mx = -1;
    while (i < x.length && Math.min(buckets - 1, Math.floor((x[i] - lo) / width)) === b) {
      const v = y[i];
      if (v !== null) {
        if (mn < 0 || v < (y[mn] as number)) mn = i;
        if (mx < 0 || v > (y[mx] as number)) mx = i;
      }
      i++;
    }
    const last = i - 1;
    const keep = [...new Set([first, mn, mx, last].filter((k) => k >= 0))].sort((p, q) => p - q);
    for (const k of keep) { ox.push(x[k]); oy.push(y[k]); }
  }
  return [ox, oy];
}

export interface SeriesRun { id: string; label: string; color: string; start?: number }

/** seriesFor builds the drawn series: sorted, clipped to a zoom range, thinned for drawing. */
export function seriesFor(runs: SeriesRun[], hist: Map<string, Metric[]>, xMode: XMode, range?: [number, number] | null): Series[] {
  const out: Series[] = [];
  for (const r of runs) {
    const h = hist.get(r.id);
    if (!h || !h.length) continue;
    const xy = toXY(h, xMode, r.start);
    let [x, y] = sortXY(xy.x, xy.y);
    if (range) [x, y] = clip(x, y, range[0], range[1]);
    [x, y] = decimate(x, y, MAX_POINTS);
    out.push({ id: r.id, label: r.label, color: r.color, x, y });
  }
  return out;
}

/** metricVersion identifies a run's latest value of a metric; it changes when the run logs more. */
export function metricVersion(run: Run, key: string): string {
  const m = run.data.metrics?.find((x) => x.key === key);
  return m ? `${m.step}:${m.timestamp}:${m.value}` : '';
}
