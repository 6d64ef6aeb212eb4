import { getExperiment } from '../experiments/api';
import { href } from '../lib/router';
import { experimentTabs } from '../experiments/tabs';
import { ErrorBox, Tabs, useAsync } from '../ui/widgets';
import { PermissionsPanel } from './PermissionsPanel';

/** ExperimentPermissionsPage is #/experiments/<id>/permissions. */
export function ExperimentPermissionsPage({ expId, query }: { expId: string; query: URLSearchParams }) {
  const exp = useAsync(() => getExperiment(expId), [expId]);
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
