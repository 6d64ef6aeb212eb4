import { useState } from 'preact/hooks';
import { num } from '../lib/api';
import type { Run } from '../lib/api';
import { getRun } from '../runs/api';
import { href } from '../lib/router';
import { fmtDuration, fmtNum, fmtTime, tag } from '../lib/format';
import { ErrorBox, Spinner, StatusBadge, useAsync, usePoll } from '../ui/widgets';
import { ChartControls, chartOpts } from '../ui/chart/ChartControls';
import { MetricChart } from '../ui/chart/MetricChart';
import { ParallelCoords, type PCLine } from './ParallelCoords';
import { CompareCols } from './CompareCols';
import { CompareArtifacts, CompareModels } from './CompareSides';
import { metricVersion } from '../ui/chart/data';
import { assignColors, colorFor } from '../ui/runColors';
import { GIT, runName } from '../runs/model';

function valueOf(r: Run, kind: 'param' | 'metric' | 'tag', key: string): string | undefined {
  if (kind === 'param') return r.data.params?.find((p) => p.key === key)?.value;
  if (kind === 'tag') return tag(r.data.tags, key);
  const m = r.data.metrics?.find((x) => x.key === key);
  return m === undefined ? undefined : fmtNum(num(m.value) ?? String(m.value));
}

