// Metric histories for charts.
import { get } from '../../lib/api';
import type { Metric } from '../../lib/api';

/**
 * Full history of one metric of one run. mltrack answers the whole history
 * to a request without max_results; MLflow answers a page token instead, so
 * we go on paging from it. `maxPoints` bounds what we hold.
 */
export async function metricHistory(runId: string, key: string, maxPoints = 2_000_000): Promise<Metric[]> {
  let out: Metric[] = [];
  let r = await get<{ metrics?: Metric[]; next_page_token?: string }>('metrics/get-history', { run_id: runId, metric_key: key });
  if (r.metrics) out = r.metrics;
  let page_token = r.next_page_token;
  while (page_token && out.length < maxPoints) {
    r = await get<{ metrics?: Metric[]; next_page_token?: string }>('metrics/get-history', {
      run_id: runId, metric_key: key, max_results: 25000, page_token,
    });
    if (r.metrics) for (const m of r.metrics) out.push(m);
    page_token = r.next_page_token;
  }
  return out;
}

/** Histories of one metric for up to 100 runs at once, sampled by the server. */
export async function metricHistoryBulk(runIds: string[], key: string, maxResults = 2500, startStep?: number, endStep?: number): Promise<Map<string, Metric[]>> {
  const byRun = new Map<string, Metric[]>();
  for (let i = 0; i < runIds.length; i += 100) {
    const chunk = runIds.slice(i, i + 100);
    const r = await get<{ metrics?: Metric[] }>('metrics/get-history-bulk-interval', {
      run_ids: chunk, metric_key: key, max_results: maxResults, start_step: startStep, end_step: endStep,
    });
    for (const m of r.metrics || []) {
      const id = m.run_id || chunk[0];
      let arr = byRun.get(id);
      if (!arr) byRun.set(id, (arr = []));
      arr.push(m);
    }
  }
  return byRun;
}
