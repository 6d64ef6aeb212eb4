import { Icon } from '../ui/Icon';
import { useMemo, useState } from 'preact/hooks';
import type { Run } from '../lib/api';
import { load, save } from '../lib/store';
import { ChartControls, chartOpts } from '../ui/chart/ChartControls';
import { MetricChart, type ChartRun } from '../ui/chart/MetricChart';
import { metricVersion } from '../ui/chart/data';
import { href } from '../lib/router';
import { assignColors, colorFor } from '../ui/runColors';
import { runName } from '../runs/model';

/** ChartView: a chart per metric across the experiment's runs, with eye toggles per run. */
export function ChartView({ expId, runs, query }: { expId: string; runs: Run[]; query: URLSearchParams }) {
  const opts = chartOpts(query);
  const [limit, setLimitState] = useState<number>(() => load(`chartLimit.${expId}`, 10));
  const setLimit = (n: number) => { setLimitState(n); save(`chartLimit.${expId}`, n); };
  const [hidden, setHiddenState] = useState<string[]>(() => load(`hidden.${expId}`, []));
  const setHidden = (h: string[]) => { setHiddenState(h); save(`hidden.${expId}`, h.slice(-2000)); };
  const candidates = runs.slice(0, limit);
  const visible = candidates.filter((r) => !hidden.includes(r.info.run_id));
  assignColors(candidates.map((r) => r.info.run_id));
  const color = colorFor;
  const chartRuns = (k: string): ChartRun[] => visible.map((r) => ({ id: r.info.run_id, label: runName(r), color: color(r.info.run_id), start: r.info.start_time, running: r.info.status === 'RUNNING', version: metricVersion(r, k) }));
  const keys = useMemo(() => {
    const s = new Set<string>();
    for (const r of visible) r.data.metrics?.forEach((m) => s.add(m.key));
    return [...s].sort();
  }, [visible.map((r) => r.info.run_id).join(), runs]);
  const match = (k: string) => k.toLowerCase().includes(opts.q.toLowerCase());
  const model = keys.filter((k) => !k.startsWith('system/') && match(k));
  const system = keys.filter((k) => k.startsWith('system/') && match(k));
  return (
    <div class="chart-view">
      <div class="chart-runs">
        <div class="chart-runs-head">
          <span>Runs</span>
          <select value={limit} onChange={(e) => setLimit(Number((e.target as HTMLSelectElement).value))} title="How many runs to chart">
            {[5, 10, 20, 50, 100].map((n) => <option key={n} value={n}>first {n}</option>)}
          </select>
        </div>
        <div class="chart-runs-actions">
          <button class="btn small" onClick={() => setHidden(hidden.filter((h) => !candidates.some((r) => r.info.run_id === h)))}>Show all</button>
          <button class="btn small" onClick={() => setHidden([...new Set([...hidden, ...candidates.map((r) => r.info.run_id)])])}>Hide all</button>
        </div>
        <ul>
          {candidates.map((r) => {
            const id = r.info.run_id;
            const off = hidden.includes(id);
            return (
              <li key={id} class={off ? 'off' : ''} data-run-id={id}>
                <button class="eye" title={off ? 'Show run' : 'Hide run'} aria-pressed={!off} data-action="toggle-run"
                  onClick={() => setHidden(off ? hidden.filter((h) => h !== id) : [...hidden, id])}><Icon name={off ? 'eye-off' : 'eye'} /></button>
                <span class="dot" style={{ background: color(id) }} />
                <a href={href(['experiments', expId, 'runs', id])} title={runName(r)}>{runName(r)}</a>
              </li>
            );
          })}
        </ul>
      </div>
      <div class="chart-main">
        <ChartControls opts={opts} />
        {!keys.length ? <div class="empty">No metrics logged by the shown runs.</div> : null}
        {model.length ? <h3 class="section-title">Model metrics <span class="muted">({model.length})</span></h3> : null}
        <div class="chart-grid">
          {model.map((k) => <MetricChart key={k} metric={k} runs={chartRuns(k)} xMode={opts.xMode} logY={opts.logY} smoothing={opts.smoothing} syncKey={`exp-${expId}`} />)}
        </div>
        {system.length ? <h3 class="section-title">System metrics <span class="muted">({system.length})</span></h3> : null}
        <div class="chart-grid">
          {system.map((k) => <MetricChart key={k} metric={k} runs={chartRuns(k)} xMode={opts.xMode} logY={opts.logY} smoothing={opts.smoothing} syncKey={`exp-${expId}`} />)}
        </div>
      </div>
    </div>
  );
}
