import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { fmtNum, fmtShort } from '../../lib/format';
import { ChartCard } from './ChartCard';
import { barSVG, download, fileName, svgToPNG, toCSV } from './export';

export interface Bar { id?: string; label: string; color: string; value: number }

/**
 * BarChart shows a metric logged once per run (test accuracy, a parameter
 * count) as one bar per run, where a line chart would be dots at step 0.
 */
export function BarChart({ title, bars, note, controls, attrs }: { title: string; bars: Bar[]; note?: string; controls?: ComponentChildren; attrs?: Record<string, string | number> }) {
  const [expanded, setExpanded] = useState(false);
  const lo = Math.min(0, ...bars.map((b) => b.value));
  const hi = Math.max(0, ...bars.map((b) => b.value));
  const span = hi - lo || 1;
  const svg = () => barSVG(title, bars);
  const exports = {
    png: async () => download(`${fileName(title)}.png`, await svgToPNG(svg())),
    svg: () => download(`${fileName(title)}.svg`, svg(), 'image/svg+xml'),
    csv: () => download(`${fileName(title)}.csv`, toCSV(['run_id', 'run', title], bars.map((b) => [b.id || '', b.label, b.value])), 'text/csv'),
  };
  return (
    <ChartCard title={title} note={note} exports={exports} controls={controls} expanded={expanded} onExpand={setExpanded}
      attrs={{ 'data-kind': 'bar', 'data-series': bars.length, 'data-points': bars.length, ...attrs }}>
      <div class="bar-chart">
        {bars.map((b) => {
          const a = ((Math.min(0, b.value) - lo) / span) * 100;
          const w = (Math.abs(b.value) / span) * 100;
          return (
            <div key={b.id || b.label} class="bar-row" data-run-id={b.id} title={`${b.label}: ${fmtNum(b.value)}`}>
              <span class="bar-label ellipsis">{b.label}</span>
              <span class="bar-track"><span class="bar" style={{ left: `${a}%`, width: `${Math.max(0.5, w)}%`, background: b.color }} /></span>
              <span class="bar-val num">{fmtShort(b.value)}</span>
            </div>
          );
        })}
      </div>
    </ChartCard>
  );
}
