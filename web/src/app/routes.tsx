// Every page of the UI, one line each: a path pattern (see matchPath), the
// top-bar section it belongs to, whether the experiments sidebar shows, and
// what it renders. The first pattern that matches wins; "" is the home page.
import type { ComponentChildren } from 'preact';
import { ExperimentsHome } from '../experiments/ExperimentsPage';
import { ExperimentPage } from '../runs/ExperimentPage';
import { RunPage } from '../runs/RunPage';
import { ComparePage } from '../compare/ComparePage';
import { ModelsPage, ModelPage, ModelVersionPage } from '../models/ModelsPages';
import { ExperimentPermissionsPage, ModelPermissionsPage } from '../admin/PermissionsPages';
import { TokensPage, UsersPage } from '../admin/AccountPages';

type Params = Record<string, string>;

export interface PageRoute {
  path: string;
  /** The top-bar section highlighted: experiments, models, account, users. */
  section: string;
  /** Show the experiments sidebar (p.expId marks the active one). */
  sidebar?: boolean;
  render: (p: Params, query: URLSearchParams) => ComponentChildren;
}

export const routes: PageRoute[] = [
  { path: 'experiments/:expId/permissions', section: 'experiments', sidebar: true, render: (p, q) => <ExperimentPermissionsPage expId={p.expId} query={q} /> },
  { path: 'experiments/:expId/runs/:runId/:tab?', section: 'experiments', sidebar: true, render: (p, q) => <RunPage expId={p.expId} runId={p.runId} tab={p.tab || 'overview'} query={q} /> },
  { path: 'experiments/:expId/chart', section: 'experiments', sidebar: true, render: (p, q) => <ExperimentPage expId={p.expId} view="chart" query={q} /> },
  { path: 'experiments/:expId', section: 'experiments', sidebar: true, render: (p, q) => <ExperimentPage expId={p.expId} view="table" query={q} /> },
  { path: 'compare', section: 'experiments', sidebar: true, render: (_p, q) => <ComparePage query={q} /> },
  { path: 'models/:name/permissions', section: 'models', render: (p) => <ModelPermissionsPage name={p.name} /> },
  { path: 'models/:name/versions/:version', section: 'models', render: (p) => <ModelVersionPage name={p.name} version={p.version} /> },
  { path: 'models/:name', section: 'models', render: (p) => <ModelPage name={p.name} /> },
  { path: 'models', section: 'models', render: (_p, q) => <ModelsPage query={q} /> },
  { path: 'tokens', section: 'account', render: (_p, q) => <TokensPage query={q} /> },
  { path: 'users', section: 'users', render: (_p, q) => <UsersPage query={q} /> },
  { path: '', section: 'experiments', render: (_p, q) => <ExperimentsHome query={q} /> },
];
