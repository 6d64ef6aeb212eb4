// The runs API.
import { get, post } from '../lib/api';
import type { Run } from '../lib/api';

export interface SearchRunsPage { runs?: Run[]; next_page_token?: string }

export function searchRunsPage(experimentIds: string[], filter: string, orderBy: string[], viewType: string, pageToken?: string, maxResults = 1000) {
  return post<SearchRunsPage>('runs/search', {
    experiment_ids: experimentIds, filter, order_by: orderBy, run_view_type: viewType,
    max_results: maxResults, page_token: pageToken,
  });
}

export const getRun = (id: string) => get<{ run: Run }>('runs/get', { run_id: id }).then((r) => r.run);
export const setRunTag = (run_id: string, key: string, value: string) => post('runs/set-tag', { run_id, key, value });
export const deleteRunTag = (run_id: string, key: string) => post('runs/delete-tag', { run_id, key });
export const renameRun = (run_id: string, run_name: string) => post('runs/update', { run_id, run_name });
export const deleteRun = (run_id: string) => post('runs/delete', { run_id });
export const restoreRun = (run_id: string) => post('runs/restore', { run_id });
