import { useMemo, useState } from 'preact/hooks';
import { fmtNum } from '../lib/format';

/** One line of the plot: a run's values by axis key (undefined when missing). */
export interface PCLine { id: string; label: string; color: string; values: Record<string, string | number | undefined> }

interface Axis {
  key: string;
  label: string;
  numeric: boolean;
  log: boolean;
  min: number;
  max: number;
  cats: string[];
}

function makeAxis(key: string, label: string, lines: PCLine[]): Axis {
  const vals = lines.map((l) => l.values[key]).filter((v): v is string | number => v !== undefined && v !== '');
  const nums = vals.map((v) => Number(v));
  const numeric = vals.length > 0 && nums.every((n) => Number.isFinite(n));
  if (numeric) {
    let min = Math.min(...nums), max = Math.max(...nums);
    // Learning rates and the like span orders of magnitude: a log axis reads better.
    const log = min > 0 && max / min >= 20;
    if (min === max) { min -= 1; max += 1; }
    return { key, label, numeric, log, min, max, cats: [] };
  }
  const cats = [...new Set(vals.map(String))].sort();
  return { key, label, numeric: false, log: false, min: 0, max: Math.max(1, cats.length - 1), cats };
}

/** pos maps a value to 0 (bottom) .. 1 (top) on an axis; undefined when missing. */
function pos(a: Axis, v: string | number | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (!a.numeric) {
    const i = a.cats.indexOf(String(v));
    return a.cats.length === 1 ? 0.5 : i / (a.cats.length - 1);
  }
  const n = Number(v);
  if (a.log) return (Math.log10(n) - Math.log10(a.min)) / (Math.log10(a.max) - Math.log10(a.min));
  return (n - a.min) / (a.max - a.min);
}

function ticks(a: Axis): { p: number; text: string }[] {
  if (!a.numeric) return a.cats.slice(0, 12).map((c, i) => ({ p: a.cats.length === 1 ? 0.5 : i / (a.cats.length - 1), text: c }));
  const out = [];
  for (let i = 0; i <= 4; i++) {
    const p = i / 4;
    const v = a.log ? 10 ** (Math.log10(a.min) + p * (Math.log10(a.max) - Math.log10(a.min))) : a.min + p * (a.max - a.min);
    out.push({ p, text: fmtNum(Number(v.toPrecision(3))) });
  }
  return out;
}

/**
 * ParallelCoords draws one polyline per run across parameter axes and a
 * final metric axis, so it shows which settings lead to good results. Axes
 * are numeric (log when values span orders of magnitude) or categorical.
 */
export function ParallelCoords({ lines, params, metrics, defaultParams }: { lines: PCLine[]; params: string[]; metrics: string[]; defaultParams: string[] }) {
  const [chosen, setChosen] = useState<string[]>(defaultParams.length ? defaultParams : params.slice(0, 6));
  const [metric, setMetric] = useState(metrics[0] || '');
  const [hover, setHover] = useState<string | null>(null);
  const axes = useMemo(() => [
    ...chosen.filter((p) => params.includes(p)).map((p) => makeAxis('param:' + p, p, lines)),
    ...(metric ? [makeAxis('metric:' + metric, metric, lines)] : []),
  ], [chosen.join(), metric, lines]);
  if (!params.length || !metrics.length) return <div class="muted small-pad">Needs runs with parameters and metrics.</div>;
  const W = 1000, H = 300, padX = 60, top = 34, bottom = 24;
  const x = (i: number) => (axes.length === 1 ? W / 2 : padX + (i * (W - 2 * padX)) / (axes.length - 1));
  const y = (p: number) => top + (1 - p) * (H - top - bottom);
  const metricAxis = axes[axes.length - 1];
  const toggle = (p: string) => setChosen(chosen.includes(p) ? chosen.filter((c) => c !== p) : [...chosen, p]);
  return (
    <div class="parcoords-wrap">
      <div class="chart-controls">
        <label>Metric
          <select name="pc-metric" value={metric} onChange={(e) => setMetric((e.target as HTMLSelectElement).value)}>
            {metrics.map((m) => <option key={m}>{m}</option>)}
          </select>
        </label>
        <span class="muted">Parameters</span>
        <div class="pc-params">
          {params.map((p) => (
            <label key={p} class={`chip${chosen.includes(p) ? ' on' : ''}`}>
              <input type="checkbox" checked={chosen.includes(p)} onChange={() => toggle(p)} data-pc-param={p} />{p}
            </label>
          ))}
        </div>
      </div>
      <svg class="parcoords" viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="xMidYMid meet" data-axes={axes.length} data-lines={lines.length} role="img" aria-label={`Parallel coordinates of ${chosen.join(', ')} against ${metric}`}>
        {axes.map((a, i) => (
          <g key={a.key} class="pc-axis">
            <line x1={x(i)} x2={x(i)} y1={y(1)} y2={y(0)} />
            <text class="pc-label" x={x(i)} y={14} text-anchor="middle">{a.label.length > 22 ? a.label.slice(0, 21) + '…' : a.label}{a.log ? ' (log)' : ''}</text>
            {ticks(a).map((t) => (
              <text key={t.text + t.p} class="pc-tick" x={x(i) + (i === axes.length - 1 ? 6 : -6)} y={y(t.p) + 3} text-anchor={i === axes.length - 1 ? 'start' : 'end'}>{t.text.length > 14 ? t.text.slice(0, 13) + '…' : t.text}</text>
            ))}
          </g>
        ))}
        {lines.map((l) => {
          const pts = axes.map((a, i) => { const p = pos(a, l.values[a.key]); return p === undefined ? null : `${x(i).toFixed(1)},${y(p).toFixed(1)}`; });
          // A missing value breaks the line rather than dropping it to an edge.
          let d = '';
          let pen = false;
          for (const p of pts) {
            if (p === null) { pen = false; continue; }
            d += (pen ? ' L' : ' M') + p;
            pen = true;
          }
          if (!d) return null;
          const dim = hover !== null && hover !== l.id;
          const m = metricAxis ? pos(metricAxis, l.values[metricAxis.key]) : undefined;
          return (
            <g key={l.id} class={`pc-line${dim ? ' dim' : ''}${hover === l.id ? ' hot' : ''}`} data-run-id={l.id}
              onMouseEnter={() => setHover(l.id)} onMouseLeave={() => setHover(null)}>
              <title>{l.label}: {axes.map((a) => `${a.label}=${l.values[a.key] ?? '–'}`).join(', ')}</title>
              <path d={d} stroke={l.color} />
              {m !== undefined ? <circle cx={x(axes.length - 1)} cy={y(m)} r={3.5} fill={l.color} /> : null}
            </g>
          );
        })}
      </svg>
      {hover ? <div class="muted small pc-hover">{lines.find((l) => l.id === hover)?.label}</div> : <div class="muted small pc-hover">Hover a line to see its run.</div>}
    </div>
  );
}
