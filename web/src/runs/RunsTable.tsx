// The runs table: columns, cells, the column picker and the virtual rows.
import { Component } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { num } from '../lib/api';
import type { Run } from '../lib/api';
import { href } from '../lib/router';
import { fmtAgo, fmtDuration, fmtNum, fmtTime, px, tag } from '../lib/format';
import { colorFor } from '../ui/runColors';
import { StatusBadge } from '../ui/widgets';
import { GIT, NOTE, PARENT, SOURCE, plainText, runName } from './model';
import { toCSV } from '../ui/chart/export';

export interface Column { id: string; label: string; width: number; sortKey?: string }

const ATTRS: Column[] = [
  { id: 'attr:start_time', label: 'Created', width: 110, sortKey: 'attributes.start_time' },
  { id: 'attr:duration', label: 'Duration', width: 84 },
  { id: 'attr:status', label: 'Status', width: 92, sortKey: 'attributes.status' },
  { id: 'attr:user_id', label: 'User', width: 100, sortKey: 'attributes.user_id' },
  { id: 'attr:datasets', label: 'Dataset', width: 150 },
  { id: 'attr:models', label: 'Models', width: 150 },
  { id: `tag:${SOURCE}`, label: 'Source', width: 160, sortKey: `tags.\`${SOURCE}\`` },
  { id: `tag:${GIT}`, label: 'Git commit', width: 90, sortKey: `tags.\`${GIT}\`` },
  { id: `tag:${NOTE}`, label: 'Description', width: 240, sortKey: `tags.\`${NOTE}\`` },
  { id: 'attr:end_time', label: 'Ended', width: 110, sortKey: 'attributes.end_time' },
  { id: 'attr:run_id', label: 'Run ID', width: 110, sortKey: 'attributes.run_id' },
];

export const DEFAULT_ATTRS = ['attr:start_time', 'attr:duration', 'attr:status', 'attr:user_id', 'attr:datasets', 'attr:models', `tag:${SOURCE}`, `tag:${GIT}`, `tag:${NOTE}`];

/** The header groups, in the order they are shown: what the user adds (metrics, parameters) comes first, next to the pinned run name. */
export const GROUPS = ['Metrics', 'Parameters', 'Attributes', 'Tags'] as const;

/** groupOf is the header group of a column. */
export function groupOf(id: string): (typeof GROUPS)[number] {
  if (id.startsWith('metric:')) return 'Metrics';
  if (id.startsWith('param:')) return 'Parameters';
  if (id.startsWith('tag:') && !ATTRS.some((a) => a.id === id)) return 'Tags';
  return 'Attributes';
}

/** orderColumns sorts column ids by group, keeping the user's order within each group. */
export function orderColumns(ids: string[]): string[] {
  return GROUPS.flatMap((g) => ids.filter((id) => groupOf(id) === g));
}

/** moveColumn moves a column before another of its group (reordering by drag and drop). */
export function moveColumn(ids: string[], id: string, before: string): string[] {
  if (id === before || groupOf(id) !== groupOf(before)) return ids;
  const out = ids.filter((x) => x !== id);
  out.splice(out.indexOf(before), 0, id);
  return out;
}

