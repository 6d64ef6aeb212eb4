import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { fmtNum } from '../../lib/format';

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
  /** A zoomed x range; the chart shows only it. */
  xRange?: [number, number] | null;
  /** Called with the x range the user dragged over; without it uPlot zooms by itself. */
  onZoom?: (r: [number, number]) => void;
  /** Called on double click or "Reset zoom" while zoomed. */
  onReset?: () => void;
  /** Extra attributes for the card (test hooks and figures: total points, loading detail). */
  attrs?: Record<string, string | number>;
  /** Shown next to the title (e.g. "2,000 of 1,000,000 points"). */
  note?: string;
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

// Whole-number tick spacings for the step axis (no "2.5" steps).
const STEP_INCRS: number[] = [];
for (let e = 0; e < 16; e++) for (const m of [1, 2, 5]) STEP_INCRS.push(m * 10 ** e);

/** Chart draws one metric for one or more runs with uPlot. */
export function Chart({ title, series, xMode = 'step', logY = false, smoothing = 0, height = 220, legend = true, xRange, onZoom, onReset, attrs, note }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const cb = useRef({ onZoom, onReset });
  cb.current = { onZoom, onReset };

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const tables: uPlot.AlignedData[] = series.map((s) => {
      const yy = logY ? s.y.map((v) => (v !== null && v > 0 ? v : null)) : s.y;
      return [s.x, ema(yy, smoothing)] as uPlot.AlignedData;
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
      cursor: {
        drag: { x: true, y: false, setScale: !onZoom },
        points: { size: 6 },
        bind: {
          dblclick: (_u, _t, handler) => (e: MouseEvent) => {
            if (cb.current.onReset && xRange) { cb.current.onReset(); return null; }
            return handler(e);
          },
        },
      },
      hooks: onZoom ? {
        setSelect: [(u: uPlot) => {
          const { left, width } = u.select;
          if (width > 4) {
            const a = u.posToVal(left, 'x'), b = u.posToVal(left + width, 'x');
            cb.current.onZoom?.([Math.min(a, b), Math.max(a, b)]);
          }
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
        }],
      } : {},
      scales: { x: { time, range: xRange ? () => [xRange[0], xRange[1]] : undefined }, y: { distr: logY ? 3 : 1 } },
      axes: [
        {
          incrs: xMode === 'step' ? STEP_INCRS : undefined,
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
  }, [series, xMode, logY, smoothing, height, legend, xRange?.[0], xRange?.[1], !!onZoom]);

  return (
    <div class="chart-card" data-metric={title} data-series={series.length} data-points={series.reduce((n, s) => n + s.x.length, 0)} data-zoomed={xRange ? '1' : undefined} {...attrs}>
      <div class="chart-title" title={title}>
        <span class="ellipsis">{title}</span>
        {note ? <span class="chart-note">{note}</span> : null}
        {xRange && onReset ? <button class="btn tiny" data-action="reset-zoom" onClick={onReset} title="Show the whole range (or double-click the chart)">Reset zoom</button> : null}
      </div>
      <div class="chart-box" ref={box} />
    </div>
  );
}

function fmtRel(s: number): string {
  if (Math.abs(s) < 120) return `${fmtNum(Number(s.toFixed(1)))}s`;
  if (Math.abs(s) < 7200) return `${(s / 60).toFixed(1)}m`;
  return `${(s / 3600).toFixed(2)}h`;
}
