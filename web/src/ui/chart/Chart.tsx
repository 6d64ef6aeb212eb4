import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { fmtNum, fmtShort } from '../../lib/format';
import { ChartCard } from './ChartCard';
import { download, fileName, lineSVG, svgToPNG, toCSV } from './export';

export interface Series { id?: string; label: string; color: string; x: number[]; y: (number | null)[] }
/** The x axis: steps, wall-clock time, time since the run started, or another metric's value at the same step. */
export type XMode = 'step' | 'wall' | 'relative' | 'metric';

export interface ChartProps {
  title: string;
  series: Series[];
  xMode?: XMode;
  /** The x axis's name when xMode is 'metric'. */
  xLabel?: string;
  logY?: boolean;
  smoothing?: number; // 0..0.99, exponential moving average weight
  height?: number;
  legend?: boolean;
  /** Charts of a page with the same key move their cursors together. */
  syncKey?: string;
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
  /** Per-chart controls shown in the title bar. */
  controls?: ComponentChildren;
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

const AXIS_FONT = '11px system-ui';
let measureCtx: CanvasRenderingContext2D | null = null;
/** textWidth measures a label in the axis font, in CSS pixels. */
function textWidth(s: string): number {
  measureCtx ||= document.createElement('canvas').getContext('2d');
  if (!measureCtx) return s.length * 7;
  measureCtx.font = AXIS_FONT;
  return measureCtx.measureText(s).width;
}

/** nearest is the index of the x closest to v in sorted xs (-1 when empty). */
export function nearest(xs: number[], v: number): number {
  if (!xs.length) return -1;
  let lo = 0, hi = xs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && Math.abs(xs[lo - 1] - v) <= Math.abs(xs[lo] - v) ? lo - 1 : lo;
}

export function fmtRel(s: number): string {
  if (Math.abs(s) < 120) return `${fmtNum(Number(s.toFixed(1)))}s`;
  if (Math.abs(s) < 7200) return `${(s / 60).toFixed(1)}m`;
  return `${(s / 3600).toFixed(2)}h`;
}

/** fmtX formats an x value of an axis mode for tooltips and exports. */
export function fmtX(xMode: XMode, v: number): string {
  if (xMode === 'wall') return new Date(v * 1000).toLocaleString();
  if (xMode === 'relative') return fmtRel(v);
  return fmtNum(v);
}

const xName = (xMode: XMode, xLabel?: string) => (xMode === 'step' ? 'step' : xMode === 'wall' ? 'time' : xMode === 'relative' ? 'relative time (s)' : xLabel || 'x');

/**
 * Chart draws one metric for one or more runs with uPlot. Hovering shows
 * every run's value at the cursor; the cursor moves with the other charts of
 * the same syncKey. The card exports the chart as PNG, SVG or CSV and
 * expands over the page.
 */
export function Chart({ title, series, xMode = 'step', xLabel, logY = false, smoothing = 0, height = 220, legend = false, syncKey, xRange, onZoom, onReset, attrs, note, controls }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const tip = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const cb = useRef({ onZoom, onReset });
  cb.current = { onZoom, onReset };
  const [expanded, setExpanded] = useState(false);
  // What is drawn (smoothed), for the tooltip and the exports.
  const drawn = useRef<Series[]>([]);
  const h = expanded ? Math.max(300, window.innerHeight - 180) : height;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const shown: Series[] = series.map((s) => {
      const yy = logY ? s.y.map((v) => (v !== null && v > 0 ? v : null)) : s.y;
      return { ...s, y: ema(yy, smoothing) };
    });
    drawn.current = shown;
    const tables: uPlot.AlignedData[] = shown.map((s) => [s.x, s.y] as uPlot.AlignedData);
    let data: uPlot.AlignedData;
    if (tables.length === 0) data = [[]];
    else if (tables.length === 1) data = tables[0];
    else data = uPlot.join(tables);
    const time = xMode === 'wall';
    let yLabels: string[] = [];
    let ySize = 0;
    let hovered = false;
    const card = el.closest('.chart-card') as HTMLElement | null;
    const showTip = (u: uPlot) => {
      const t = tip.current;
      if (!t) return;
      const { left, top, idx } = u.cursor;
      // Where the cursor is, for the charts it is synced with (and tests).
      if (card) card.dataset.cursor = idx === null || idx === undefined || left === undefined || left < 0 ? '' : String(u.data[0][idx]);
      if (!hovered || idx === null || idx === undefined || left === undefined || left < 0 || !shown.length) {
        t.style.display = 'none';
        return;
      }
      const x = u.data[0][idx] ?? u.posToVal(left, 'x');
      const span = Math.abs((u.scales.x.max ?? 1) - (u.scales.x.min ?? 0));
      // Each run's point nearest the cursor, where the run has points around it.
      const rows = shown.map((s) => {
        const i = nearest(s.x, x);
        const inside = i >= 0 && x >= s.x[0] - span * 0.02 && x <= s.x[s.x.length - 1] + span * 0.02;
        return { s, v: inside ? s.y[i] : null };
      }).filter((r) => r.v !== null && r.v !== undefined).sort((a, b) => (b.v as number) - (a.v as number));
      if (!rows.length) {
        t.style.display = 'none';
        return;
      }
      t.innerHTML = '';
      const head = document.createElement('div');
      head.className = 'tip-head';
      head.textContent = `${xName(xMode, xLabel)} ${fmtX(xMode, x)}`;
      t.appendChild(head);
      for (const { s, v } of rows) {
        const row = document.createElement('div');
        row.className = 'tip-row';
        if (s.id) row.dataset.runId = s.id;
        const dot = document.createElement('span');
        dot.className = 'dot';
        dot.style.background = s.color;
        const name = document.createElement('span');
        name.className = 'tip-name';
        name.textContent = s.label;
        const val = document.createElement('span');
        val.className = 'tip-val';
        val.textContent = fmtNum(v);
        row.append(dot, name, val);
        t.appendChild(row);
      }
      t.style.display = 'block';
      const over = u.over.getBoundingClientRect();
      const bw = el.clientWidth;
      const tw = t.offsetWidth;
      const ox = u.over.offsetLeft + left;
      t.style.left = `${ox + 14 + tw > bw ? Math.max(0, ox - 14 - tw) : ox + 14}px`;
      t.style.top = `${Math.max(0, Math.min(over.height - t.offsetHeight, (top ?? 0) - 10)) + u.over.offsetTop}px`;
    };
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: h,
      legend: { show: legend, live: true },
      cursor: {
        drag: { x: true, y: false, setScale: !onZoom },
        points: { size: 6 },
        sync: syncKey ? { key: syncKey, setSeries: false } : undefined,
        bind: {
          dblclick: (_u, _t, handler) => (e: MouseEvent) => {
            if (cb.current.onReset && xRange) { cb.current.onReset(); return null; }
            return handler(e);
          },
          mouseenter: (_u, _t, handler) => (e: MouseEvent) => { hovered = true; return handler(e); },
          mouseleave: (_u, _t, handler) => (e: MouseEvent) => { hovered = false; if (tip.current) tip.current.style.display = 'none'; return handler(e); },
        },
      },
      hooks: {
        setCursor: [showTip],
        draw: [() => {
          if (card) card.dataset.yAxis = JSON.stringify({ labels: yLabels, size: ySize });
        }],
        ...(onZoom ? {
          setSelect: [(u: uPlot) => {
            const { left, width } = u.select;
            if (width > 4) {
              const a = u.posToVal(left, 'x'), b = u.posToVal(left + width, 'x');
              cb.current.onZoom?.([Math.min(a, b), Math.max(a, b)]);
            }
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          }],
        } : {}),
      },
      scales: { x: { time, range: xRange ? () => [xRange[0], xRange[1]] : undefined }, y: { distr: logY ? 3 : 1 } },
      axes: [
        {
          incrs: xMode === 'step' ? STEP_INCRS : undefined,
          stroke: '#6b7280', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#e5e7eb' }, font: AXIS_FONT,
          values: time ? undefined : (_u, vals, _a, _s, incr) => vals.map((v) => (xMode === 'relative' ? fmtRel(v) : fmtShort(v, incr))),
        },
        {
          stroke: '#6b7280', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#e5e7eb', size: 6 }, gap: 4, font: AXIS_FONT,
          values: (_u, vals, _a, _s, incr) => (yLabels = vals.map((v) => (v == null ? '' : fmtShort(v, logY ? undefined : incr)))),
          // Wide enough for the longest label: tick, gap, text and a margin.
          size: (_u, vals) => (ySize = Math.ceil(Math.max(24, ...(vals || []).map((v) => textWidth(String(v))))) + 6 + 4 + 6),
        },
      ],
      series: [
        { label: xName(xMode, xLabel), value: (_u, v) => (v == null ? '' : fmtX(xMode, v)) },
        ...shown.map((s) => ({
          label: s.label, stroke: s.color, width: 1.5, spanGaps: true,
          points: { show: (u: uPlot) => u.data[0].length < 60 },
          value: (_u: uPlot, v: number | null) => (v == null ? '' : fmtNum(v)),
        })),
      ],
    };
    plot.current?.destroy();
    plot.current = new uPlot(opts, data, el);
    el.appendChild(tip.current!);
    const ro = new ResizeObserver(() => {
      if (plot.current && el.clientWidth > 0) plot.current.setSize({ width: el.clientWidth, height: h });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [series, xMode, logY, smoothing, h, legend, xRange?.[0], xRange?.[1], !!onZoom, syncKey]);

  const svg = () => lineSVG(title, drawn.current, { logY, xFmt: xMode === 'step' || xMode === 'metric' ? undefined : (v) => fmtX(xMode, v), xLabel: xName(xMode, xLabel) });
  const exports = {
    png: async () => download(`${fileName(title)}.png`, await svgToPNG(svg())),
    svg: () => download(`${fileName(title)}.svg`, svg(), 'image/svg+xml'),
    csv: () => download(`${fileName(title)}.csv`, toCSV(['run_id', 'run', xName(xMode, xLabel), title],
      drawn.current.flatMap((s) => s.x.map((x, i) => [s.id || '', s.label, xMode === 'wall' ? new Date(x * 1000).toISOString() : x, s.y[i]]))), 'text/csv'),
  };
  return (
    <ChartCard title={title} note={note} exports={exports} expanded={expanded} onExpand={setExpanded}
      controls={<>{controls}{xRange && onReset ? <button class="btn tiny" data-action="reset-zoom" onClick={onReset} title="Show the whole range (or double-click the chart)">Reset zoom</button> : null}</>}
      attrs={{ 'data-log': logY ? '1' : undefined, 'data-x': xMode, 'data-series': series.length, 'data-points': series.reduce((n, s) => n + s.x.length, 0), 'data-zoomed': xRange ? '1' : undefined, ...attrs }}>
      <div class="chart-box" ref={box}><div class="chart-tooltip" ref={tip} /></div>
    </ChartCard>
  );
}
