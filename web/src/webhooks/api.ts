// Registry webhooks: MLflow's webhooks/ endpoints and mltrack's delivery log.
import { del, get, own, patch, post } from '../lib/api';

export interface WebhookEvent { entity: string; action: string }

export interface Webhook {
  webhook_id: string; name: string; description?: string; url: string; events: WebhookEvent[];
  status: 'ACTIVE' | 'DISABLED'; creation_timestamp: number; last_updated_timestamp: number;
}

export interface TestResult { success?: boolean; response_status?: number; response_body?: string; error_message?: string }

export interface Delivery {
  delivery_id: string; event: string; attempt: number; timestamp: number; status: string;
  response_status?: number; error?: string; duration_ms: number; next_attempt_timestamp?: number;
}

/** EVENTS are MLflow's webhook events, as "entity.action", grouped for the picker. */
export const EVENTS: { group: string; events: string[] }[] = [
  { group: 'Models', events: ['registered_model.created', 'model_version.created', 'model_version_tag.set', 'model_version_tag.deleted', 'model_version_alias.created', 'model_version_alias.deleted'] },
  { group: 'Prompts', events: ['prompt.created', 'prompt_version.created', 'prompt_tag.set', 'prompt_tag.deleted', 'prompt_version_tag.set', 'prompt_version_tag.deleted', 'prompt_alias.created', 'prompt_alias.deleted'] },
];

export const toWire = (e: string): WebhookEvent => {
  const [entity, action] = e.split('.');
  return { entity: entity.toUpperCase(), action: action.toUpperCase() };
};
export const fromWire = (e: WebhookEvent) => `${e.entity.toLowerCase()}.${e.action.toLowerCase()}`;

export async function listWebhooks(): Promise<Webhook[]> {
  const out: Webhook[] = [];
  let token: string | undefined;
  do {
    const r = await get<{ webhooks?: Webhook[]; next_page_token?: string }>('webhooks', { max_results: 1000, page_token: token });
    out.push(...(r.webhooks || []));
    token = r.next_page_token;
  } while (token);
  return out;
}

export const createWebhook = (w: { name: string; url: string; description?: string; secret?: string; events: string[] }) =>
  post<{ webhook: Webhook }>('webhooks', { ...w, events: w.events.map(toWire) }).then((r) => r.webhook);
export const setStatus = (id: string, status: 'ACTIVE' | 'DISABLED') =>
  patch<{ webhook: Webhook }>('webhooks/' + encodeURIComponent(id), { status }).then((r) => r.webhook);
export const deleteWebhook = (id: string) => del('webhooks/' + encodeURIComponent(id), undefined);
export const testWebhook = (id: string, event?: string) =>
  post<{ result: TestResult }>('webhooks/' + encodeURIComponent(id) + '/test', event ? { event: toWire(event) } : {}).then((r) => r.result);
export const deliveries = (id: string) =>
  own<{ deliveries: Delivery[]; pending: number }>('GET', 'webhooks/' + encodeURIComponent(id) + '/deliveries', undefined, { max_results: 200 });
