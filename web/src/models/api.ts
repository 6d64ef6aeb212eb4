// Logged models and the model registry.
import { del, get, patch, post } from '../lib/api';
import type { LoggedModel, ModelVersion, RegisteredModel } from '../lib/api';

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
export const transitionStage = (name: string, version: string, stage: string, archiveExisting = false) =>
  post('model-versions/transition-stage', { name, version, stage, archive_existing_versions: archiveExisting });
export const updateVersionDescription = (name: string, version: string, description: string) =>
  patch('model-versions/update', { name, version, description });
export const deleteRegisteredModel = (name: string) => del('registered-models/delete', { name });
export const getModelVersion = (name: string, version: string) =>
  get<{ model_version: ModelVersion }>('model-versions/get', { name, version }).then((r) => r.model_version);
export const setVersionTag = (name: string, version: string, key: string, value: string) => post('model-versions/set-tag', { name, version, key, value });
export const deleteVersionTag = (name: string, version: string, key: string) => del('model-versions/delete-tag', { name, version, key });
