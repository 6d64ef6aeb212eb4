import { setQuery } from '../../lib/router';
import type { XMode } from './Chart';

export interface ChartOpts { xMode: XMode; logY: boolean; smoothing: number; q: string }

export function chartOpts(query: URLSearchParams): ChartOpts {
  const x = query.get('x');
  return {
    xMode: x === 'wall' || x === 'relative' ? x : 'step',
    logY: query.get('log') === '1',
    smoothing: Math.min(0.99, Math.max(0, Number(query.get('smooth') || 0))),
    q: query.get('m') || '',
  };
}

/** ChartControls edits x axis, log scale, smoothing and metric search; they live in the URL. */
export function ChartControls({ opts }: { opts: ChartOpts }) {
  return (
    <div class="chart-controls">
      <input class="search" placeholder="Filter metrics" value={opts.q} onInput={(e) => setQuery({ m: (e.target as HTMLInputElement).value })} />
      <label>X axis
        <select name="x-axis" value={opts.xMode} onChange={(e) => setQuery({ x: (e.target as HTMLSelectElement).value === 'step' ? undefined : (e.target as HTMLSelectElement).value })}>
          <option value="step">Step</option>
          <option value="wall">Wall time</option>
          <option value="relative">Relative time</option>
        </select>
      </label>
      <label class="check"><input type="checkbox" name="log-scale" checked={opts.logY} onChange={(e) => setQuery({ log: (e.target as HTMLInputElement).checked ? '1' : undefined })} /> Log scale</label>
      <label>Smoothing
        <input type="range" name="smoothing" min={0} max={0.99} step={0.01} value={opts.smoothing} onInput={(e) => setQuery({ smooth: (e.target as HTMLInputElement).value === '0' ? undefined : (e.target as HTMLInputElement).value })} />
        <span class="mono small">{opts.smoothing.toFixed(2)}</span>
      </label>
    </div>
  );
}
