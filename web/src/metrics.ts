import * as api from './api';
import type { Metric } from './api';
import type { Series, XMode } from './components/Chart';

/** toXY turns a metric history into chart coordinates for the chosen x axis. */
export function toXY(h: Metric[], xMode: XMode, runStart?: number): { x: number[]; y: (number | null)[] } {
  const x: number[] = new Array(h.length);
  const y: (number | null)[] = new Array(h.length);
  const t0 = runStart || (h.length ? Math.min(...h.slice(0, 1000).map((m) => m.timestamp)) : 0);
  for (let i = 0; i < h.length; i++) {
    const m = h[i];
    x[i] = xMode === 'step' ? m.step : xMode === 'wall' ? m.timestamp / 1000 : (m.timestamp - t0) / 1000;
    y[i] = api.num(m.value);
  }
  return { x, y };
}

let bulkWorks = true;

/**
 * histories loads one metric for several runs. One run: its full history.
 * Several runs: one sampled bulk request per 100 runs, falling back to one
 * full request per run when the server lacks get-history-bulk-interval.
 */
export async function histories(runIds: string[], key: string): Promise<Map<string, Metric[]>> {
  if (runIds.length > 1 && bulkWorks) {
    try {
      return await api.metricHistoryBulk(runIds, key);
    } catch (e) {
      if (e instanceof api.ApiError && (e.status === 404 || e.status === 405 || e.status === 501)) bulkWorks = false;
      else throw e;
    }
  }
  const out = new Map<string, Metric[]>();
  await Promise.all(runIds.map(async (id) => out.set(id, await api.metricHistory(id, key))));
  return out;
}

export function seriesFor(runs: { id: string; label: string; color: string; start?: number }[], hist: Map<string, Metric[]>, xMode: XMode): Series[] {
  const out: Series[] = [];
  for (const r of runs) {
    const h = hist.get(r.id);
    if (!h || !h.length) continue;
    const { x, y } = toXY(h, xMode, r.start);
    out.push({ label: r.label, color: r.color, x, y });
  }
  return out;
}
