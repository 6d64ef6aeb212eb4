import { useMemo, useState } from 'preact/hooks';
import * as api from '../api';
import type { Run } from '../api';
import { href } from '../router';
import { colorAt, fmtDuration, fmtNum, fmtTime, tag } from '../format';
import { ErrorBox, Spinner, StatusBadge, useAsync } from '../components/ui';
import { ChartControls, chartOpts } from '../components/ChartControls';
import { MetricChart } from '../components/MetricChart';
import { Chart } from '../components/Chart';
import { GIT, runName } from './Runs';

function valueOf(r: Run, kind: 'param' | 'metric' | 'tag', key: string): string | undefined {
  if (kind === 'param') return r.data.params?.find((p) => p.key === key)?.value;
  if (kind === 'tag') return tag(r.data.tags, key);
  const m = r.data.metrics?.find((x) => x.key === key);
  return m === undefined ? undefined : fmtNum(api.num(m.value) ?? String(m.value));
}

function CompareTable({ runs, kind, keys, onlyDiff }: { runs: Run[]; kind: 'param' | 'metric' | 'tag'; keys: string[]; onlyDiff: boolean }) {
  const rows = keys.map((k) => {
    const vals = runs.map((r) => valueOf(r, kind, k));
    const differs = new Set(vals.map((v) => v ?? '\u0000')).size > 1;
    return { k, vals, differs };
  }).filter((r) => !onlyDiff || r.differs);
  if (!rows.length) return <div class="muted small-pad">{onlyDiff ? 'No differences.' : 'None.'}</div>;
  // For metrics, mark the best (max) value per row when values are numeric.
  return (
    <table class="grid-table compare-table">
      <tbody>
        {rows.map(({ k, vals, differs }) => {
          const nums = kind === 'metric' ? vals.map((v) => (v === undefined ? NaN : Number(v))) : [];
          const max = nums.length ? Math.max(...nums.filter((n) => !Number.isNaN(n))) : NaN;
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

function Scatter({ runs, params, metrics }: { runs: Run[]; params: string[]; metrics: string[] }) {
  const numericParams = params.filter((p) => runs.every((r) => { const v = valueOf(r, 'param', p); return v === undefined || !Number.isNaN(Number(v)); }));
  const [xKey, setX] = useState(numericParams[0] || '');
  const [yKey, setY] = useState(metrics[0] || '');
  if (!numericParams.length || !metrics.length) return <div class="muted small-pad">Needs a numeric parameter and a metric.</div>;
  const pts = runs.map((r) => ({ r, x: Number(valueOf(r, 'param', xKey)), y: api.num(r.data.metrics?.find((m) => m.key === yKey)?.value ?? NaN) }))
    .filter((p) => !Number.isNaN(p.x) && p.y !== null);
  return (
    <div>
      <div class="chart-controls">
        <label>Parameter <select value={xKey} onChange={(e) => setX((e.target as HTMLSelectElement).value)}>{numericParams.map((p) => <option key={p}>{p}</option>)}</select></label>
        <label>Metric <select value={yKey} onChange={(e) => setY((e.target as HTMLSelectElement).value)}>{metrics.map((p) => <option key={p}>{p}</option>)}</select></label>
      </div>
      <div class="chart-grid one">
        {/* One series per run so each point keeps its run's colour. */}
        <ScatterChart key={xKey + yKey} title={`${yKey} vs ${xKey}`} pts={pts.map((p) => ({ x: p.x, y: p.y as number, label: runName(p.r), color: colorAt(runs.indexOf(p.r)) }))} />
      </div>
    </div>
  );
}

function ScatterChart({ title, pts }: { title: string; pts: { x: number; y: number; label: string; color: string }[] }) {
  const series = useMemo(() => pts.map((p) => ({ label: p.label, color: p.color, x: [p.x], y: [p.y] })), [pts.map((p) => `${p.x},${p.y}`).join()]);
  return <Chart title={title} series={series} height={260} />;
}

export function ComparePage({ query }: { query: URLSearchParams }) {
  const ids = (query.get('runs') || '').split(',').filter(Boolean);
  const { data: runs, error } = useAsync(() => Promise.all(ids.map(api.getRun)), [ids.join()]);
  const [onlyDiff, setOnlyDiff] = useState(false);
  const opts = chartOpts(query);
  if (error) return <div class="page"><ErrorBox error={error} /></div>;
  if (!runs) return <div class="page"><Spinner /></div>;
  const uniq = (xs: string[]) => [...new Set(xs)].sort();
  const params = uniq(runs.flatMap((r) => (r.data.params || []).map((p) => p.key)));
  const metrics = uniq(runs.flatMap((r) => (r.data.metrics || []).map((m) => m.key)));
  const tagKeys = uniq(runs.flatMap((r) => (r.data.tags || []).map((t) => t.key))).filter((k) => !k.startsWith('mlflow.') || k === GIT);
  const chartRuns = runs.map((r) => ({ id: r.info.run_id, label: runName(r), color: colorAt(runs.indexOf(r)), start: r.info.start_time, running: r.info.status === 'RUNNING' }));
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
          <thead>
            <tr><th />{runs.map((r) => (
              <th key={r.info.run_id}><span class="dot" style={{ background: colorAt(runs.indexOf(r)) }} /><a href={href(['experiments', r.info.experiment_id, 'runs', r.info.run_id])}>{runName(r)}</a></th>
            ))}</tr>
          </thead>
          <tbody>
            <tr><th>Status</th>{runs.map((r) => <td key={r.info.run_id}><StatusBadge status={r.info.status} /></td>)}</tr>
            <tr><th>Started</th>{runs.map((r) => <td key={r.info.run_id}>{fmtTime(r.info.start_time)}</td>)}</tr>
            <tr><th>Duration</th>{runs.map((r) => <td key={r.info.run_id}>{fmtDuration(r.info.start_time, r.info.end_time, r.info.status === 'RUNNING')}</td>)}</tr>
            <tr><th>Models</th>{runs.map((r) => <td key={r.info.run_id} class="mono small">{(r.outputs?.model_outputs || []).map((m) => m.model_id).join(', ') || '–'}</td>)}</tr>
          </tbody>
        </table>
      </div>
      <h3 class="section-title">Parameters <span class="muted">({params.length})</span></h3>
      <div class="card"><CompareTable runs={runs} kind="param" keys={params} onlyDiff={onlyDiff} /></div>
      <h3 class="section-title">Metrics <span class="muted">({metrics.length})</span></h3>
      <div class="card"><CompareTable runs={runs} kind="metric" keys={metrics} onlyDiff={onlyDiff} /></div>
      <h3 class="section-title">Tags</h3>
      <div class="card"><CompareTable runs={runs} kind="tag" keys={tagKeys} onlyDiff={onlyDiff} /></div>
      <h3 class="section-title">Parameter vs metric</h3>
      <div class="card"><Scatter runs={runs} params={params} metrics={metrics.filter((m) => !m.startsWith('system/'))} /></div>
      <h3 class="section-title">Metric charts</h3>
      <ChartControls opts={opts} />
      <div class="chart-grid">
        {modelMetrics.map((k) => <MetricChart key={k} metric={k} runs={chartRuns} xMode={opts.xMode} logY={opts.logY} smoothing={opts.smoothing} />)}
      </div>
    </div>
  );
}
