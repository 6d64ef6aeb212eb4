import { Icon } from '../ui/Icon';
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { num } from '../lib/api';
import type { LoggedModel, Run } from '../lib/api';
import { getLoggedModel, searchModelVersionsWhere } from '../models/api';
import { deleteRun, deleteRunTag, getRun, renameRun, restoreRun, searchRunsPage, setRunTag } from './api';
import { href, navigate, setQuery } from '../lib/router';
import { fmtDuration, fmtNum, fmtTime, tag } from '../lib/format';
import { EditableMarkdown, ErrorBox, KVTable, PromptModal, Spinner, StatusBadge, Tabs, useAsync, usePoll } from '../ui/widgets';
import { ArtifactBrowser } from '../artifacts/ArtifactBrowser';
import { ChartControls, chartOpts } from '../ui/chart/ChartControls';
import { MetricChart } from '../ui/chart/MetricChart';
import { metricVersion } from '../ui/chart/data';
import { RegisterModal } from '../models/RegisterModal';
import { experimentName, useExperimentName } from '../experiments/list';
import { assignColors, colorFor } from '../ui/runColors';
import { GIT, NOTE, PARENT, SOURCE, runName } from './model';
import { TagEditor } from '../ui/TagEditor';

function Section({ title, children, extra }: { title: string; children: ComponentChildren; extra?: ComponentChildren }) {
  return (
    <section class="card">
      <div class="card-head"><h3>{title}</h3><div class="spacer" />{extra}</div>
      {children}
    </section>
  );
}

function Filterable({ rows, placeholder, empty }: { rows: { key: string; value: ComponentChildren; text: string }[]; placeholder: string; empty: string }) {
  const [q, setQ] = useState('');
  const shown = rows.filter((r) => (r.key + ' ' + r.text).toLowerCase().includes(q.toLowerCase()));
  return (
    <>
      {rows.length > 8 ? <input class="search inline-search" placeholder={placeholder} value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} /> : null}
      <KVTable rows={shown} empty={empty} />
    </>
  );
}

function LoggedModels({ run }: { run: Run }) {
  const ids = [...new Set((run.outputs?.model_outputs || []).map((m) => m.model_id))];
  const { data, error } = useAsync(() => Promise.all(ids.map((id) => getLoggedModel(id).catch(() => null))), [ids.join()]);
  const [reg, setReg] = useState<LoggedModel | null>(null);
  if (!ids.length) return null;
  return (
    <Section title="Logged models">
      <ErrorBox error={error} />
      <table class="grid-table">
        <thead><tr><th>Name</th><th>Model ID</th><th>Status</th><th>Type</th><th /></tr></thead>
        <tbody>
          {(data || []).map((m, i) => m ? (
            <tr key={m.info.model_id}>
              <td>{m.info.name}</td>
              <td class="mono small">{m.info.model_id}</td>
              <td>{m.info.status.replace('LOGGED_MODEL_', '').toLowerCase()}</td>
              <td>{m.info.model_type || ''}</td>
              <td class="actions">
                <a class="btn small" href={href(['experiments', run.info.experiment_id, 'runs', run.info.run_id, 'artifacts'], { model: m.info.model_id })}>Files</a>
                <button class="btn small primary" data-action="register-logged-model" onClick={() => setReg(m)}>Register</button>
              </td>
            </tr>
          ) : <tr key={ids[i]}><td colSpan={5} class="mono muted">{ids[i]} (not found)</td></tr>)}
        </tbody>
      </table>
      {reg ? <RegisterModal source={`models:/${reg.info.model_id}`} modelId={reg.info.model_id} runId={run.info.run_id} defaultName={reg.info.name} onClose={() => setReg(null)} /> : null}
    </Section>
  );
}

