import { Icon } from '../ui/Icon';
import { useEffect, useState } from 'preact/hooks';
import { createExperiment, deleteExperiment, renameExperiment, restoreExperiment, searchExperiments } from './api';
import type { Experiment } from '../lib/api';
import { href, navigate, setQuery } from '../lib/router';
import { fmtAgo, fmtTime } from '../lib/format';
import { refreshExperiments, useExperiments } from './list';
import { load, save } from '../lib/store';
import { ConfirmModal, ErrorBox, PromptModal, Spinner } from '../ui/widgets';

type Dialog = { kind: 'create' } | { kind: 'rename'; exp: Experiment } | { kind: 'delete'; exp: Experiment } | null;

function ExperimentDialogs({ dialog, close }: { dialog: Dialog; close: () => void }) {
  if (!dialog) return null;
  if (dialog.kind === 'create')
    return <PromptModal title="Create experiment" label="Name" submit="Create" onClose={close} onSubmit={async (name) => {
      const r = await createExperiment(name);
      await refreshExperiments();
      navigate(href(['experiments', r.experiment_id]));
    }} />;
  if (dialog.kind === 'rename')
    return <PromptModal title="Rename experiment" label="New name" initial={dialog.exp.name} submit="Rename" onClose={close} onSubmit={async (name) => {
      await renameExperiment(dialog.exp.experiment_id, name);
      await refreshExperiments();
    }} />;
  return <ConfirmModal title="Delete experiment" danger confirm="Delete" onClose={close}
    message={<>Delete experiment <b>{dialog.exp.name}</b>? Its runs are marked deleted too; it can be restored from the deleted list.</>}
    onConfirm={async () => {
      await deleteExperiment(dialog.exp.experiment_id);
      await refreshExperiments();
      if (location.hash.startsWith(`#/experiments/${dialog.exp.experiment_id}`)) navigate('#/');
    }} />;
}

export function ExperimentsSidebar({ active }: { active?: string }) {
  const { list, error } = useExperiments();
  const [q, setQ] = useState('');
  const [dialog, setDialog] = useState<Dialog>(null);
  // Collapsed: remembered, and the default on a narrow screen.
  const [collapsed, setCollapsedState] = useState<boolean>(() => load('sidebarCollapsed', window.innerWidth < 900));
  const setCollapsed = (c: boolean) => { setCollapsedState(c); save('sidebarCollapsed', c); };
  const shown = (list || []).filter((e) => e.name.toLowerCase().includes(q.toLowerCase()));
  if (collapsed) {
    return (
      <aside class="sidebar collapsed">
        <button class="icon-btn sidebar-toggle" title="Show experiments" aria-label="Show experiments" aria-expanded="false" data-action="toggle-sidebar" onClick={() => setCollapsed(false)}>»</button>
      </aside>
    );
  }
  return (
    <aside class="sidebar">
      <div class="sidebar-head">
        <span>Experiments</span>
        <span>
          <button class="icon-btn" title="Create experiment" data-action="create-experiment" onClick={() => setDialog({ kind: 'create' })}><Icon name="plus" /></button>
          <button class="icon-btn sidebar-toggle" title="Hide experiments" aria-label="Hide experiments" aria-expanded="true" data-action="toggle-sidebar" onClick={() => setCollapsed(true)}>«</button>
        </span>
      </div>
      <input class="search" placeholder="Search experiments" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
      <ErrorBox error={error} />
      <ul class="exp-list">
        {shown.map((e) => (
          <li key={e.experiment_id} class={e.experiment_id === active ? 'active' : ''}>
            <a href={href(['experiments', e.experiment_id])} title={e.name}>{e.name}</a>
            <span class="item-actions">
              <button class="icon-btn" title="Rename" onClick={() => setDialog({ kind: 'rename', exp: e })}><Icon name="edit" /></button>
              <button class="icon-btn" title="Delete" onClick={() => setDialog({ kind: 'delete', exp: e })}><Icon name="trash" /></button>
            </span>
          </li>
        ))}
        {list && !shown.length ? <li class="muted">No match</li> : null}
      </ul>
      <ExperimentDialogs dialog={dialog} close={() => setDialog(null)} />
    </aside>
  );
}

export function ExperimentsHome({ query }: { query: URLSearchParams }) {
  const { list, error } = useExperiments();
  const deleted = query.get('deleted') === '1';
  const [deletedList, setDeletedList] = useState<Experiment[] | undefined>();
  const [dialog, setDialog] = useState<Dialog>(null);
  const q = query.get('q') || '';
  useEffect(() => {
    if (deleted) searchExperiments({ viewType: 'DELETED_ONLY' }).then(setDeletedList, () => setDeletedList([]));
  }, [deleted, list]);
  const src = deleted ? deletedList : list;
  const shown = (src || []).filter((e) => e.name.toLowerCase().includes(q.toLowerCase()) || e.experiment_id === q);
  return (
    <div class="page">
      <div class="page-head">
        <h1>Experiments</h1>
        <div class="spacer" />
        <input class="search wide" placeholder="Search experiments by name" value={q} onInput={(e) => setQuery({ q: (e.target as HTMLInputElement).value })} />
        <label class="check"><input type="checkbox" checked={deleted} onChange={(e) => setQuery({ deleted: (e.target as HTMLInputElement).checked ? '1' : undefined })} /> Deleted</label>
        <button class="btn primary" data-action="create-experiment" onClick={() => setDialog({ kind: 'create' })}><Icon name="plus" /> New experiment</button>
      </div>
      <ErrorBox error={error} />
      {!src ? <Spinner /> : (
        <table class="grid-table">
          <thead>
            <tr><th>Name</th><th>ID</th><th>Created</th><th>Last updated</th><th>Artifact location</th><th /></tr>
          </thead>
          <tbody>
            {shown.map((e) => (
              <tr key={e.experiment_id}>
                <td>{deleted ? e.name : <a href={href(['experiments', e.experiment_id])}>{e.name}</a>}</td>
                <td class="mono">{e.experiment_id}</td>
                <td title={fmtTime(e.creation_time)}>{fmtAgo(e.creation_time)}</td>
                <td title={fmtTime(e.last_update_time)}>{fmtAgo(e.last_update_time)}</td>
                <td class="mono muted ellipsis">{e.artifact_location}</td>
                <td class="actions">
                  {deleted ? (
                    <button class="btn small" onClick={async () => { await restoreExperiment(e.experiment_id); await refreshExperiments(); }}>Restore</button>
                  ) : (
                    <>
                      <button class="btn small" onClick={() => setDialog({ kind: 'rename', exp: e })}>Rename</button>
                      <button class="btn small danger-text" onClick={() => setDialog({ kind: 'delete', exp: e })}>Delete</button>
                    </>
                  )}
                </td>
              </tr>
            ))}
            {!shown.length ? <tr><td colSpan={6} class="muted">No experiments{q ? ' match' : ''}.</td></tr> : null}
          </tbody>
        </table>
      )}
      <ExperimentDialogs dialog={dialog} close={() => setDialog(null)} />
    </div>
  );
}
