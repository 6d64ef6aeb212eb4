// Thin client for MLflow's REST API as served by mltrack under /ajax-api.
// All URLs are relative so the UI works behind any path prefix.

export interface KV { key: string; value: string }
export interface Metric { key: string; value: number | string; timestamp: number; step: number; run_id?: string }

export interface Experiment {
  experiment_id: string;
  name: string;
  artifact_location?: string;
  lifecycle_stage: string;
  creation_time?: number;
  last_update_time?: number;
  tags?: KV[];
}

export interface RunInfo {
  run_id: string;
  run_name?: string;
  experiment_id: string;
  user_id?: string;
  status: string;
  start_time?: number;
  end_time?: number;
  artifact_uri?: string;
  lifecycle_stage: string;
}

export interface DatasetInput {
  dataset: { name: string; digest: string; source_type?: string; source?: string; schema?: string; profile?: string };
  tags?: KV[];
}

export interface Run {
  info: RunInfo;
  data: { metrics?: Metric[]; params?: KV[]; tags?: KV[] };
  inputs?: { dataset_inputs?: DatasetInput[]; model_inputs?: { model_id: string }[] };
  outputs?: { model_outputs?: { model_id: string; step: number }[] };
}

export interface LoggedModel {
  info: {
    model_id: string; name: string; experiment_id: string; artifact_uri: string; status: string;
    source_run_id?: string; model_type?: string; creation_timestamp_ms?: number; tags?: KV[];
  };
  data?: { params?: KV[]; metrics?: Metric[] };
}

export interface ModelVersion {
  name: string; version: string; creation_timestamp?: number; last_updated_timestamp?: number;
  current_stage?: string; description?: string; source?: string; run_id?: string; status?: string;
  tags?: KV[]; aliases?: string[]; model_id?: string;
}

export interface RegisteredModel {
  name: string; creation_timestamp?: number; last_updated_timestamp?: number; description?: string;
  latest_versions?: ModelVersion[]; tags?: KV[]; aliases?: { alias: string; version: string }[];
}

export interface FileInfo { path: string; is_dir: boolean; file_size?: number }

/** ApiError carries MLflow's error_code and message so pages can show them plainly. */
export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string) {
    super(message);
  }
}

const BASE = 'ajax-api/2.0/mlflow/';
const ARTIFACTS = 'ajax-api/2.0/mlflow-artifacts/artifacts';

function qs(params: Record<string, unknown>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) v.forEach((x) => u.append(k, String(x)));
    else u.append(k, String(v));
  }
  const s = u.toString();
  return s ? '?' + s : '';
}

/** csrfToken is the session's CSRF token, which mltrack puts in a cookie the page can read. */
export function csrfToken(): string | undefined {
  const m = /(?:^|;\s*)mltrack_csrf=([^;]*)/.exec(document.cookie);
  return m ? decodeURIComponent(m[1]) : undefined;
}

/** signInURL is the sign-in page, coming back to where the user is now. */
export function signInURL(): string {
  return 'signin?next=' + encodeURIComponent(location.pathname + location.search + location.hash);
}

let leaving = false;

/** toSignIn sends the browser to the sign-in page once (a session ended or never began). */
export function toSignIn() {
  if (leaving) return;
  leaving = true;
  location.assign(signInURL());
}

/**
 * authFetch is fetch with the headers mltrack's auth wants from browser code:
 * X-Requested-With always (a 401 then carries no Basic challenge, so the
 * browser shows no password dialog) and X-CSRF-Token on writes. With auth
 * off these headers are ignored. A 401 sends the user to the sign-in page.
 */
export async function authFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('X-Requested-With', 'XMLHttpRequest');
  const method = (init.method || 'GET').toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') {
    const t = csrfToken();
    if (t) headers.set('X-CSRF-Token', t);
  }
  const res = await fetch(url, { ...init, headers, credentials: 'same-origin' });
  if (res.status === 401 && !url.includes('mltrack/auth/login')) toSignIn();
  return res;
}

