// The experiments API.
import { get, post } from '../lib/api';
import type { Experiment } from '../lib/api';

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