/** lowerIsBetter guesses a metric's direction from its name. */
export function lowerIsBetter(key: string): boolean {
  return /loss|err|mse|mae|rmse|perplexity|latency|time|duration|memory|wer|cer/i.test(key.replace(/^system\//, ''));
}

function CompareTable({ runs, kind, keys, onlyDiff }: { runs: Run[]; kind: 'param' | 'metric' | 'tag'; keys: string[]; onlyDiff: boolean }) {
  const rows = keys.map((k) => {
    const vals = runs.map((r) => valueOf(r, kind, k));
    const differs = new Set(vals.map((v) => v ?? '\u0000')).size > 1;
    return { k, vals, differs };
  }).filter((r) => !onlyDiff || r.differs);
  if (!rows.length) return <div class="muted small-pad">{onlyDiff ? 'No differences.' : 'None.'}</div>;
  // For metrics, mark the best value per row: the lowest for losses and errors, else the highest.
  return (
    <table class="grid-table compare-table">
      <CompareCols n={runs.length} />
      <tbody>
        {rows.map(({ k, vals, differs }) => {
          const nums = kind === 'metric' && !k.startsWith('system/') ? vals.map((v) => (v === undefined ? NaN : Number(v))) : [];
          const ok = nums.filter((n) => !Number.isNaN(n));
          const max = ok.length ? (lowerIsBetter(k) ? Math.min(...ok) : Math.max(...ok)) : NaN;
          return (
            <tr key={k} class={differs ? 'differs' : ''} data-key={k}>
              <th title={k}>{k}</th>
              {vals.map((v, i) => <td key={i} class={`mono${kind === 'metric' && nums[i] === max && differs ? ' best' : ''}`}>{v ?? <span class="muted">–</span>}</td>)}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function ComparePage({ query }: { query: URLSearchParams }) {
  const ids = (query.get('runs') || '').split(',').filter(Boolean);
  const { data: runs, error, reload } = useAsync(() => Promise.all(ids.map(getRun)), [ids.join()]);
  usePoll(reload, 1000, !!runs?.some((r) => r.info.status === 'RUNNING'));
  const [onlyDiff, setOnlyDiff] = useState(false);
  const opts = chartOpts(query);
  if (error) return <div class="page"><ErrorBox error={error} /></div>;
  if (!runs) return <div class="page"><Spinner /></div>;
  const uniq = (xs: string[]) => [...new Set(xs)].sort();
  const params = uniq(runs.flatMap((r) => (r.data.params || []).map((p) => p.key)));
  const metrics = uniq(runs.flatMap((r) => (r.data.metrics || []).map((m) => m.key)));
  const tagKeys = uniq(runs.flatMap((r) => (r.data.tags || []).map((t) => t.key))).filter((k) => !k.startsWith('mlflow.') || k === GIT);
  assignColors(runs.map((r) => r.info.run_id));
  const chartRuns = (k: string) => runs.map((r) => ({ id: r.info.run_id, label: runName(r), color: colorFor(r.info.run_id), start: r.info.start_time, running: r.info.status === 'RUNNING', version: metricVersion(r, k) }));
  const pcLines: PCLine[] = runs.map((r) => ({
    id: r.info.run_id, label: runName(r), color: colorFor(r.info.run_id),
    values: Object.fromEntries([
      ...(r.data.params || []).map((p) => ['param:' + p.key, p.value]),
      ...(r.data.metrics || []).map((m) => ['metric:' + m.key, num(m.value) ?? undefined]),
    ]),
  }));
  const differing = params.filter((p) => new Set(runs.map((r) => valueOf(r, 'param', p) ?? '\u0000')).size > 1);
  const modelMetricKeys = metrics.filter((m) => !m.startsWith('system/'));
  const modelMetrics = metrics.filter((m) => !m.startsWith('system/') && m.toLowerCase().includes(opts.q.toLowerCase()));
  const exp = query.get('exp') || runs[0]?.info.experiment_id;
  return (
    <div class="page compare-page">
      <div class="crumbs">{exp ? <a href={href(['experiments', exp])}>← Back to runs</a> : null}</div>
      <div class="page-head">
        <h1>Comparing {runs.length} runs</h1>
        <div class="spacer" />
        <label class="check"><input type="checkbox" name="only-diff" checked={onlyDiff} onChange={(e) => setOnlyDiff((e.target as HTMLInputElement).checked)} /> Only differences</label>
      </div>
      <div class="card">
        <table class="grid-table compare-table">
          <CompareCols n={runs.length} />
          <thead>
            <tr><th />{runs.map((r) => (
              <th key={r.info.run_id}><span class="dot" style={{ background: colorFor(r.info.run_id) }} /><a href={href(['experiments', r.info.experiment_id, 'runs', r.info.run_id])}>{runName(r)}</a></th>
            ))}</tr>
          </thead>
          <tbody>
            <tr><th>Status</th>{runs.map((r) => <td key={r.info.run_id}><StatusBadge status={r.info.status} /></td>)}</tr>
            <tr><th>Started</th>{runs.map((r) => <td key={r.info.run_id}>{fmtTime(r.info.start_time)}</td>)}</tr>
            <tr><th>Duration</th>{runs.map((r) => <td key={r.info.run_id}>{fmtDuration(r.info.start_time, r.info.end_time, r.info.status === 'RUNNING')}</td>)}</tr>
            <tr><th>User</th>{runs.map((r) => <td key={r.info.run_id}>{r.info.user_id || tag(r.data.tags, 'mlflow.user') || '–'}</td>)}</tr>
            <tr><th>Git commit</th>{runs.map((r) => <td key={r.info.run_id} class="mono small">{tag(r.data.tags, GIT)?.slice(0, 12) || '–'}</td>)}</tr>
          </tbody>
        </table>
      </div>
      <h3 class="section-title">Parameters <span class="muted">({params.length})</span></h3>
      <div class="card"><CompareTable runs={runs} kind="param" keys={params} onlyDiff={onlyDiff} /></div>
      <h3 class="section-title">Metrics <span class="muted">({metrics.length})</span></h3>
      <div class="card"><CompareTable runs={runs} kind="metric" keys={metrics} onlyDiff={onlyDiff} /></div>
      <h3 class="section-title">Tags</h3>
      <div class="card"><CompareTable runs={runs} kind="tag" keys={tagKeys} onlyDiff={onlyDiff} /></div>
      <h3 class="section-title">Parameters against a metric</h3>
      <div class="card"><ParallelCoords lines={pcLines} params={params} metrics={[...modelMetricKeys, ...metrics.filter((m) => m.startsWith('system/'))]} defaultParams={differing.slice(0, 8)} /></div>
      <h3 class="section-title">Models</h3>
      <div class="card"><CompareModels runs={runs} /></div>
      <h3 class="section-title">Artifacts</h3>
      <div class="card"><CompareArtifacts runs={runs} /></div>
      <h3 class="section-title">Metric charts</h3>
      <ChartControls opts={opts} />
      <div class="chart-grid">
        {modelMetrics.map((k) => <MetricChart key={k} metric={k} runs={chartRuns(k)} xMode={opts.xMode} logY={opts.logY} smoothing={opts.smoothing} legend syncKey="compare" />)}
      </div>
    </div>
  );
}