async function call<T>(method: string, path: string, body?: unknown, query?: Record<string, unknown>, base = BASE): Promise<T> {
  const init: RequestInit = { method, headers: {} };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
  }
  const res = await authFetch(base + path + (query ? qs(query) : ''), init);
  const text = await res.text();
  let json: any = {};
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      if (res.status === 401) throw new ApiError(401, 'UNAUTHENTICATED', 'You are not signed in.');
      if (!res.ok) throw new ApiError(res.status, 'HTTP_' + res.status, text.slice(0, 300));
      throw new ApiError(res.status, 'BAD_RESPONSE', 'Response is not JSON');
    }
  }
  if (!res.ok) throw new ApiError(res.status, json.error_code || 'HTTP_' + res.status, json.message || res.statusText);
  return json as T;
}

export const get = <T>(path: string, query?: Record<string, unknown>) => call<T>('GET', path, undefined, query);
export const post = <T>(path: string, body: unknown) => call<T>('POST', path, body);
export const del = <T>(path: string, body: unknown) => call<T>('DELETE', path, body);
export const patch = <T>(path: string, body: unknown) => call<T>('PATCH', path, body);
/** getPath calls a GET endpoint outside MLflow's namespace (mltrack's own read-only ones). */
export const getPath = <T>(path: string, query?: Record<string, unknown>) => call<T>('GET', path, undefined, query, '');
/** own calls one of mltrack's own endpoints under api/2.0/mltrack/. */
export const own = <T>(method: string, path: string, body?: unknown, query?: Record<string, unknown>) =>
  call<T>(method, path, body, query, 'api/2.0/mltrack/');

// ---- experiments ----

export async function searchExperiments(opts: { filter?: string; viewType?: string } = {}): Promise<Experiment[]> {
  const out: Experiment[] = [];
  let page_token: string | undefined;
  do {
    const r = await post<{ experiments?: Experiment[]; next_page_token?: string }>('experiments/search', {
      max_results: 1000, filter: opts.filter || undefined, view_type: opts.viewType || 'ACTIVE_ONLY',
      order_by: ['last_update_time DESC'], page_token,
    });
    out.push(...(r.experiments || []));
    page_token = r.next_page_token;
  } while (page_token && out.length < 20000);
  return out;
}

export const getExperiment = (id: string) =>
  get<{ experiment: Experiment }>('experiments/get', { experiment_id: id }).then((r) => r.experiment);
export const createExperiment = (name: string) => post<{ experiment_id: string }>('experiments/create', { name });
export const renameExperiment = (id: string, name: string) => post('experiments/update', { experiment_id: id, new_name: name });
export const deleteExperiment = (id: string) => post('experiments/delete', { experiment_id: id });
export const restoreExperiment = (id: string) => post('experiments/restore', { experiment_id: id });

// ---- runs ----

export interface SearchRunsPage { runs?: Run[]; next_page_token?: string }

export function searchRunsPage(experimentIds: string[], filter: string, orderBy: string[], viewType: string, pageToken?: string, maxResults = 1000) {
  return post<SearchRunsPage>('runs/search', {
    experiment_ids: experimentIds, filter, order_by: orderBy, run_view_type: viewType,
    max_results: maxResults, page_token: pageToken,
  });
}

export const getRun = (id: string) => get<{ run: Run }>('runs/get', { run_id: id }).then((r) => r.run);
export const setRunTag = (run_id: string, key: string, value: string) => post('runs/set-tag', { run_id, key, value });
export const renameRun = (run_id: string, run_name: string) => post('runs/update', { run_id, run_name });
export const deleteRun = (run_id: string) => post('runs/delete', { run_id });
export const restoreRun = (run_id: string) => post('runs/restore', { run_id });

// ---- metrics ----

/** MLflow encodes NaN as the string "NaN"; charts want numbers or null. */
export function num(v: number | string): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/**
 * Full history of one metric of one run. mltrack answers the whole history
 * to a request without max_results; MLflow answers a page token instead, so
 * we go on paging from it. `maxPoints` bounds what we hold.
 */
export async function metricHistory(runId: string, key: string, maxPoints = 2_000_000): Promise<Metric[]> {
  let out: Metric[] = [];
  let r = await get<{ metrics?: Metric[]; next_page_token?: string }>('metrics/get-history', { run_id: runId, metric_key: key });
  if (r.metrics) out = r.metrics;
  let page_token = r.next_page_token;
  while (page_token && out.length < maxPoints) {
    r = await get<{ metrics?: Metric[]; next_page_token?: string }>('metrics/get-history', {
      run_id: runId, metric_key: key, max_results: 25000, page_token,
    });
    if (r.metrics) for (const m of r.metrics) out.push(m);
    page_token = r.next_page_token;
  }
  return out;
}

