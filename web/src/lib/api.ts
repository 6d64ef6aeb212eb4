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

/** qs encodes query parameters; arrays repeat their key. */
export function qs(params: Record<string, unknown>): string {
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

/** MLflow encodes NaN as the string "NaN"; charts want numbers or null. */
export function num(v: number | string): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}
