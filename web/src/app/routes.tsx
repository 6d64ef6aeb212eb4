// Every page of the UI, one line each: a path pattern (see matchPath), the
// top-bar section it belongs to, whether the experiments sidebar shows, and
// what it renders. The first pattern that matches wins; "" is the home page.
import type { ComponentChildren } from 'preact';
import { href } from '../lib/router';
import { ExperimentsHome } from '../experiments/ExperimentsPage';
import { ExperimentPage } from '../runs/ExperimentPage';
import { RunPage } from '../runs/RunPage';
import { ComparePage } from '../compare/ComparePage';
import { ModelsPage, ModelPage, ModelVersionPage } from '../models/ModelsPages';
import { ExperimentPermissionsPage, ModelPermissionsPage } from '../admin/PermissionsPages';
import { TokensPage, UsersPage } from '../admin/AccountPages';
import { WebhooksPage } from '../webhooks/WebhooksPage';

type Params = Record<string, string>;

export interface PageRoute {
  path: string;
  /** The top-bar section highlighted: experiments, models, account, users. */
  section: string;
  /** Show the experiments sidebar (p.expId marks the active one). */
  sidebar?: boolean;
  render: (p: Params, query: URLSearchParams) => ComponentChildren;
}

/** parseList reads MLflow's list parameters: a JSON array (runs=["a","b"]) or a comma list. */
function parseList(v: string | null): string[] {
  if (!v) return [];
  try {
    const j = JSON.parse(v);
    if (Array.isArray(j)) return j.map(String);
  } catch { /* a comma list */ }
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

/**
 * redirect maps the links MLflow's UI makes to ours, so links from MLflow
 * (in notebooks, chat, docs) land on the same view: #/compare-runs?runs=[...]
 * and #/metric/<key>?runs=[...] are the Compare page, an experiment's
 * ?compareRunsMode=CHART its Charts tab. Undefined: no redirect.
 */
export function redirect(parts: string[], q: URLSearchParams): string | undefined {
  const exp = parseList(q.get('experiments'))[0] || parseList(q.get('experimentIds'))[0];
  if (parts[0] === 'compare-runs' || (parts[0] === 'metric' && parts.length >= 2)) {
    const runs = parseList(q.get('runs')).join(',');
    return href(['compare'], { runs, exp, m: parts[0] === 'metric' ? parts.slice(1).join('/') : undefined });
  }
  if (parts[0] === 'experiments' && parts.length === 2 && q.get('compareRunsMode')) {
    const mode = q.get('compareRunsMode');
    const rest = new URLSearchParams(q);
    rest.delete('compareRunsMode');
    return href(['experiments', parts[1], ...(mode === 'CHART' ? ['chart'] : [])], Object.fromEntries(rest));
  }
  return undefined;
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
  { path: 'webhooks', section: 'webhooks', render: (_p, q) => <WebhooksPage query={q} /> },
  { path: 'tokens', section: 'account', render: (_p, q) => <TokensPage query={q} /> },
  { path: 'users', section: 'users', render: (_p, q) => <UsersPage query={q} /> },
  { path: '', section: 'experiments', render: (_p, q) => <ExperimentsHome query={q} /> },
];
