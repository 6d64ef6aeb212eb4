import { Icon } from '../ui/Icon';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Run } from '../lib/api';
import { load, save } from '../lib/store';
import { ChartControls, chartOpts } from '../ui/chart/ChartControls';
import { MetricChart, type ChartRun } from '../ui/chart/MetricChart';
import type { XMode } from '../ui/chart/Chart';
import { metricVersion } from '../ui/chart/data';
import { href, setQuery } from '../lib/router';
import { assignColors, colorFor } from '../ui/runColors';
import { runName } from '../runs/model';
import { type Layout, loadLayout, move, ordered, putInSection, saveLayout, sectionOf, sectionsOf } from './layout';

const X_MODES: [XMode, string][] = [['step', 'Step'], ['wall', 'Wall time'], ['relative', 'Relative time']];

/** ChartSettingsButton edits one chart's own log scale and x axis (a time axis or another metric). */
function ChartSettingsButton({ metric, keys, layout, setLayout, pageX }: { metric: string; keys: string[]; layout: Layout; setLayout: (l: Layout) => void; pageX: XMode }) {
  const [open, setOpen] = useState(false);
  const s = layout.charts[metric] || {};
  const set = (v: Partial<typeof s>) => setLayout({ ...layout, charts: { ...layout.charts, [metric]: { ...s, ...v } } });
  const xValue = s.x === 'metric' && s.xMetric ? `metric:${s.xMetric}` : s.x || '';
  return (
    <span class="chart-menu">
      <button class={`icon-btn tiny${s.logY || s.x ? ' toggle on' : ''}`} title="Chart settings" aria-label="Chart settings" data-action="chart-settings" onClick={() => setOpen(!open)}>⚙</button>
      {open ? (
        <div class="menu chart-settings" onMouseLeave={() => setOpen(false)}>
          <label class="check"><input type="checkbox" name="chart-log" checked={!!s.logY} onChange={(e) => set({ logY: (e.target as HTMLInputElement).checked || undefined })} /> Log scale</label>
          <label>X axis{' '}
            <select name="chart-x" value={xValue} onChange={(e) => {
              const v = (e.target as HTMLSelectElement).value;
              if (v.startsWith('metric:')) set({ x: 'metric', xMetric: v.slice(7) });
              else set({ x: (v || undefined) as XMode | undefined, xMetric: undefined });
            }}>
              <option value="">Page's ({X_MODES.find((m) => m[0] === pageX)?.[1]})</option>
              {X_MODES.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
              <optgroup label="Another metric">
                {keys.filter((k) => k !== metric).map((k) => <option key={k} value={`metric:${k}`}>{k}</option>)}
              </optgroup>
            </select>
          </label>
        </div>
      ) : null}
    </span>
  );
}

/** Arrange is the panel that chooses, orders and sections the charts, and groups runs. */
function Arrange({ keys, layout, setLayout, params, onClose }: { keys: string[]; layout: Layout; setLayout: (l: Layout) => void; params: string[]; onClose: () => void }) {
  // As the page shows them: by section, in order within each.
  const all = sectionsOf(ordered(keys, layout.order), layout).flatMap((s) => s.keys);
  const [newSection, setNewSection] = useState('');
  const names = layout.sections.map((s) => s.name);
  return (
    <div class="card arrange" data-testid="arrange-charts">
      <div class="card-head"><h3>Arrange charts</h3><div class="spacer" />
        <label class="small">Group runs by{' '}
          <select name="group-by" value={layout.groupBy || ''} onChange={(e) => setLayout({ ...layout, groupBy: (e.target as HTMLSelectElement).value || undefined })}>
            <option value="">nothing</option>
            {params.map((p) => <option key={p} value={p}>params.{p}</option>)}
          </select>
        </label>
        <button class="btn small" onClick={() => setLayout({ hidden: [], order: [], sections: [], charts: {} })}>Reset</button>
        <button class="btn small" onClick={onClose}>Done</button>
      </div>
      <div class="arrange-new">
        <input placeholder="New section name" name="section-name" value={newSection} onInput={(e) => setNewSection((e.target as HTMLInputElement).value)} />
        <span class="muted small">then pick it for metrics below</span>
      </div>
      <table class="grid-table arrange-table">
        <tbody>{all.map((k) => (
          <tr key={k} data-arrange={k}>
            <td><label class="check"><input type="checkbox" name="show-metric" checked={!layout.hidden.includes(k)}
              onChange={(e) => setLayout({ ...layout, hidden: (e.target as HTMLInputElement).checked ? layout.hidden.filter((h) => h !== k) : [...layout.hidden, k] })} /> <span class="mono">{k}</span></label></td>
            <td class="actions">
              <button class="icon-btn" title="Move up" data-action="move-up" onClick={() => setLayout({ ...layout, order: move(all, k, -1) })}>↑</button>
              <button class="icon-btn" title="Move down" data-action="move-down" onClick={() => setLayout({ ...layout, order: move(all, k, 1) })}>↓</button>
              <select name="section" value={sectionOf(layout, k) || ''} onChange={(e) => setLayout(putInSection(layout, k, (e.target as HTMLSelectElement).value))}>
                <option value="">{k.startsWith('system/') ? 'System metrics' : 'Model metrics'}</option>
                {[...new Set([...names, ...(newSection.trim() ? [newSection.trim()] : [])])].map((n) => <option key={n} value={n}>{n}</option>)}
              </select>
            </td>
          </tr>
        ))}</tbody>
      </table>
    </div>
  );
}

/**
 * ChartView: a chart per metric across the experiment's runs, with eye
 * toggles per run, arranged as the user chose (saved per experiment).
 */
export function ChartView({ expId, runs, query }: { expId: string; runs: Run[]; query: URLSearchParams }) {
  const opts = chartOpts(query);
  const [limit, setLimitState] = useState<number>(() => load(`chartLimit.${expId}`, 10));
  const setLimit = (n: number) => { setLimitState(n); save(`chartLimit.${expId}`, n); };
  const [hidden, setHiddenState] = useState<string[]>(() => load(`hidden.${expId}`, []));
  const setHidden = (h: string[]) => { setHiddenState(h); save(`hidden.${expId}`, h.slice(-2000)); };
  const [layout, setLayoutState] = useState<Layout>(() => loadLayout(expId));
  useEffect(() => setLayoutState(loadLayout(expId)), [expId]);
  const setLayout = (l: Layout) => { setLayoutState(l); saveLayout(expId, l); };
  const [arranging, setArranging] = useState(false);
  const candidates = runs.slice(0, limit);
  const visible = candidates.filter((r) => !hidden.includes(r.info.run_id));
  assignColors(candidates.map((r) => r.info.run_id));
  // Grouped by a parameter: the runs of a group share a colour and a label.
  const groupOf = (r: Run) => (layout.groupBy ? r.data.params?.find((p) => p.key === layout.groupBy)?.value ?? '(none)' : undefined);
  const groupKeys = layout.groupBy ? [...new Set(candidates.map((r) => `group:${layout.groupBy}=${groupOf(r)}`))] : [];
  if (groupKeys.length) assignColors(groupKeys);
  const color = (r: Run) => (layout.groupBy ? colorFor(`group:${layout.groupBy}=${groupOf(r)}`) : colorFor(r.info.run_id));
  const label = (r: Run) => (layout.groupBy ? `${layout.groupBy}=${groupOf(r)} · ${runName(r)}` : runName(r));
  const chartRuns = (k: string): ChartRun[] => visible.map((r) => ({ id: r.info.run_id, label: label(r), color: color(r), start: r.info.start_time, running: r.info.status === 'RUNNING', version: metricVersion(r, k) }));
  const keys = useMemo(() => {
    const s = new Set<string>();
    for (const r of visible) r.data.metrics?.forEach((m) => s.add(m.key));
    return [...s].sort();
  }, [visible.map((r) => r.info.run_id).join(), runs]);
  const params = useMemo(() => [...new Set(candidates.flatMap((r) => (r.data.params || []).map((p) => p.key)))].sort(), [candidates.map((r) => r.info.run_id).join()]);
  const match = (k: string) => k.toLowerCase().includes(opts.q.toLowerCase());
  const shownKeys = ordered(keys.filter((k) => match(k) && !layout.hidden.includes(k)), layout.order);
  const sections = sectionsOf(shownKeys, layout).filter((s) => s.keys.length);
  const chart = (k: string) => {
    const s = layout.charts[k] || {};
    return <MetricChart key={k} metric={k} runs={chartRuns(k)} xMode={s.x || opts.xMode} xMetric={s.xMetric} logY={s.logY ?? opts.logY} smoothing={opts.smoothing} syncKey={`exp-${expId}`}
      controls={<ChartSettingsButton metric={k} keys={keys} layout={layout} setLayout={setLayout} pageX={opts.xMode} />} />;
  };
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
                <span class="dot" style={{ background: color(r) }} />
                <a href={href(['experiments', expId, 'runs', id])} title={runName(r)}>{runName(r)}</a>
                {layout.groupBy ? <span class="muted small group-label">{groupOf(r)}</span> : null}
              </li>
            );
          })}
        </ul>
      </div>
      <div class="chart-main">
        <div class="chart-controls-row">
          <ChartControls opts={opts} />
          <button class="btn small" data-action="arrange-charts" onClick={() => setArranging(!arranging)}>Arrange charts</button>
        </div>
        {arranging ? <Arrange keys={keys} layout={layout} setLayout={setLayout} params={params} onClose={() => setArranging(false)} /> : null}
        {!keys.length ? <div class="empty">No metrics logged by the shown runs.</div>
          : !shownKeys.length ? (
            <div class="empty" data-testid="no-metric-match">
              {opts.q ? <>No metric matches “{opts.q}”. </> : <>Every metric is hidden. </>}
              {opts.q ? <button class="btn small" onClick={() => setQuery({ m: undefined })}>Clear the filter</button> : <button class="btn small" onClick={() => setLayout({ ...layout, hidden: [] })}>Show all metrics</button>}
            </div>
          ) : null}
        {sections.map((s) => (
          <div key={s.name} class="chart-section" data-section={s.name}>
            <h3 class="section-title">{s.name} <span class="muted">({s.keys.length})</span></h3>
            <div class="chart-grid">{s.keys.map(chart)}</div>
          </div>
        ))}
      </div>
    </div>
  );
}