/** RegisteredVersions lists the model versions registered from the run (MLflow's "Registered models" of a run). */
function RegisteredVersions({ run }: { run: Run }) {
  const { data } = useAsync(() => searchModelVersionsWhere(`run_id = '${run.info.run_id}'`).catch(() => []), [run.info.run_id]);
  if (!data?.length) return null;
  return (
    <Section title={`Registered versions (${data.length})`}>
      <table class="grid-table" data-testid="run-registered-versions">
        <thead><tr><th>Model</th><th>Version</th><th>Stage</th><th>Aliases</th><th>Registered</th></tr></thead>
        <tbody>{data.map((v) => (
          <tr key={v.name + v.version}>
            <td><a href={href(['models', v.name])}>{v.name}</a></td>
            <td><a href={href(['models', v.name, 'versions', v.version])}>Version {v.version}</a></td>
            <td>{v.current_stage || 'None'}</td>
            <td>{(v.aliases || []).map((a) => <span key={a} class="alias">@{a}</span>)}</td>
            <td>{fmtTime(v.creation_timestamp)}</td>
          </tr>
        ))}</tbody>
      </table>
    </Section>
  );
}

function ParentLink({ expId, runId }: { expId: string; runId: string }) {
  const { data } = useAsync(() => getRun(runId).catch(() => null), [runId]);
  return <a href={href(['experiments', expId, 'runs', runId])} title={runId}>{data ? runName(data) : <span class="mono small">{runId.slice(0, 8)}</span>}</a>;
}

function ChildRuns({ run }: { run: Run }) {
  const { data } = useAsync(() => searchRunsPage([run.info.experiment_id], `tags.\`${PARENT}\` = '${run.info.run_id}'`, ['attributes.start_time ASC'], 'ACTIVE_ONLY', undefined, 200), [run.info.run_id]);
  const kids = data?.runs || [];
  assignColors(kids.map((k) => k.info.run_id));
  if (!kids.length) return null;
  return (
    <Section title={`Child runs (${kids.length})`}>
      <ul class="plain-list">
        {kids.map((k) => (
          <li key={k.info.run_id}>
            <span class="dot" style={{ background: colorFor(k.info.run_id) }} />
            <a href={href(['experiments', k.info.experiment_id, 'runs', k.info.run_id])}>{runName(k)}</a>
            <StatusBadge status={k.info.status} />
          </li>
        ))}
      </ul>
    </Section>
  );
}

