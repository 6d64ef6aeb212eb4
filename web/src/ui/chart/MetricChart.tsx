import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { loadMetric, seriesFor, xKindOf, type Loaded } from './data';
import type { ComponentChildren } from 'preact';
import { Chart, type Series, type XMode } from './Chart';
import type { Metric } from '../../lib/api';
import { BarChart } from './BarChart';
import { num } from '../../lib/api';

/**
 * A run drawn on a chart. `version` changes whenever the run logged
 * something new for this metric (its latest value, step and timestamp), so
 * live charts refetch only when there is something to fetch.
 */
export interface ChartRun { id: string; label: string; color: string; start?: number; running?: boolean; version?: string }

/** How a zoom range in chart units becomes a request range (steps or ms), per run. */
function serverRange(xMode: XMode, r: [number, number], runStart?: number): [number, number] {
  if (xMode === 'step') return r;
  if (xMode === 'wall') return [r[0] * 1000, r[1] * 1000];
  return [(runStart || 0) + r[0] * 1000, (runStart || 0) + r[1] * 1000];
}

async function loadRange(runs: ChartRun[], metric: string, xMode: XMode, range: [number, number]): Promise<Loaded> {
  // Relative time differs per run: ask each run for its own window.
  if (xMode === 'relative' && runs.length > 1) {
    const parts = await Promise.all(runs.map((r) => loadMetric([r.id], metric, 'timestamp', ...serverRange(xMode, range, r.start))));
    const out: Loaded = { byRun: new Map(), total: new Map(), downsampled: false, full: true };
    for (const p of parts) {
      p.byRun.forEach((v, k) => out.byRun.set(k, v));
      p.total.forEach((v, k) => out.total.set(k, v));
      out.downsampled ||= p.downsampled;
      out.full &&= p.full;
    }
    return out;
  }
  return loadMetric(runs.map((r) => r.id), metric, xKindOf(xMode), ...serverRange(xMode, range, runs[0]?.start));
}

/** pairByStep puts a series (x = step) against another metric: x becomes that metric's value at the same step. */
function pairByStep(s: Series, other: Metric[]): Series {
  const at = new Map<number, number>();
  for (const m of other) { const v = num(m.value); if (v !== null) at.set(m.step, v); }
  const pts: [number, number | null][] = [];
  s.x.forEach((step, i) => { const xv = at.get(step); if (xv !== undefined) pts.push([xv, s.y[i]]); });
  pts.sort((a, b) => a[0] - b[0]);
  return { ...s, x: pts.map((p) => p[0]), y: pts.map((p) => p[1]) };
}

const fmtCount = (n: number) => n.toLocaleString('en-US');

/**
 * MetricChart loads one metric for some runs when it scrolls into view and
 * draws it. Long series arrive downsampled (each bucket's min and max kept);
 * dragging over the chart zooms and fetches the full detail of that range.
 * While a run is running, new points are fetched when its version changes.
 */
