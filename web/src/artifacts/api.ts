// Artifacts of runs and logged models, through the proxy or MLflow's run artifact endpoints.
import { ApiError, authFetch, get, qs } from '../lib/api';
import type { FileInfo } from '../lib/api';

const ARTIFACTS = 'ajax-api/2.0/mlflow-artifacts/artifacts';

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
