import { Icon } from '../ui/Icon';
import { useState } from 'preact/hooks';
import type { ModelVersion, RegisteredModel } from '../lib/api';
import { createRegisteredModel, deleteRegisteredModel, deleteVersionTag, getModelVersion, setVersionTag, deleteAlias, deleteModelTag, getLoggedModel, getRegisteredModel, searchModelVersions, searchRegisteredModels, setAlias, setModelTag, updateModelDescription, updateVersionDescription } from './api';
import { getRun } from '../runs/api';
import { href, navigate, setQuery } from '../lib/router';
import { fmtAgo, fmtTime } from '../lib/format';
import { useCanManage } from '../admin/session';
import { StageSelect } from './StageSelect';
import { TagEditor } from '../ui/TagEditor';
import { ConfirmModal, EditableMarkdown, ErrorBox, KVTable, PromptModal, Spinner, useAsync } from '../ui/widgets';


function Stage({ stage }: { stage?: string }) {
  const s = stage || 'None';
  return <span class={`stage stage-${s.toLowerCase()}`}>{s}</span>;
}

function Alias({ name, onRemove }: { name: string; onRemove?: () => void }) {
  return <span class="alias" data-alias={name}>@{name}{onRemove ? <button class="alias-x" title={`Remove alias ${name}`} onClick={onRemove}>×</button> : null}</span>;
}