export function columnFor(id: string): Column {
  const a = ATTRS.find((c) => c.id === id);
  if (a) return a;
  const [kind, ...rest] = id.split(':');
  const key = rest.join(':');
  const bq = '`' + key.replace(/`/g, '') + '`';
  // Room for the label, its kind badge and a sort arrow.
  if (kind === 'metric') return { id, label: key, width: Math.min(190, Math.max(100, key.length * 7 + 52)), sortKey: `metrics.${bq}` };
  if (kind === 'param') return { id, label: key, width: Math.min(190, Math.max(90, key.length * 7 + 52)), sortKey: `params.${bq}` };
  return { id, label: key, width: 130, sortKey: `tags.${bq}` };
}

export function cellValue(run: Run, id: string): string | number | undefined {
  const [kind, ...rest] = id.split(':');
  const key = rest.join(':');
  const i = run.info;
  if (kind === 'attr') {
    switch (key) {
      case 'start_time': return i.start_time;
      case 'end_time': return i.end_time;
      case 'duration': return i.start_time && (i.end_time || i.status === 'RUNNING') ? (i.end_time || Date.now()) - i.start_time : undefined;
      case 'status': return i.status;
      case 'user_id': return i.user_id || tag(run.data.tags, 'mlflow.user');
      case 'run_id': return i.run_id;
      case 'run_name': return runName(run);
      case 'datasets': {
        const ds = run.inputs?.dataset_inputs || [];
        return ds.length ? ds.map((d) => `${d.dataset.name} (${d.dataset.digest})${tag(d.tags, 'mlflow.data.context') ? ` ${tag(d.tags, 'mlflow.data.context')}` : ''}`).join(', ') : undefined;
      }
      case 'models': {
        const ms = [...new Set((run.outputs?.model_outputs || []).map((m) => m.model_id))];
        return ms.length ? ms.join(', ') : undefined;
      }
    }
    return undefined;
  }
  if (kind === 'metric') {
    const m = run.data.metrics?.find((x) => x.key === key);
    return m ? (typeof m.value === 'number' ? m.value : num(m.value) ?? String(m.value)) : undefined;
  }
  if (kind === 'param') return run.data.params?.find((x) => x.key === key)?.value;
  return tag(run.data.tags, key);
}

function Cell({ run, col }: { run: Run; col: string }) {
  const v = cellValue(run, col);
  if (v === undefined || v === '') return <span class="muted">–</span>;
  switch (col) {
    case 'attr:start_time':
    case 'attr:end_time':
      return <span title={fmtTime(v as number)}>{fmtAgo(v as number)}</span>;
    case 'attr:duration':
      return <span>{fmtDuration(run.info.start_time, run.info.end_time, run.info.status === 'RUNNING')}</span>;
    case 'attr:status':
      return <StatusBadge status={String(v)} />;
    case `tag:${GIT}`:
      return <span class="mono" title={String(v)}>{String(v).slice(0, 8)}</span>;
    case `tag:${SOURCE}`: {
      const s = String(v);
      return <span title={s}>{s.split('/').pop()}</span>;
    }
    case 'attr:datasets': {
      const ds = run.inputs?.dataset_inputs || [];
      return <span title={String(v)}>{ds.map((d, i) => <span key={i} class="tag-chip">{d.dataset.name}{tag(d.tags, 'mlflow.data.context') ? ` · ${tag(d.tags, 'mlflow.data.context')}` : ''}</span>)}</span>;
    }
    case 'attr:models': {
      const ms = [...new Set((run.outputs?.model_outputs || []).map((m) => m.model_id))];
      return <span title={ms.join('\n')}>{ms.map((m) => (
        <a key={m} class="tag-chip mono" href={href(['experiments', run.info.experiment_id, 'runs', run.info.run_id, 'artifacts'], { model: m })}>{m.slice(0, 10)}</a>
      ))}</span>;
    }
    case `tag:${NOTE}`: {
      const s = String(v);
      return <span title={s}>{plainText(s)}</span>;
    }
  }
  if (typeof v === 'number') return <span class="num" title={String(v)}>{fmtNum(v)}</span>;
  return <span title={String(v)}>{String(v)}</span>;
}

// ---- column picker ----

export interface Keys { metrics: string[]; params: string[]; tags: string[] }

export function collectKeys(runs: Run[]): Keys {
  const m = new Set<string>(), p = new Set<string>(), t = new Set<string>();
  for (const r of runs) {
    r.data.metrics?.forEach((x) => m.add(x.key));
    r.data.params?.forEach((x) => p.add(x.key));
    r.data.tags?.forEach((x) => { if (!x.key.startsWith('mlflow.')) t.add(x.key); });
  }
  const sort = (s: Set<string>) => [...s].sort((a, b) => a.localeCompare(b));
  return { metrics: sort(m), params: sort(p), tags: sort(t) };
}

export function ColumnPicker({ keys, cols, setCols, onClose }: { keys: Keys; cols: string[]; setCols: (c: string[]) => void; onClose: () => void }) {
  const [q, setQ] = useState('');
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const h = (e: MouseEvent) => { if (ref.current && !ref.current.contains(e.target as Node)) onClose(); };
    setTimeout(() => document.addEventListener('mousedown', h));
    return () => document.removeEventListener('mousedown', h);
  }, []);
  const toggle = (id: string) => setCols(cols.includes(id) ? cols.filter((c) => c !== id) : [...cols, id]);
  const match = (s: string) => s.toLowerCase().includes(q.toLowerCase());
  const section = (title: string, items: { id: string; label: string }[]) => {
    const shown = items.filter((i) => match(i.label) || match(i.id));
    if (!shown.length) return null;
    return (
      <div class="picker-section">
        <div class="picker-title">{title}</div>
        {shown.map((i) => (
          <label key={i.id} class="picker-item" title={i.id}>
            <input type="checkbox" checked={cols.includes(i.id)} onChange={() => toggle(i.id)} data-col={i.id} />
            <span>{i.label}</span>
          </label>
        ))}
      </div>
    );
  };
  return (
    <div class="picker" ref={ref}>
      <input class="search" placeholder="Search columns" value={q} autoFocus onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
      <div class="picker-scroll">
        {section('Attributes', ATTRS.map((a) => ({ id: a.id, label: a.label })))}
        {section('Metrics', keys.metrics.map((k) => ({ id: `metric:${k}`, label: k })))}
        {section('Parameters', keys.params.map((k) => ({ id: `param:${k}`, label: k })))}
        {section('Tags', keys.tags.map((k) => ({ id: `tag:${k}`, label: k })))}
      </div>
      <div class="picker-foot">
        <button class="btn small" onClick={() => setCols(DEFAULT_ATTRS)}>Reset</button>
        <button class="btn small" onClick={onClose}>Done</button>
      </div>
    </div>
  );
}

