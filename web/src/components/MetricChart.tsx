import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Metric } from '../api';
import { histories, seriesFor } from '../metrics';
import { Chart, type XMode } from './Chart';
import { usePoll } from './ui';

export interface ChartRun { id: string; label: string; color: string; start?: number; running?: boolean }

/**
 * MetricChart loads one metric for some runs when it scrolls into view and
 * draws it; while any of the runs is running it refreshes every 2 s.
 */
export function MetricChart({ metric, runs, xMode, logY, smoothing, legend = true }: { metric: string; runs: ChartRun[]; xMode: XMode; logY: boolean; smoothing: number; legend?: boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  const [seen, setSeen] = useState(false);
  const [hist, setHist] = useState<Map<string, Metric[]> | null>(null);
  const [err, setErr] = useState<string>('');
  const ids = runs.map((r) => r.id).join(',');
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const io = new IntersectionObserver((es) => { if (es.some((e) => e.isIntersecting)) { setSeen(true); io.disconnect(); } }, { rootMargin: '300px' });
    io.observe(el);
    return () => io.disconnect();
  }, []);
  const fetchAll = async () => {
    try {
      setHist(await histories(runs.map((r) => r.id), metric));
      setErr('');
    } catch (e) {
      setErr((e as Error).message);
    }
  };
  useEffect(() => {
    if (!seen) return;
    setHist(null);
    fetchAll();
  }, [seen, ids, metric]);
  usePoll(fetchAll, 2000, seen && runs.some((r) => r.running));
  const series = useMemo(() => (hist ? seriesFor(runs, hist, xMode) : []), [hist, xMode, runs.map((r) => r.id + r.color + r.label).join()]);
  return (
    <div ref={ref} class="chart-slot">
      {err ? <div class="chart-card" data-metric={metric}><div class="chart-title">{metric}</div><div class="error-box">{err}</div></div>
        : !hist ? <div class="chart-card" data-metric={metric}><div class="chart-title">{metric}</div><div class="chart-loading">Loading…</div></div>
        : <Chart title={metric} series={series} xMode={xMode} logY={logY} smoothing={smoothing} legend={legend} />}
    </div>
  );
}