export function ModelsPage({ query }: { query: URLSearchParams }) {
  const q = query.get('q') || '';
  const filter = q ? `name ILIKE '%${q.replace(/'/g, "\\'")}%'` : '';
  const { data, error, loading } = useAsync(() => searchRegisteredModels(filter), [filter]);
  const [creating, setCreating] = useState(false);
  return (
    <div class="page">
      <div class="page-head">
        <h1>Registered models</h1>
        <div class="spacer" />
        <input class="search wide" placeholder="Search models by name" value={q} onInput={(e) => setQuery({ q: (e.target as HTMLInputElement).value })} />
        <button class="btn primary" onClick={() => setCreating(true)}><Icon name="plus" /> New model</button>
      </div>
      <ErrorBox error={error} />
      {loading && !data ? <Spinner /> : (
        <table class="grid-table">
          <thead><tr><th>Name</th><th>Latest version</th><th>Aliases</th><th>Stages</th><th>Last modified</th><th>Description</th></tr></thead>
          <tbody>
            {(data || []).map((m) => {
              const latest = (m.latest_versions || []).reduce<ModelVersion | undefined>((a, v) => (!a || Number(v.version) > Number(a.version) ? v : a), undefined);
              return (
                <tr key={m.name}>
                  <td><a href={href(['models', m.name])}>{m.name}</a></td>
                  <td>{latest ? <a href={href(['models', m.name, 'versions', latest.version])}>Version {latest.version}</a> : <span class="muted">–</span>}</td>
                  <td>{(m.aliases || []).map((a) => <Alias key={a.alias} name={`${a.alias}: v${a.version}`} />)}</td>
                  <td>{(m.latest_versions || []).filter((v) => v.current_stage && v.current_stage !== 'None').map((v) => <span key={v.version}><Stage stage={v.current_stage} /> v{v.version} </span>)}</td>
                  <td title={fmtTime(m.last_updated_timestamp)}>{fmtAgo(m.last_updated_timestamp)}</td>
                  <td class="ellipsis muted">{(m.description || '').split('\n')[0]}</td>
                </tr>
              );
            })}
            {data && !data.length ? <tr><td colSpan={6} class="muted">No registered models{q ? ' match' : ''}. Register one from a run's artifacts or logged models.</td></tr> : null}
          </tbody>
        </table>
      )}
      {creating ? <PromptModal title="Create registered model" label="Name" submit="Create" onClose={() => setCreating(false)}
        onSubmit={async (name) => { await createRegisteredModel(name); navigate(href(['models', name])); }} /> : null}
    </div>
  );
}


export function ModelPage({ name }: { name: string }) {
  const m = useAsync(() => getRegisteredModel(name), [name]);
  const vs = useAsync(() => searchModelVersions(name), [name]);
  const [aliasFor, setAliasFor] = useState<string | null>(null);
  const [del, setDel] = useState(false);
  const manage = useCanManage({ kind: 'model', id: name });
  const [err, setErr] = useState<unknown>(null);
  const reload = () => { m.reload(); vs.reload(); };
  if (m.error && !m.data) return <div class="page"><ErrorBox error={m.error} /></div>;
  const model: RegisteredModel | undefined = m.data;
  if (!model) return <div class="page"><Spinner /></div>;
  const aliasesOf = (v: string) => (model.aliases || []).filter((a) => a.version === v).map((a) => a.alias);
  return (
    <div class="page model-page">
      <div class="crumbs"><a href={href(['models'])}>Registered models</a> <span>›</span></div>
      <div class="page-head">
        <h1>{model.name}</h1>
        <div class="spacer" />
        {manage ? <a class="btn small" data-action="model-permissions" href={href(['models', name, 'permissions'])}>Permissions</a> : null}
        <button class="btn small danger-text" onClick={() => setDel(true)}>Delete model</button>
      </div>
      <ErrorBox error={err} />
      <div class="overview">
        <div class="overview-main">
          <section class="card">
            <div class="card-head"><h3>Description</h3></div>
            <EditableMarkdown text={model.description || ''} placeholder="No description." onSave={async (d) => { await updateModelDescription(name, d); m.reload(); }} />
          </section>
          <section class="card">
            <div class="card-head"><h3>Versions ({vs.data?.length ?? '…'})</h3></div>
            <ErrorBox error={vs.error} />
            <table class="grid-table">
              <thead><tr><th>Version</th><th>Registered</th><th>Aliases</th><th>Stage</th><th>Source run</th><th>Tags</th><th>Description</th><th /></tr></thead>
              <tbody>
                {(vs.data || []).map((v) => (
                  <tr key={v.version} data-version={v.version}>
                    <td><a href={href(['models', name, 'versions', v.version])}>Version {v.version}</a></td>
                    <td title={fmtTime(v.creation_timestamp)}>{fmtAgo(v.creation_timestamp)}</td>
                    <td>{aliasesOf(v.version).map((a) => <Alias key={a} name={a} onRemove={() => deleteAlias(name, a).then(reload, setErr)} />)}</td>
                    <td>
                      <StageSelect name={name} version={v.version} stage={v.current_stage} onDone={reload} onError={setErr} />
                    </td>
                    <td>{v.run_id && !/^0+$/.test(v.run_id) ? <RunLink runId={v.run_id} /> : <span class="muted">–</span>}</td>
                    <td class="version-tags">{(v.tags || []).map((t) => <span key={t.key} class="tag-chip" title={`${t.key}: ${t.value}`}>{t.key}: {t.value}</span>)}</td>
                    <td class="ellipsis muted">{(v.description || '').split('\n')[0]}</td>
                    <td class="actions"><button class="btn small" data-action="add-alias" onClick={() => setAliasFor(v.version)}><Icon name="plus" /> Alias</button></td>
                  </tr>
                ))}
                {vs.data && !vs.data.length ? <tr><td colSpan={8} class="muted">No versions yet.</td></tr> : null}
              </tbody>
            </table>
          </section>
        </div>
        <div class="overview-side">
          <section class="card">
            <div class="card-head"><h3>Details</h3></div>
            <KVTable rows={[
              { key: 'Created', value: fmtTime(model.creation_timestamp) },
              { key: 'Last modified', value: fmtTime(model.last_updated_timestamp) },
              { key: 'Aliases', value: (model.aliases || []).length ? (model.aliases || []).map((a) => <Alias key={a.alias} name={`${a.alias}: v${a.version}`} />) : '–' },
            ]} />
          </section>
          <section class="card">
            <div class="card-head"><h3>Tags</h3></div>
            <TagEditor tags={model.tags || []} onSet={async (k, v) => { await setModelTag(name, k, v); m.reload(); }} onDelete={async (k) => { await deleteModelTag(name, k); m.reload(); }} />
          </section>
        </div>
      </div>
      {aliasFor ? <PromptModal title={`Set alias on version ${aliasFor}`} label="Alias (e.g. champion)" submit="Set alias" onClose={() => setAliasFor(null)}
        onSubmit={async (a) => { await setAlias(name, a, aliasFor); reload(); }} /> : null}
      {del ? <ConfirmModal title="Delete registered model" danger confirm="Delete" message={<>Delete <b>{name}</b> and all its versions?</>} onClose={() => setDel(false)}
        onConfirm={async () => { await deleteRegisteredModel(name); navigate(href(['models'])); }} /> : null}
    </div>
  );
}

function RunLink({ runId }: { runId: string }) {
  const { data } = useAsync(() => getRun(runId).catch(() => null), [runId]);
  if (!data) return <span class="mono small">{runId.slice(0, 8)}</span>;
  return <a href={href(['experiments', data.info.experiment_id, 'runs', runId])}>{data.info.run_name || runId.slice(0, 8)}</a>;
}

/** SourceLink links a version's source folder to the run's artifact browser when it lies in the run's artifacts. */
function SourceLink({ mv }: { mv: ModelVersion }) {
  const text = <span class="mono small">{mv.source}</span>;
  const m = /\/artifacts\/(.+)$/.exec(mv.source || '');
  const linkable = !!m && !!mv.run_id && !/^models:/.test(mv.source || '');
  const { data } = useAsync(() => (linkable ? getRun(mv.run_id!).catch(() => null) : Promise.resolve(null)), [mv.run_id, linkable]);
  if (!m || !data || !mv.source!.startsWith((data.info.artifact_uri || '\u0000') + '/')) return text;
  return <a href={href(['experiments', data.info.experiment_id, 'runs', mv.run_id!, 'artifacts'], { path: m[1].replace(/\/+$/, '') + '/' })} title="Open in the run's artifacts">{text}</a>;
}

function LoggedModelLink({ id }: { id: string }) {
  const { data } = useAsync(() => getLoggedModel(id).catch(() => null), [id]);
  if (!data) return <span class="mono small">{id}</span>;
  const runId = data.info.source_run_id;
  return runId
    ? <a href={href(['experiments', data.info.experiment_id, 'runs', runId, 'artifacts'], { model: id })}>{data.info.name} <span class="mono small">{id}</span></a>
    : <span>{data.info.name} <span class="mono small">{id}</span></span>;
}

export function ModelVersionPage({ name, version }: { name: string; version: string }) {
  const v = useAsync(() => getModelVersion(name, version), [name, version]);
  const [aliasing, setAliasing] = useState(false);
  const [err, setErr] = useState<unknown>(null);
  if (v.error && !v.data) return <div class="page"><ErrorBox error={v.error} /></div>;
  const mv = v.data;
  if (!mv) return <div class="page"><Spinner /></div>;
  return (
    <div class="page">
      <div class="crumbs"><a href={href(['models'])}>Registered models</a> <span>›</span> <a href={href(['models', name])}>{name}</a> <span>›</span></div>
      <div class="page-head">
        <h1>{name} <span class="muted">v{version}</span></h1>
        <Stage stage={mv.current_stage} />
        {(mv.aliases || []).map((a) => <Alias key={a} name={a} onRemove={() => deleteAlias(name, a).then(v.reload, setErr)} />)}
        <div class="spacer" />
        <button class="btn small" data-action="add-alias" onClick={() => setAliasing(true)}><Icon name="plus" /> Alias</button>
        <StageSelect name={name} version={version} stage={mv.current_stage} onDone={v.reload} onError={setErr} />
      </div>
      <ErrorBox error={err} />
      <div class="overview">
        <div class="overview-main">
          <section class="card">
            <div class="card-head"><h3>Description</h3></div>
            <EditableMarkdown text={mv.description || ''} placeholder="No description." onSave={async (d) => { await updateVersionDescription(name, version, d); v.reload(); }} />
          </section>
        </div>
        <div class="overview-side">
          <section class="card">
            <div class="card-head"><h3>Details</h3></div>
            <KVTable rows={[
              { key: 'Registered', value: fmtTime(mv.creation_timestamp) },
              { key: 'Last modified', value: fmtTime(mv.last_updated_timestamp) },
              { key: 'Status', value: mv.status || '' },
              { key: 'Source', value: <SourceLink mv={mv} /> },
              { key: 'Source run', value: mv.run_id && !/^0+$/.test(mv.run_id) ? <RunLink runId={mv.run_id} /> : '–' },
              ...(/^models:\/m-/.test(mv.source || '') ? [{ key: 'Logged model', value: <LoggedModelLink id={(mv.source || '').slice('models:/'.length)} /> }] : []),
            ]} />
          </section>
          <section class="card">
            <div class="card-head"><h3>Tags</h3></div>
            <TagEditor tags={mv.tags || []}
              onSet={async (k, val) => { await setVersionTag(name, version, k, val); v.reload(); }}
              onDelete={async (k) => { await deleteVersionTag(name, version, k); v.reload(); }} />
          </section>
        </div>
      </div>
      {aliasing ? <PromptModal title={`Set alias on version ${version}`} label="Alias" submit="Set alias" onClose={() => setAliasing(false)}
        onSubmit={async (a) => { await setAlias(name, a, version); v.reload(); }} /> : null}
    </div>
  );
}