/** Histories of one metric for up to 100 runs at once, sampled by the server. */
export async function metricHistoryBulk(runIds: string[], key: string, maxResults = 2500, startStep?: number, endStep?: number): Promise<Map<string, Metric[]>> {
  const byRun = new Map<string, Metric[]>();
  for (let i = 0; i < runIds.length; i += 100) {
    const chunk = runIds.slice(i, i + 100);
    const r = await get<{ metrics?: Metric[] }>('metrics/get-history-bulk-interval', {
      run_ids: chunk, metric_key: key, max_results: maxResults, start_step: startStep, end_step: endStep,
    });
    for (const m of r.metrics || []) {
      const id = m.run_id || chunk[0];
      let arr = byRun.get(id);
      if (!arr) byRun.set(id, (arr = []));
      arr.push(m);
    }
  }
  return byRun;
}

// ---- artifacts ----

/** mlflow-artifacts:/1/abc/artifacts -> "1/abc/artifacts"; undefined for other schemes. */
export function proxiedPath(uri: string | undefined): string | undefined {
  if (!uri) return undefined;
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/?(.*)$/.exec(uri);
  return m ? m[1].replace(/\/+$/, '') : undefined;
}

function encodePath(p: string) {
  return p.split('/').map(encodeURIComponent).join('/');
}

/** Where artifacts of a run or logged model live, and how to reach them. */
export interface ArtifactRoot { uri: string; runId?: string }

export async function listArtifacts(root: ArtifactRoot, path: string): Promise<FileInfo[]> {
  const base = proxiedPath(root.uri);
  if (base !== undefined) {
    const full = path ? `${base}/${path}` : base;
    const res = await authFetch(ARTIFACTS + qs({ path: full }));
    const j = await res.json().catch(() => ({}));
    if (!res.ok) throw new ApiError(res.status, j.error_code || 'HTTP_' + res.status, j.message || res.statusText);
    // The proxy answers paths relative to the listed folder.
    return (j.files || []).map((f: FileInfo) => ({ ...f, path: path ? `${path}/${f.path}` : f.path }));
  }
  if (!root.runId) return [];
  const r = await get<{ files?: FileInfo[] }>('artifacts/list', { run_id: root.runId, path: path || undefined });
  return r.files || [];
}

export function artifactURL(root: ArtifactRoot, path: string): string {
  const base = proxiedPath(root.uri);
  if (base !== undefined) return `${ARTIFACTS}/${encodePath(base ? `${base}/${path}` : path)}`;
  return 'get-artifact' + qs({ path, run_uuid: root.runId });
}

// ---- logged models ----

export async function getLoggedModel(id: string): Promise<LoggedModel> {
  return get<{ model: LoggedModel }>(`logged-models/${encodeURIComponent(id)}`).then((r) => r.model);
}

// ---- registry ----

export async function searchRegisteredModels(filter: string): Promise<RegisteredModel[]> {
  const out: RegisteredModel[] = [];
  let page_token: string | undefined;
  do {
    const r = await get<{ registered_models?: RegisteredModel[]; next_page_token?: string }>('registered-models/search', {
      filter: filter || undefined, max_results: 1000, page_token, order_by: 'name ASC',
    });
    out.push(...(r.registered_models || []));
    page_token = r.next_page_token;
  } while (page_token && out.length < 20000);
  return out;
}

export const getRegisteredModel = (name: string) =>
  get<{ registered_model: RegisteredModel }>('registered-models/get', { name }).then((r) => r.registered_model);

export function searchModelVersions(name: string): Promise<ModelVersion[]> {
  return searchModelVersionsWhere(`name='${name.replace(/'/g, "\\'")}'`);
}

export async function searchModelVersionsWhere(filter: string): Promise<ModelVersion[]> {
  const out: ModelVersion[] = [];
  let page_token: string | undefined;
  do {
    const r = await get<{ model_versions?: ModelVersion[]; next_page_token?: string }>('model-versions/search', {
      filter, max_results: 1000, page_token,
    });
    out.push(...(r.model_versions || []));
    page_token = r.next_page_token;
  } while (page_token);
  return out.sort((a, b) => Number(b.version) - Number(a.version));
}

