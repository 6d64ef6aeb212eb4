// The experiment page: its runs as a table or as charts.
import { Icon } from '../ui/Icon';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { getExperiment, renameExperiment } from '../experiments/api';
import type { Experiment, Run } from '../lib/api';
import { deleteRun, restoreRun } from './api';
import { href, navigate, setQuery } from '../lib/router';
import { tag } from '../lib/format';
import { load, save } from '../lib/store';
import { ConfirmModal, ErrorBox, PromptModal, Spinner, Tabs } from '../ui/widgets';
import { refreshExperiments } from '../experiments/list';
import { experimentTabs } from '../experiments/tabs';
import { ChartView } from '../charts/ChartsView';
import { useCanManage } from '../admin/session';
import { PARENT, runsFilter } from './model';
import { assignColors } from '../ui/runColors';
import { useRuns } from './useRuns';
import { ColumnPicker, DEFAULT_ATTRS, VirtualRunsTable, allColumns, moveColumn, orderColumns, buildRows, cellValue, collectKeys, columnFor, runsCSV } from './RunsTable';
import { download } from '../ui/chart/export';
import { FilterInput } from './FilterInput';

export function ExperimentPage({ expId, view, query }: { expId: string; view: 'table' | 'chart'; query: URLSearchParams }) {
  const [exp, setExp] = useState<Experiment | undefined>();
  const [expErr, setExpErr] = useState<unknown>();
  const [renaming, setRenaming] = useState(false);
  const manage = useCanManage({ kind: 'experiment', id: expId });
  useEffect(() => {
    setExp(undefined);
    setExpErr(undefined);
    getExperiment(expId).then(setExp, setExpErr);
  }, [expId]);

  const filter = query.get('filter') || '';
  const lifecycle = query.get('lifecycle') || 'ACTIVE_ONLY';
  const sortId = query.get('sort') || 'attr:start_time';
  const desc = query.get('asc') !== '1';
  const sortCol = sortId === 'attr:run_name' ? { id: sortId, label: 'Run name', width: 0, sortKey: 'attributes.run_name' } : columnFor(sortId);
  const orderBy = sortCol.sortKey ? [`${sortCol.sortKey} ${desc ? 'DESC' : 'ASC'}`] : ['attributes.start_time DESC'];
  const runs = useRuns(expId, runsFilter(filter), orderBy, lifecycle);

  const [draft, setDraft] = useState(filter);
  useEffect(() => setDraft(filter), [filter]);

  const [cols, setColsState] = useState<string[]>(() => load(`cols.${expId}`, DEFAULT_ATTRS));
  useEffect(() => setColsState(load(`cols.${expId}`, DEFAULT_ATTRS)), [expId]);
  const setCols = (c: string[]) => { setColsState(c); save(`cols.${expId}`, c); };
  const [picker, setPicker] = useState(false);
  const [csvMenu, setCsvMenu] = useState(false);

  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  const [selected, setSelected] = useState<Set<string>>(new Set());
  useEffect(() => setSelected(new Set()), [expId, lifecycle]);
  const [confirm, setConfirm] = useState<'delete' | 'restore' | null>(null);

  const keys = useMemo(() => collectKeys(runs.runs), [runs.runs]);
  const clientSort = sortCol.sortKey ? undefined : (a: Run, b: Run) => {
    const va = cellValue(a, sortId), vb = cellValue(b, sortId);
    const x = va === undefined ? -Infinity : Number(va), y = vb === undefined ? -Infinity : Number(vb);
    return desc ? y - x : x - y;
  };
  useMemo(() => assignColors(runs.runs.map((r) => r.info.run_id)), [runs.runs]);
  const rows = useMemo(() => buildRows(runs.runs, expanded, clientSort), [runs.runs, expanded, sortId, desc]);
  const nested = useMemo(() => {
    const ids = new Set(runs.runs.map((r) => r.info.run_id));
    return runs.runs.filter((r) => { const p = tag(r.data.tags, PARENT); return p && ids.has(p) && p !== r.info.run_id; }).length;
  }, [runs.runs]);
  const [widths, setWidthsState] = useState<Record<string, number>>(() => load(`colWidths.${expId}`, {}));
  useEffect(() => setWidthsState(load(`colWidths.${expId}`, {})), [expId]);
  const setWidth = (id: string, w: number) => setWidthsState((ws) => { const n = { ...ws, [id]: w }; save(`colWidths.${expId}`, n); return n; });
  const columns = useMemo(() => orderColumns(cols).map((id) => { const c = columnFor(id); return widths[id] ? { ...c, width: widths[id] } : c; }), [cols.join('\u0000'), widths]);

  const setSort = (id: string) => setQuery({ sort: id === 'attr:start_time' ? undefined : id, asc: id === sortId && desc ? '1' : undefined });
  const selIds = [...selected];

  return (
    <div class="page runs-page">
      <div class="page-head">
        <h1 title={exp?.name}>{exp ? exp.name : expErr ? 'Experiment' : '…'}</h1>
        {exp ? <span class="muted mono small">ID {exp.experiment_id}</span> : null}
        {exp ? <button class="icon-btn" title="Rename experiment" onClick={() => setRenaming(true)}><Icon name="edit" /></button> : null}
        <div class="spacer" />
        <Tabs active={view} tabs={experimentTabs(expId, query, manage)} />
      </div>
      <ErrorBox error={expErr} />
      <div class="toolbar">
        <form class="filter" onSubmit={(e) => { e.preventDefault(); setQuery({ filter: draft.trim() }); }}>
          <FilterInput value={draft} onInput={setDraft} keys={keys} />
          {filter ? <button type="button" class="btn small" onClick={() => setQuery({ filter: undefined })}>Clear</button> : null}
          <button type="submit" class="btn small">Search</button>
        </form>
        <select value={lifecycle} onChange={(e) => setQuery({ lifecycle: (e.target as HTMLSelectElement).value === 'ACTIVE_ONLY' ? undefined : (e.target as HTMLSelectElement).value })} title="Lifecycle">
          <option value="ACTIVE_ONLY">Active</option>
          <option value="DELETED_ONLY">Deleted</option>
          <option value="ALL">All</option>
        </select>
        {view === 'table' ? (
          <div class="picker-anchor">
            <button class="btn small" data-action="columns" onClick={() => setPicker(!picker)}>Columns ▾</button>
            {picker ? <ColumnPicker keys={keys} cols={cols} setCols={setCols} onClose={() => setPicker(false)} /> : null}
          </div>
        ) : null}
        {view === 'table' ? (
          <div class="picker-anchor">
            <button class="btn small" data-action="download-csv" onClick={() => setCsvMenu(!csvMenu)} disabled={!runs.runs.length}>Download CSV ▾</button>
            {csvMenu ? (
              <div class="menu" role="menu" onMouseLeave={() => setCsvMenu(false)}>
                <button role="menuitem" data-csv="visible" onClick={() => { setCsvMenu(false); download(`${exp?.name || 'runs'}-runs.csv`, runsCSV(runs.runs, orderColumns(cols)), 'text/csv'); }}>Visible columns</button>
                <button role="menuitem" data-csv="all" onClick={() => { setCsvMenu(false); download(`${exp?.name || 'runs'}-runs-all.csv`, runsCSV(runs.runs, allColumns(keys)), 'text/csv'); }}>All columns</button>
              </div>
            ) : null}
          </div>
        ) : null}
        {view === 'table' ? (
          <button class="btn small" onClick={() => setExpanded(expanded.size ? new Set() : new Set(runs.runs.map((r) => tag(r.data.tags, PARENT)).filter((x): x is string => !!x)))}>
            {expanded.size ? 'Collapse all' : 'Expand all'}
          </button>
        ) : null}
        <div class="spacer" />
        {selIds.length ? <span class="muted small">{selIds.length} selected</span> : null}
        <button class="btn small" data-action="compare" disabled={selIds.length < 2} onClick={() => navigate(href(['compare'], { runs: selIds.join(','), exp: expId }))}>Compare</button>
        {lifecycle !== 'ACTIVE_ONLY' ? <button class="btn small" disabled={!selIds.length} onClick={() => setConfirm('restore')}>Restore</button> : null}
        {lifecycle !== 'DELETED_ONLY' ? <button class="btn small danger-text" data-action="delete-runs" disabled={!selIds.length} onClick={() => setConfirm('delete')}>Delete</button> : null}
      </div>
      <ErrorBox error={runs.error} />
      <div class="statusline muted small">
        {runs.loading ? `Loading runs… ${runs.runs.length || ''}` : `${runs.runs.length} run${runs.runs.length === 1 ? '' : 's'}`}
        {nested && view === 'table' ? ` (${nested} nested under their parent${expanded.size ? '' : ', collapsed'})` : ''}
        {runs.runs.some((r) => r.info.status === 'RUNNING') ? <span class="live"> ● live</span> : null}
      </div>
      {view === 'table' ? (
        runs.loading && !runs.runs.length ? <Spinner /> : !runs.runs.length && !runs.error ? (
          <div class="empty">No runs{filter ? ' match this filter' : ' yet'}. Log some with <code>mlflow.start_run()</code>.</div>
        ) : (
          <VirtualRunsTable rows={rows} cols={columns} selected={selected} expId={expId}
            toggleSel={(id, on) => { const s = new Set(selected); on ? s.add(id) : s.delete(id); setSelected(s); }}
            toggleAll={(on) => setSelected(on ? new Set(rows.map((r) => r.run.info.run_id)) : new Set())}
            toggleExpand={(id) => { const s = new Set(expanded); s.has(id) ? s.delete(id) : s.add(id); setExpanded(s); }}
            sort={{ id: sortId, desc }} setSort={setSort}
            onResize={setWidth} onMove={(id, before) => setCols(moveColumn(orderColumns(cols), id, before))} />
        )
      ) : (
        <ChartView expId={expId} runs={runs.runs} query={query} />
      )}
      {confirm ? (
        <ConfirmModal title={confirm === 'delete' ? 'Delete runs' : 'Restore runs'} danger={confirm === 'delete'} confirm={confirm === 'delete' ? 'Delete' : 'Restore'}
          message={`${confirm === 'delete' ? 'Delete' : 'Restore'} ${selIds.length} run${selIds.length === 1 ? '' : 's'}?`}
          onClose={() => setConfirm(null)}
          onConfirm={async () => {
            for (const id of selIds) await (confirm === 'delete' ? deleteRun(id) : restoreRun(id));
            setSelected(new Set());
            await runs.reload();
          }} />
      ) : null}
      {renaming && exp ? (
        <PromptModal title="Rename experiment" label="New name" initial={exp.name} submit="Rename" onClose={() => setRenaming(false)}
          onSubmit={async (name) => { await renameExperiment(expId, name); setExp({ ...exp, name }); await refreshExperiments(); }} />
      ) : null}
    </div>
  );
}
