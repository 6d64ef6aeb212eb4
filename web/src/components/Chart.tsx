import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { fmtNum } from '../format';

export interface Series { label: string; color: string; x: number[]; y: (number | null)[] }
export type XMode = 'step' | 'wall' | 'relative';

export interface ChartProps {
  title: string;
  series: Series[];
  xMode?: XMode;
  logY?: boolean;
  smoothing?: number; // 0..0.99, exponential moving average weight
  height?: number;
  legend?: boolean;
}

/** ema smooths like TensorBoard: an exponential moving average with debiasing. */
export function ema(y: (number | null)[], w: number): (number | null)[] {
  if (w <= 0) return y;
  const out: (number | null)[] = new Array(y.length);
  let last = 0;
  let n = 0;
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (v === null) {
      out[i] = null;
      continue;
    }
    last = last * w + (1 - w) * v;
    n++;
    out[i] = last / (1 - Math.pow(w, n));
  }
  return out;
}

function sorted(x: number[], y: (number | null)[]): [number[], (number | null)[]] {
  let ok = true;
  for (let i = 1; i < x.length; i++) if (x[i] < x[i - 1]) { ok = false; break; }
  if (ok) return [x, y];
  const idx = x.map((_, i) => i).sort((a, b) => x[a] - x[b]);
  return [idx.map((i) => x[i]), idx.map((i) => y[i])];
}

/** Chart draws one metric for one or more runs with uPlot. */
export function Chart({ title, series, xMode = 'step', logY = false, smoothing = 0, height = 220, legend = true }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const tables: uPlot.AlignedData[] = series.map((s) => {
      const [x, y] = sorted(s.x, s.y);
      const yy = logY ? y.map((v) => (v !== null && v > 0 ? v : null)) : y;
      return [x, ema(yy, smoothing)] as uPlot.AlignedData;
    });
    let data: uPlot.AlignedData;
    if (tables.length === 0) data = [[]];
    else if (tables.length === 1) data = tables[0];
    else data = uPlot.join(tables);
    const time = xMode === 'wall';
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: legend, live: true },
      cursor: { drag: { x: true, y: false }, points: { size: 6 } },
      scales: { x: { time }, y: { distr: logY ? 3 : 1 } },
      axes: [
        {
          stroke: '#6b7280', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#e5e7eb' }, font: '11px system-ui',
          values: time ? undefined : (_u, vals) => vals.map((v) => (xMode === 'relative' ? fmtRel(v) : fmtNum(v))),
        },
        { stroke: '#6b7280', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#e5e7eb' }, font: '11px system-ui', size: 56, values: (_u, vals) => vals.map((v) => fmtNum(v)) },
      ],
      series: [
        { label: xMode === 'step' ? 'step' : xMode === 'wall' ? 'time' : 'rel. time', value: (_u, v) => (v == null ? '' : time ? new Date(v * 1000).toLocaleString() : xMode === 'relative' ? fmtRel(v) : fmtNum(v)) },
        ...series.map((s) => ({
          label: s.label, stroke: s.color, width: 1.5, spanGaps: true,
          points: { show: (u: uPlot) => u.data[0].length < 60 },
          value: (_u: uPlot, v: number | null) => (v == null ? '' : fmtNum(v)),
        })),
      ],
    };
    plot.current?.destroy();
    plot.current = new uPlot(opts, data, el);
    const ro = new ResizeObserver(() => {
      if (plot.current && el.clientWidth > 0) plot.current.setSize({ width: el.clientWidth, height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [series, xMode, logY, smoothing, height, legend]);

  return (
    <div class="chart-card" data-metric={title} data-series={series.length} data-points={series.reduce((n, s) => n + s.x.length, 0)}>
      <div class="chart-title" title={title}>{title}</div>
      <div class="chart-box" ref={box} />
    </div>
  );
}

function fmtRel(s: number): string {
  if (Math.abs(s) < 120) return `${fmtNum(Number(s.toFixed(1)))}s`;
  if (Math.abs(s) < 7200) return `${(s / 60).toFixed(1)}m`;
  return `${(s / 3600).toFixed(2)}h`;
}
