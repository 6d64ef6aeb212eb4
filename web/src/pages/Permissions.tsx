import * as api from '../api';
import { href } from '../router';
import { ErrorBox, Tabs, useAsync } from '../components/ui';
import { PermissionsPanel } from '../components/Permissions';

/** experimentTabs are the experiment page's tabs; Permissions only for those who may manage them. */
export function experimentTabs(expId: string, query: URLSearchParams, manage: boolean) {
  const q = Object.fromEntries(query);
  const tabs = [
    { id: 'table', label: 'Runs', href: href(['experiments', expId], q) },
    { id: 'chart', label: 'Charts', href: href(['experiments', expId, 'chart'], q) },
  ];
  if (manage) tabs.push({ id: 'permissions', label: 'Permissions', href: href(['experiments', expId, 'permissions'], q) });
  return tabs;
}

/** ExperimentPermissionsPage is #/experiments/<id>/permissions. */
export function ExperimentPermissionsPage({ expId, query }: { expId: string; query: URLSearchParams }) {
  const exp = useAsync(() => api.getExperiment(expId), [expId]);
  return (
    <div class="page">
      <div class="page-head">
        <h1 title={exp.data?.name}>{exp.data ? exp.data.name : exp.error ? 'Experiment' : '…'}</h1>
        {exp.data ? <span class="muted mono small">ID {exp.data.experiment_id}</span> : null}
        <div class="spacer" />
        <Tabs active="permissions" tabs={experimentTabs(expId, query, true)} />
      </div>
      <ErrorBox error={exp.error} />
      <PermissionsPanel resource={{ kind: 'experiment', id: expId }} />
    </div>
  );
}

/** ModelPermissionsPage is #/models/<name>/permissions. */
export function ModelPermissionsPage({ name }: { name: string }) {
  return (
    <div class="page">
      <div class="crumbs"><a href={href(['models'])}>Registered models</a> <span>›</span> <a href={href(['models', name])}>{name}</a> <span>›</span></div>
      <div class="page-head"><h1>Permissions of {name}</h1></div>
      <PermissionsPanel resource={{ kind: 'model', id: name }} />
    </div>
  );
}