// ---- tree rows ----

export interface Row { run: Run; depth: number; children: number; expanded: boolean }

export function buildRows(runs: Run[], expanded: Set<string>, clientSort?: (a: Run, b: Run) => number): Row[] {
  const ids = new Set(runs.map((r) => r.info.run_id));
  const kids = new Map<string, Run[]>();
  const top: Run[] = [];
  for (const r of runs) {
    const p = tag(r.data.tags, PARENT);
    if (p && ids.has(p) && p !== r.info.run_id) {
      let a = kids.get(p);
      if (!a) kids.set(p, (a = []));
      a.push(r);
    } else top.push(r);
  }
  if (clientSort) {
    top.sort(clientSort);
    kids.forEach((a) => a.sort(clientSort));
  }
  const out: Row[] = [];
  const seen = new Set<string>();
  const walk = (r: Run, depth: number) => {
    if (seen.has(r.info.run_id)) return;
    seen.add(r.info.run_id);
    const ch = kids.get(r.info.run_id) || [];
    const ex = expanded.has(r.info.run_id);
    out.push({ run: r, depth, children: ch.length, expanded: ex });
    if (ex) ch.forEach((c) => walk(c, depth + 1));
  };
  top.forEach((r) => walk(r, 0));
  return out;
}

// ---- the table ----

const ROW_H = 30;

interface RowProps {
  row: Row; top: number; width: number; nameW: number; cols: Column[]; sel: boolean; expId: string;
  toggleSel: (id: string, on: boolean) => void; toggleExpand: (id: string) => void;
}

/** RunRow re-renders only when its own props change, which keeps scrolling cheap. */
class RunRow extends Component<RowProps> {
  shouldComponentUpdate(next: RowProps) {
    const p = this.props;
    return p.row !== next.row || p.top !== next.top || p.sel !== next.sel || p.cols !== next.cols || p.width !== next.width || p.toggleSel !== next.toggleSel;
  }
  render() {
    const { row: r, top, width, nameW, cols, sel } = this.props;
    const id = r.run.info.run_id;
    return (
      <div class={`vrow${sel ? ' selected' : ''}${r.run.info.lifecycle_stage === 'deleted' ? ' deleted' : ''}`} style={{ top: px(top), width: px(width) }} data-run-id={id}>
        <div class="vcell check pin" style={{ width: px(36), left: px(0) }}>
          <input type="checkbox" checked={sel} onChange={(e) => this.props.toggleSel(id, (e.target as HTMLInputElement).checked)} aria-label="Select run" />
        </div>
        <div class="vcell name pin" style={{ width: px(nameW), left: px(36), paddingLeft: px(6 + r.depth * 18) }}>
          {r.children ? (
            <button class="expander" onClick={() => this.props.toggleExpand(id)} title={r.expanded ? 'Collapse' : `Show ${r.children} child runs`}>{r.expanded ? '▾' : '▸'}</button>
          ) : <span class="expander-space" />}
          <span class="dot" style={{ background: colorFor(id) }} />
          <a href={href(['experiments', this.props.expId, 'runs', id])} title={runName(r.run)}>{runName(r.run)}</a>
          {r.children ? <span class="child-count">{r.children}</span> : null}
        </div>
        {cols.map((c) => (
          <div key={c.id} class="vcell" style={{ width: px(c.width) }}><Cell run={r.run} col={c.id} /></div>
        ))}
      </div>
    );
  }
}