function Overview({ run, onChange }: { run: Run; onChange: (r: Run) => void }) {
  const i = run.info;
  const tags = run.data.tags || [];
  const [showSys, setShowSys] = useState(false);
  const parent = tag(tags, PARENT);
  const git = tag(tags, GIT);
  const source = tag(tags, SOURCE);
  const userTags = tags.filter((t) => showSys || !t.key.startsWith('mlflow.'));
  // Model metrics first, system metrics after.
  const metrics = [...(run.data.metrics || [])].sort((a, b) => Number(a.key.startsWith('system/')) - Number(b.key.startsWith('system/')) || a.key.localeCompare(b.key));
  const params = [...(run.data.params || [])].sort((a, b) => a.key.localeCompare(b.key));
  const datasets = run.inputs?.dataset_inputs || [];
  return (
    <div class="overview">
      <div class="overview-main">
        <Section title="Description">
          <EditableMarkdown text={tag(tags, NOTE) || ''} placeholder="No description. Click Edit to add one (Markdown)." onSave={async (v) => {
            await setRunTag(i.run_id, NOTE, v);
            const others = tags.filter((t) => t.key !== NOTE);
            onChange({ ...run, data: { ...run.data, tags: [...others, { key: NOTE, value: v }] } });
          }} />
        </Section>
        <Section title={`Parameters (${params.length})`}>
          <Filterable placeholder="Search parameters" empty="No parameters." rows={params.map((p) => ({ key: p.key, value: <span class="mono">{p.value}</span>, text: p.value }))} />
        </Section>
        <Section title={`Metrics (${metrics.length})`}>
          <Filterable placeholder="Search metrics" empty="No metrics." rows={metrics.map((m) => ({
            key: m.key,
            text: String(m.value),
            value: <a class="num" href={href(['experiments', i.experiment_id, 'runs', i.run_id, m.key.startsWith('system/') ? 'system-metrics' : 'model-metrics'], { m: m.key })} title={`step ${m.step}, ${fmtTime(m.timestamp)}`}>{fmtNum(num(m.value) ?? String(m.value))}</a>,
          }))} />
        </Section>
        <LoggedModels run={run} />
        <RegisteredVersions run={run} />
        {datasets.length ? (
          <Section title="Datasets">
            <table class="grid-table">
              <thead><tr><th>Name</th><th>Digest</th><th>Context</th><th>Source</th></tr></thead>
              <tbody>{datasets.map((d, k) => (
                <tr key={k}><td>{d.dataset.name}</td><td class="mono">{d.dataset.digest}</td><td>{tag(d.tags, 'mlflow.data.context') || ''}</td><td class="mono small ellipsis">{d.dataset.source_type}</td></tr>
              ))}</tbody>
            </table>
          </Section>
        ) : null}
        <ChildRuns run={run} />
      </div>
      <div class="overview-side">
        <Section title="Details">
          <KVTable rows={[
            { key: 'Run ID', value: <span class="mono small">{i.run_id}</span> },
            { key: 'Status', value: <StatusBadge status={i.status} /> },
            { key: 'Experiment', value: <a href={href(['experiments', i.experiment_id])}>{experimentName(i.experiment_id) || i.experiment_id}</a> },
            { key: 'Started', value: fmtTime(i.start_time) },
            { key: 'Ended', value: fmtTime(i.end_time) || '–' },
            { key: 'Duration', value: fmtDuration(i.start_time, i.end_time, i.status === 'RUNNING') || '–' },
            { key: 'User', value: i.user_id || tag(tags, 'mlflow.user') || '–' },
            { key: 'Source', value: source ? <span class="mono small" title={source}>{source}</span> : '–' },
            { key: 'Git commit', value: git ? <span class="mono small" title={git}>{git}</span> : '–' },
            ...(parent ? [{ key: 'Parent run', value: <ParentLink expId={i.experiment_id} runId={parent} /> }] : []),
            { key: 'Lifecycle', value: i.lifecycle_stage },
            { key: 'Artifact URI', value: <span class="mono small">{i.artifact_uri}</span> },
          ]} />
        </Section>
        <Section title={`Tags (${userTags.length})`} extra={<label class="check small"><input type="checkbox" checked={showSys} onChange={(e) => setShowSys((e.target as HTMLInputElement).checked)} /> system</label>}>
          <TagEditor tags={userTags} onSet={async (k, v) => {
            await setRunTag(i.run_id, k, v);
            onChange({ ...run, data: { ...run.data, tags: [...tags.filter((t) => t.key !== k), { key: k, value: v }] } });
          }} onDelete={async (k) => {
            await deleteRunTag(i.run_id, k);
            onChange({ ...run, data: { ...run.data, tags: tags.filter((t) => t.key !== k) } });
          }} />
        </Section>
      </div>
    </div>
  );
}

function MetricsTab({ run, system, query }: { run: Run; system: boolean; query: URLSearchParams }) {
  const opts = chartOpts(query);
  const keys = (run.data.metrics || []).map((m) => m.key).filter((k) => k.startsWith('system/') === system && k.toLowerCase().includes(opts.q.toLowerCase())).sort();
  const base = { id: run.info.run_id, label: runName(run), color: colorFor(run.info.run_id), start: run.info.start_time, running: run.info.status === 'RUNNING' };
  return (
    <div>
      <ChartControls opts={opts} />
      {!keys.length ? <div class="empty">{system ? 'No system metrics. Start runs with log_system_metrics=True to record CPU, memory, disk, network and GPU usage.' : 'No model metrics logged.'}</div> : null}
      <div class="chart-grid">
        {keys.map((k) => <MetricChart key={k} metric={k} runs={[{ ...base, version: metricVersion(run, k) }]} xMode={opts.xMode} logY={opts.logY} smoothing={opts.smoothing} syncKey={`run-${run.info.run_id}`} />)}
      </div>
    </div>
  );
}

function ModelArtifacts({ modelId, query }: { modelId: string; query: URLSearchParams }) {
  const { data, error } = useAsync(() => getLoggedModel(modelId), [modelId]);
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Spinner />;
  return (
    <div>
      <div class="muted small">Logged model <b>{data.info.name}</b> <span class="mono">{modelId}</span> · <a href={'#' + location.hash.slice(1).split('?')[0]}>run artifacts</a></div>
      <ArtifactBrowser root={{ uri: data.info.artifact_uri }} path={query.get('path') || ''} onPath={(p) => setQuery({ path: p })} registerName={data.info.name} modelId={modelId} sourceRunId={data.info.source_run_id} createdMs={data.info.creation_timestamp_ms} />
    </div>
  );
}