export const createRegisteredModel = (name: string) => post('registered-models/create', { name });
export const createModelVersion = (body: { name: string; source: string; run_id?: string; model_id?: string }) =>
  post<{ model_version: ModelVersion }>('model-versions/create', body).then((r) => r.model_version);
export const setAlias = (name: string, alias: string, version: string) => post('registered-models/alias', { name, alias, version });
export const deleteAlias = (name: string, alias: string) => del('registered-models/alias', { name, alias });
export const setModelTag = (name: string, key: string, value: string) => post('registered-models/set-tag', { name, key, value });
export const deleteModelTag = (name: string, key: string) => del('registered-models/delete-tag', { name, key });
export const updateModelDescription = (name: string, description: string) => patch('registered-models/update', { name, description });
export const transitionStage = (name: string, version: string, stage: string) =>
  post('model-versions/transition-stage', { name, version, stage, archive_existing_versions: false });
export const updateVersionDescription = (name: string, version: string, description: string) =>
  patch('model-versions/update', { name, version, description });

// ---- auth (mltrack's session endpoints, MLflow's users and permissions) ----

export interface Me { id: number; username: string; is_admin: boolean }
export interface UserSummary { id: number; username: string; is_admin: boolean }
export interface UserDetail extends UserSummary {
  experiment_permissions: { experiment_id: string; permission: string }[];
  registered_model_permissions: { name: string; permission: string }[];
}
export interface TokenInfo { id: string; name: string; username?: string; creation_timestamp: number; expiration_timestamp?: number; last_used_timestamp?: number }

export const whoami = () => own<{ user: Me; default_permission: string }>('GET', 'auth/whoami');
export const logout = () => own('POST', 'auth/logout');
export const listUsers = () => own<{ users: UserSummary[] }>('GET', 'users/list').then((r) => r.users || []);
export const getUser = (username: string) => get<{ user: UserDetail }>('users/get', { username }).then((r) => r.user);
export const createUser = (username: string, password: string) => post<{ user: UserDetail }>('users/create', { username, password });
export const updatePassword = (username: string, password: string) => patch('users/update-password', { username, password });
export const updateAdmin = (username: string, is_admin: boolean) => patch('users/update-admin', { username, is_admin });
export const deleteUser = (username: string) => del('users/delete', { username });

export const createToken = (name: string, expires_in_days?: number, username?: string) =>
  own<{ token: string; token_info: TokenInfo }>('POST', 'tokens/create', { name, expires_in_days, username });
export const listTokens = (username?: string) =>
  own<{ tokens?: TokenInfo[] }>('GET', 'tokens/list', undefined, { username }).then((r) => r.tokens || []);
export const revokeToken = (id: string) => own('DELETE', 'tokens/revoke', { id });

/** The permission levels, weakest first, and NO_PERMISSIONS to shut a user out. */
export const LEVELS = ['READ', 'USE', 'EDIT', 'MANAGE', 'NO_PERMISSIONS'];

/** A resource whose permissions can be managed: an experiment (by ID) or a registered model (by name). */
export interface Resource { kind: 'experiment' | 'model'; id: string }

function permPath(r: Resource, op: string) {
  return `${r.kind === 'experiment' ? 'experiments' : 'registered-models'}/permissions/${op}`;
}
function permKey(r: Resource): Record<string, string> {
  return r.kind === 'experiment' ? { experiment_id: r.id } : { name: r.id };
}

/** getPermission answers a user's grant on the resource, or undefined when there is none. */
export async function getPermission(r: Resource, username: string): Promise<string | undefined> {
  try {
    const j = await get<Record<string, { permission: string }>>(permPath(r, 'get'), { ...permKey(r), username });
    return (j.experiment_permission || j.registered_model_permission)?.permission;
  } catch (e) {
    if (e instanceof ApiError && e.code === 'RESOURCE_DOES_NOT_EXIST' && e.message.includes('permission')) return undefined;
    throw e;
  }
}
export const createPermission = (r: Resource, username: string, permission: string) => post(permPath(r, 'create'), { ...permKey(r), username, permission });
export const updatePermission = (r: Resource, username: string, permission: string) => patch(permPath(r, 'update'), { ...permKey(r), username, permission });
export const deletePermission = (r: Resource, username: string) => del(permPath(r, 'delete'), { ...permKey(r), username });