export function VirtualRunsTable(props: {
  rows: Row[]; cols: Column[]; selected: Set<string>; toggleSel: (id: string, on: boolean) => void;
  toggleAll: (on: boolean) => void; toggleExpand: (id: string) => void; sort: { id: string; desc: boolean };
  setSort: (id: string) => void; expId: string;
  /** A column's new width, dragged on its header's edge. */
  onResize: (id: string, width: number) => void;
  /** A column dropped on another of its group: move it before that one. */
  onMove: (id: string, before: string) => void;
}) {
  const { rows, cols } = props;
  const scroller = useRef<HTMLDivElement>(null);
  // The window of rows drawn, in whole rows (8 rows of overscan each side,
  // moved in steps of 4): scrolling within a step renders nothing.
  const [view, setView] = useState({ first: 0, last: 40 });
  useEffect(() => {
    const el = scroller.current!;
    const on = () => {
      const first = Math.max(0, Math.floor(el.scrollTop / ROW_H / 4) * 4 - 8);
      const last = Math.ceil((el.scrollTop + el.clientHeight) / ROW_H / 4) * 4 + 8;
      setView((v) => (v.first === first && v.last === last ? v : { first, last }));
      // The pinned cells (select box, run name) move back by the sideways
      // scroll. A CSS variable changed only when scrollLeft changes: sticky
      // cells would make every row's cells layers of their own, and vertical
      // scrolling of 10,000 runs several times slower.
      const sx = `${el.scrollLeft}px`;
      if (el.style.getPropertyValue('--sx') !== sx) el.style.setProperty('--sx', sx);
    };
    on();
    el.addEventListener('scroll', on, { passive: true });
    const ro = new ResizeObserver(on);
    ro.observe(el);
    return () => { el.removeEventListener('scroll', on); ro.disconnect(); };
  }, []);
  const nameW = 230;
  const totalW = 36 + nameW + cols.reduce((s, c) => s + c.width, 0);
  const first = view.first;
  const last = Math.min(rows.length, view.last);
  const allSel = useMemo(() => rows.length > 0 && props.selected.size >= rows.length && rows.every((r) => props.selected.has(r.run.info.run_id)), [rows, props.selected]);
  const arrow = (id: string) => (props.sort.id === id ? <span class="sort-arrow">{props.sort.desc ? '↓' : '↑'}</span> : null);
  const sortedCls = (id: string) => (props.sort.id === id ? ' sorted' : '');
  // Rows are keyed by slot, not run: scrolling patches the text of the row
  // elements already there instead of building new ones.
  const slots = Math.max(1, view.last - view.first);
  const visible = [];
  for (let i = first; i < last; i++) {
    const r = rows[i];
    visible.push(<RunRow key={i % slots} row={r} top={i * ROW_H} width={totalW} nameW={nameW} cols={cols} sel={props.selected.has(r.run.info.run_id)}
      expId={props.expId} toggleSel={props.toggleSel} toggleExpand={props.toggleExpand} />);
  }
  // Header groups over the columns (they arrive ordered by group).
  const groups: { name: string; width: number }[] = [];
  for (const c of cols) {
    const g = groupOf(c.id);
    const last = groups[groups.length - 1];
    if (last && last.name === g) last.width += c.width;
    else groups.push({ name: g, width: c.width });
  }
  const [dragging, setDragging] = useState<string | null>(null);
  const startResize = (e: MouseEvent, c: Column) => {
    e.preventDefault();
    e.stopPropagation();
    const x0 = e.clientX, w0 = c.width;
    const move = (m: MouseEvent) => props.onResize(c.id, Math.max(50, Math.min(800, Math.round(w0 + m.clientX - x0))));
    const up = () => { window.removeEventListener('mousemove', move); window.removeEventListener('mouseup', up); };
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
  };
  return (
    <div class="vtable" ref={scroller}>
      <div class="vhead" style={{ width: px(totalW) }}>
        <div class="vhead-row vhead-groups">
          <div class="vcell pin" style={{ width: px(36 + nameW), left: px(0) }} />
          {groups.map((g, i) => <div key={i} class={`vcell group group-${g.name.toLowerCase()}`} style={{ width: px(g.width) }} data-group={g.name}>{g.name}</div>)}
        </div>
        <div class="vhead-row">
          <div class="vcell check pin" style={{ width: px(36), left: px(0) }}>
            <input type="checkbox" checked={allSel} onChange={(e) => props.toggleAll((e.target as HTMLInputElement).checked)} aria-label="Select all" />
          </div>
          <div class={`vcell name pin sortable${sortedCls('attr:run_name')}`} style={{ width: px(nameW), left: px(36) }} onClick={() => props.setSort('attr:run_name')}>Run name{arrow('attr:run_name')}</div>
          {cols.map((c) => (
            <div key={c.id} class={`vcell sortable${sortedCls(c.id)}${dragging === c.id ? ' dragging' : ''}`} style={{ width: px(c.width) }} title={c.id} data-col-head={c.id}
              draggable onDragStart={(e) => { setDragging(c.id); e.dataTransfer?.setData('text/plain', c.id); }} onDragEnd={() => setDragging(null)}
              onDragOver={(e) => { if (dragging && groupOf(dragging) === groupOf(c.id)) e.preventDefault(); }}
              onDrop={(e) => { e.preventDefault(); const id = e.dataTransfer?.getData('text/plain') || dragging; if (id) props.onMove(id, c.id); setDragging(null); }}
              onClick={() => props.setSort(c.id)}>
              {c.id.startsWith('metric:') ? <span class="col-kind m">M</span> : c.id.startsWith('param:') ? <span class="col-kind p">P</span> : c.id.startsWith('tag:') && !ATTRS.some((a) => a.id === c.id) ? <span class="col-kind t">T</span> : null}
              {c.label}{arrow(c.id)}
              <span class="col-resize" data-resize={c.id} title="Drag to resize" onMouseDown={(e) => startResize(e, c)} onClick={(e) => e.stopPropagation()} />
            </div>
          ))}
        </div>
      </div>
      <div class="vbody" style={{ height: px(rows.length * ROW_H), width: px(totalW) }}>{visible}</div>
    </div>
  );
}