export function RunPage({ expId, runId, tab, query }: { expId: string; runId: string; tab: string; query: URLSearchParams }) {
  const { data: run, error, set, reload } = useAsync(() => getRun(runId), [runId]);
  const [renaming, setRenaming] = useState(false);
  const expName = useExperimentName(expId);
  // Live: a running run is re-read every second (one small request); charts refetch only what changed.
  usePoll(reload, 1000, run?.info.status === 'RUNNING');
  useEffect(() => { document.title = run ? `${runName(run)} · mltrack` : 'mltrack'; }, [run]);
  if (error && !run) return <div class="page"><ErrorBox error={error} /></div>;
  if (!run) return <div class="page"><Spinner /></div>;
  const base = ['experiments', expId, 'runs', runId];
  assignColors([runId]);
  const nSys = (run.data.metrics || []).filter((m) => m.key.startsWith('system/')).length;
  const nModel = (run.data.metrics || []).length - nSys;
  return (
    <div class="page run-page">
      <div class="crumbs">
        <a href={href(['experiments', expId])}>{expName || `Experiment ${expId}`}</a>
        <span>›</span>
        <span class="mono">{runId.slice(0, 8)}</span>
      </div>
      <div class="page-head">
        <span class="dot big" style={{ background: colorFor(runId) }} />
        <h1 data-testid="run-name">{runName(run)}</h1>
        <button class="icon-btn" title="Rename run" data-action="rename-run" onClick={() => setRenaming(true)}><Icon name="edit" /></button>
        <StatusBadge status={run.info.status} />
        {run.info.lifecycle_stage === 'deleted' ? <span class="status status-failed">deleted</span> : null}
        <div class="spacer" />
        {run.info.lifecycle_stage === 'deleted'
          ? <button class="btn small" onClick={async () => { await restoreRun(runId); reload(); }}>Restore</button>
          : <button class="btn small danger-text" onClick={async () => { if (confirm('Delete this run?')) { await deleteRun(runId); navigate(href(['experiments', expId])); } }}>Delete</button>}
      </div>
      <Tabs active={tab} tabs={[
        { id: 'overview', label: 'Overview', href: href(base) },
        { id: 'model-metrics', label: `Model metrics${nModel ? ` (${nModel})` : ''}`, href: href([...base, 'model-metrics']) },
        { id: 'system-metrics', label: `System metrics${nSys ? ` (${nSys})` : ''}`, href: href([...base, 'system-metrics']) },
        { id: 'artifacts', label: 'Artifacts', href: href([...base, 'artifacts']) },
      ]} />
      <ErrorBox error={error} />
      <div class="tab-body">
        {tab === 'model-metrics' ? <MetricsTab run={run} system={false} query={query} />
          : tab === 'system-metrics' ? <MetricsTab run={run} system query={query} />
          : tab === 'artifacts' ? (query.get('model') ? <ModelArtifacts modelId={query.get('model')!} query={query} />
            : <>
              {run.outputs?.model_outputs?.length ? (
                <div class="muted small logged-models-bar">Logged models of this run:{' '}
                  {[...new Set(run.outputs.model_outputs.map((m) => m.model_id))].map((id) => <a key={id} class="mono" href={href([...base, 'artifacts'], { model: id })}>{id}</a>)}
                </div>
              ) : null}
              <ArtifactBrowser root={{ uri: run.info.artifact_uri || '', runId }} path={query.get('path') || ''} onPath={(p) => setQuery({ path: p })} />
            </>)
          : <Overview run={run} onChange={set} />}
      </div>
      {renaming ? (
        <PromptModal title="Rename run" label="Run name" initial={runName(run)} submit="Rename" onClose={() => setRenaming(false)}
          onSubmit={async (name) => { await renameRun(runId, name); await reload(); }} />
      ) : null}
    </div>
  );
}

