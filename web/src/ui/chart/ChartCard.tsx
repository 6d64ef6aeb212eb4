import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

/** What a chart can be exported as; each returns the file to save. */
export interface ChartExports { png: () => Promise<void>; svg: () => void; csv: () => void }

/**
 * ChartCard is the frame of every chart: the title and its note, an export
 * menu (PNG, SVG, CSV), an expand button that shows the chart over the page,
 * and any extra controls of the chart.
 */
export function ChartCard({ title, note, exports, controls, attrs, expanded, onExpand, children }: {
  title: string; note?: ComponentChildren; exports?: ChartExports; controls?: ComponentChildren; attrs?: Record<string, string | number | undefined>;
  expanded?: boolean; onExpand?: (on: boolean) => void; children: ComponentChildren;
}) {
  const [menu, setMenu] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!menu) return;
    const h = (e: MouseEvent) => { if (ref.current && !ref.current.contains(e.target as Node)) setMenu(false); };
    document.addEventListener('mousedown', h);
    return () => document.removeEventListener('mousedown', h);
  }, [menu]);
  useEffect(() => {
    if (!expanded) return;
    const k = (e: KeyboardEvent) => e.key === 'Escape' && onExpand?.(false);
    window.addEventListener('keydown', k);
    return () => window.removeEventListener('keydown', k);
  }, [expanded]);
  const run = (f: () => unknown) => () => { setMenu(false); f(); };
  const card = (
    <div class={`chart-card${expanded ? ' expanded' : ''}`} data-metric={title} {...attrs}>
      <div class="chart-title" title={title}>
        <span class="ellipsis">{title}</span>
        {note ? <span class="chart-note">{note}</span> : null}
        <span class="chart-actions">
          {controls}
          {exports ? (
            <span class="chart-menu" ref={ref}>
              <button class="icon-btn tiny" title="Download" aria-label="Download" data-action="chart-export" onClick={() => setMenu(!menu)}>⤓</button>
              {menu ? (
                <div class="menu" role="menu">
                  <button role="menuitem" data-export="png" onClick={run(exports.png)}>PNG image</button>
                  <button role="menuitem" data-export="svg" onClick={run(exports.svg)}>SVG image</button>
                  <button role="menuitem" data-export="csv" onClick={run(exports.csv)}>Data as CSV</button>
                </div>
              ) : null}
            </span>
          ) : null}
          {onExpand ? <button class="icon-btn tiny" title={expanded ? 'Close (Esc)' : 'Expand'} aria-label={expanded ? 'Close' : 'Expand'} data-action="chart-expand" onClick={() => onExpand(!expanded)}>{expanded ? '✕' : '⤢'}</button> : null}
        </span>
      </div>
      {children}
    </div>
  );
  // The same element stays the card when it expands (the chart inside keeps its canvas).
  return <>{expanded ? <div class="chart-backdrop" onClick={() => onExpand?.(false)} /> : null}{card}</>;
}