export function MetricChart({ metric, runs, xMode: xModeIn, xMetric, logY, smoothing, legend = false, syncKey, controls }: {
  metric: string; runs: ChartRun[]; xMode: XMode; logY: boolean; smoothing: number; legend?: boolean;
  /** With xMode 'metric': the metric whose value at the same step is the x axis. */
  xMetric?: string;
  /** Charts with the same key move their cursors together. */
  syncKey?: string;
  controls?: ComponentChildren;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const [seen, setSeen] = useState(false);
  const [overview, setOverview] = useState<Loaded | null>(null);
  const [zoom, setZoom] = useState<[number, number] | null>(null);
  // The full detail of a zoomed range, with the range it is of: until the
  // detail of the current range arrives, the chart is not "ready".
  const [detail, setDetail] = useState<{ range: string; data: Loaded } | null>(null);
  const [err, setErr] = useState<string>('');
  const byMetric = xModeIn === 'metric' && !!xMetric;
  // Against another metric, points are read by step and paired step by step.
  const xMode: XMode = byMetric ? 'step' : xModeIn === 'metric' ? 'step' : xModeIn;
  const [xHist, setXHist] = useState<Loaded | null>(null);
  const ids = runs.map((r) => r.id).join(',');
  const version = runs.map((r) => r.version || '').join(',');
  const xKind = xKindOf(xMode);
  const gen = useRef(0);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const io = new IntersectionObserver((es) => { if (es.some((e) => e.isIntersecting)) { setSeen(true); io.disconnect(); } }, { rootMargin: '300px' });
    io.observe(el);
    return () => io.disconnect();
  }, []);

  const fetchOverview = async (quiet: boolean) => {
    const g = ++gen.current;
    if (!quiet) setOverview(null);
    try {
      const o = await loadMetric(runs.map((r) => r.id), metric, xKind);
      if (g === gen.current) { setOverview(o); setErr(''); }
    } catch (e) {
      if (g === gen.current) setErr((e as Error).message);
    }
  };
  // A new set of runs, metric or axis kind: start over, unzoomed.
  useEffect(() => {
    if (!seen) return;
    setZoom(null);
    setDetail(null);
    fetchOverview(false);
  }, [seen, ids, metric, xKind]);
  // Live: something new was logged.
  const lastVersion = useRef(version);
  useEffect(() => {
    if (!seen || version === lastVersion.current) return;
    lastVersion.current = version;
    fetchOverview(true);
  }, [version]);

  // Zoomed: fetch the range's detail unless every point is already held.
  const range = zoom ? `${zoom[0]},${zoom[1]}` : '';
  useEffect(() => {
    setDetail(null);
    if (!zoom || !overview || overview.full) return;
    let live = true;
    loadRange(runs, metric, xMode, zoom).then((d) => { if (live) setDetail({ range, data: d }); }, (e) => { if (live) setErr((e as Error).message); });
    return () => { live = false; };
  }, [range, overview, xMode]);
  const detailReady = !!zoom && (!!overview?.full || detail?.range === range);
  const detailLoading = !!zoom && !detailReady;

  const shown = (detail?.range === range ? detail.data : null) || overview;
  useEffect(() => {
    setXHist(null);
    if (!seen || !byMetric) return;
    let live = true;
    loadMetric(runs.map((r) => r.id), xMetric!, 'step').then((d) => { if (live) setXHist(d); }, (e) => { if (live) setErr((e as Error).message); });
    return () => { live = false; };
  }, [seen, ids, xMetric, byMetric]);
  const series = useMemo(() => {
    if (!shown) return [];
    const s = seriesFor(runs, shown.byRun, xMode, byMetric ? null : zoom);
    return byMetric ? (xHist ? s.map((one) => pairByStep(one, xHist.byRun.get(one.id || '') || [])) : []) : s;
  }, [shown, xMode, zoom?.[0], zoom?.[1], runs.map((r) => r.id + r.color + r.label).join(), byMetric, xHist]);
  let total = 0;
  overview?.total.forEach((n) => { total += n; });
  const drawn = series.reduce((n, s) => n + s.x.length, 0);
  const note = zoom ? (detailLoading ? 'loading detail…' : `${fmtCount(drawn)} points in range`)
    : overview && total > drawn ? `${fmtCount(drawn)} of ${fmtCount(total)} points, drag to zoom` : '';
  // A metric logged once per run (all at one step) is a bar per run
  // (Not while a run is running: its first point is the start of a line.)
  const single = !!overview && !zoom && overview.byRun.size > 0 && !runs.some((r) => r.running) && [...overview.byRun.values()].every((h) => h.length <= 1);
  const bars = single ? runs.flatMap((r) => {
    const h = overview!.byRun.get(r.id);
    const v = h && h.length ? num(h[0].value) : null;
    return v === null ? [] : [{ id: r.id, label: r.label, color: r.color, value: v }];
  }) : [];
  return (
    <div ref={ref} class="chart-slot">
      {single ? <BarChart title={metric} bars={bars} controls={controls} attrs={{ 'data-total': total }} /> : err ? <div class="chart-card" data-metric={metric}><div class="chart-title">{metric}</div><div class="error-box">{err}</div></div>
        : !shown ? <div class="chart-card" data-metric={metric}><div class="chart-title">{metric}</div><div class="chart-loading">Loading…</div></div>
        : <Chart title={metric} series={series} logY={logY} smoothing={smoothing} legend={legend} syncKey={syncKey} controls={controls}
            xLabel={byMetric ? xMetric : undefined} xMode={byMetric ? 'metric' : xMode}
            xRange={byMetric ? null : zoom} onZoom={byMetric ? undefined : setZoom} onReset={() => setZoom(null)} note={note}
            attrs={{ 'data-total': total, 'data-detail': zoom ? (detailLoading ? 'loading' : 'ready') : '', 'data-range': range }} />}
    </div>
  );
}