// ---- CSV ----

/**
 * runsCSV is the runs as CSV: the run ID and name, then the given columns
 * (the visible ones, or every attribute, metric, parameter and tag key).
 * Times are ISO 8601, durations in milliseconds, values as logged.
 */
export function runsCSV(runs: Run[], colIds: string[]): string {
  const cols = colIds.map(columnFor);
  const kindName = (id: string) => (id.startsWith('metric:') ? 'metrics.' : id.startsWith('param:') ? 'params.' : id.startsWith('tag:') && !ATTRS.some((a) => a.id === id) ? 'tags.' : '');
  const header = ['run_id', 'run_name', ...cols.map((c) => (c.id === 'attr:duration' ? 'duration_ms' : kindName(c.id) + c.label))];
  const rows = runs.map((r) => [r.info.run_id, runName(r), ...colIds.map((id) => {
    const v = cellValue(r, id);
    if ((id === 'attr:start_time' || id === 'attr:end_time') && typeof v === 'number') return new Date(v).toISOString();
    return v;
  })]);
  return toCSV(header, rows);
}

/** allColumns is every attribute column and every metric, parameter and tag key of the runs. */
export function allColumns(keys: Keys): string[] {
  return [...ATTRS.map((a) => a.id), ...keys.metrics.map((k) => `metric:${k}`), ...keys.params.map((k) => `param:${k}`), ...keys.tags.map((k) => `tag:${k}`)];
}
