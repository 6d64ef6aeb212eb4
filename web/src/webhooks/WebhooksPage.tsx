import { useState } from 'preact/hooks';
import { href } from '../lib/router';
import { fmtAgo, fmtTime } from '../lib/format';
import { ConfirmModal, ErrorBox, Spinner, useAsync, usePoll } from '../ui/widgets';
import * as hooks from './api';
import type { TestResult, Webhook } from './api';
import './webhooks.css';

/** WebhooksPage is #/webhooks (?id=<webhook_id> opens one's delivery log). */
export function WebhooksPage({ query }: { query: URLSearchParams }) {
  const list = useAsync(() => hooks.listWebhooks(), []);
  const selected = query.get('id') || '';
  const [err, setErr] = useState<unknown>(null);
  const [deleting, setDeleting] = useState<Webhook | null>(null);
  const [tests, setTests] = useState<Record<string, TestResult | 'busy'>>({});
  const act = async (fn: () => Promise<unknown>) => {
    setErr(null);
    try {
      await fn();
      await list.reload();
    } catch (x) {
      setErr(x);
    }
  };
  const sel = list.data?.find((w) => w.webhook_id === selected);
  return (
    <div class="page webhooks-page">
      <div class="page-head"><h1>Webhooks</h1></div>
      <p class="muted">The registry calls these URLs when models and prompts change (MLflow's webhooks). Each event is signed with the webhook's secret and retried until the receiver takes it.</p>
      <NewWebhook onCreated={() => list.reload()} />
      <ErrorBox error={err} />
      <section class="card">
        <div class="card-head"><h3>Webhooks ({list.data?.length ?? '…'})</h3></div>
        <ErrorBox error={list.error} />
        {list.loading && !list.data ? <Spinner /> : null}
        {list.data ? (
          <table class="grid-table webhooks-table">
            <thead><tr><th>Name</th><th>URL</th><th>Events</th><th>Status</th><th>Updated</th><th /></tr></thead>
            <tbody>
              {list.data.map((w) => {
                const t = tests[w.webhook_id];
                return (
                  <tr key={w.webhook_id} data-webhook={w.name} class={w.webhook_id === selected ? 'selected' : ''}>
                    <td><a href={href(['webhooks'], { id: w.webhook_id })}>{w.name}</a>{w.description ? <div class="muted small">{w.description}</div> : null}</td>
                    <td class="mono small url">{w.url}</td>
                    <td class="small">{w.events.map((e) => <span class="event-chip" key={hooks.fromWire(e)}>{hooks.fromWire(e)}</span>)}</td>
                    <td><span class={'status webhook-' + w.status.toLowerCase()}>{w.status.toLowerCase()}</span></td>
                    <td class="small" title={fmtTime(w.last_updated_timestamp)}>{fmtAgo(w.last_updated_timestamp)}</td>
                    <td class="actions">
                      <button class="btn small" data-action="toggle" onClick={() => act(() => hooks.setStatus(w.webhook_id, w.status === 'ACTIVE' ? 'DISABLED' : 'ACTIVE'))}>{w.status === 'ACTIVE' ? 'Disable' : 'Enable'}</button>
                      <button class="btn small" data-action="test" disabled={t === 'busy'} onClick={async () => {
                        setTests((m) => ({ ...m, [w.webhook_id]: 'busy' }));
                        try {
                          const r = await hooks.testWebhook(w.webhook_id);
                          setTests((m) => ({ ...m, [w.webhook_id]: r }));
                        } catch (x) {
                          setTests((m) => ({ ...m, [w.webhook_id]: { success: false, error_message: String((x as Error).message || x) } }));
                        }
                      }}>{t === 'busy' ? 'Testing…' : 'Test'}</button>
                      <button class="btn small danger-text" data-action="delete" onClick={() => setDeleting(w)}>Delete</button>
                      {t && t !== 'busy' ? <TestAnswer r={t} /> : null}
                    </td>
                  </tr>
                );
              })}
              {!list.data.length ? <tr><td colSpan={6} class="muted">No webhooks yet.</td></tr> : null}
            </tbody>
          </table>
        ) : null}
      </section>
      {sel ? <DeliveryLog w={sel} /> : null}
      {deleting ? (
        <ConfirmModal title="Delete webhook" danger confirm="Delete" message={<>Delete <b>{deleting.name}</b>? Events waiting for it are dropped.</>}
          onConfirm={() => act(() => hooks.deleteWebhook(deleting.webhook_id))} onClose={() => setDeleting(null)} />
      ) : null}
    </div>
  );
}

function TestAnswer({ r }: { r: TestResult }) {
  return (
    <div class={'test-answer ' + (r.success ? 'ok' : 'bad')} data-test-answer role="status">
      {r.response_status ? <b>{r.response_status}</b> : null} {r.success ? 'received' : 'failed'}
      {r.response_body ? <pre class="mono small">{r.response_body.slice(0, 500)}</pre> : null}
      {r.error_message ? <div class="small">{r.error_message}</div> : null}
    </div>
  );
}

function NewWebhook({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [secret, setSecret] = useState('');
  const [events, setEvents] = useState<string[]>(['model_version.created']);
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const toggle = (e: string) => setEvents((xs) => (xs.includes(e) ? xs.filter((x) => x !== e) : [...xs, e]));
  return (
    <section class="card new-webhook">
      <div class="card-head"><h3>Create a webhook</h3></div>
      <form onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setErr(null);
        try {
          await hooks.createWebhook({ name: name.trim(), url: url.trim(), description: description || undefined, secret: secret || undefined, events });
          setName(''); setUrl(''); setDescription(''); setSecret('');
          onCreated();
        } catch (x) {
          setErr(x);
        } finally {
          setBusy(false);
        }
      }}>
        <div class="webhook-fields">
          <label class="field"><span>Name</span><input name="webhook-name" value={name} placeholder="deploy-on-new-version" onInput={(e) => setName((e.target as HTMLInputElement).value)} /></label>
          <label class="field"><span>URL</span><input name="webhook-url" value={url} placeholder="https://ci.example.com/hooks/mlflow" onInput={(e) => setUrl((e.target as HTMLInputElement).value)} /></label>
          <label class="field"><span>Description</span><input name="webhook-description" value={description} onInput={(e) => setDescription((e.target as HTMLInputElement).value)} /></label>
          <label class="field"><span>Secret (signs each delivery; never shown again)</span><input type="password" autocomplete="off" name="webhook-secret" value={secret} onInput={(e) => setSecret((e.target as HTMLInputElement).value)} /></label>
        </div>
        <div class="event-picker" role="group" aria-label="Events">
          {hooks.EVENTS.map((g) => (
            <fieldset key={g.group}>
              <legend>{g.group}</legend>
              {g.events.map((ev) => (
                <label class="check" key={ev}><input type="checkbox" name={'event-' + ev} checked={events.includes(ev)} onChange={() => toggle(ev)} /> {ev}</label>
              ))}
            </fieldset>
          ))}
        </div>
        <ErrorBox error={err} />
        <div class="modal-actions">
          <button class="btn small primary" data-action="create-webhook" disabled={busy || !name.trim() || !url.trim() || !events.length}>Create webhook</button>
        </div>
      </form>
    </section>
  );
}

function DeliveryLog({ w }: { w: Webhook }) {
  const log = useAsync(() => hooks.deliveries(w.webhook_id), [w.webhook_id]);
  usePoll(() => { void log.reload(); }, 3000, true);
  return (
    <section class="card delivery-log" data-delivery-log>
      <div class="card-head">
        <h3>Deliveries of {w.name}</h3>
        <span class="muted small">{log.data ? `${log.data.pending} waiting` : ''}</span>
        <div class="spacer" />
        <button class="btn small" onClick={() => log.reload()}>Refresh</button>
      </div>
      <ErrorBox error={log.error} />
      {log.data ? (
        <table class="grid-table">
          <thead><tr><th>Time</th><th>Event</th><th>Attempt</th><th>Status</th><th>Answer</th><th>Error</th><th>Next attempt</th></tr></thead>
          <tbody>
            {log.data.deliveries.map((d) => (
              <tr key={d.delivery_id + d.attempt} data-delivery-status={d.status}>
                <td class="small" title={d.delivery_id}>{fmtTime(d.timestamp)}</td>
                <td class="mono small">{d.event}</td>
                <td>{d.attempt}</td>
                <td><span class={'status delivery-' + d.status.toLowerCase()}>{d.status.toLowerCase()}</span></td>
                <td>{d.response_status || ''}<span class="muted small"> {d.duration_ms} ms</span></td>
                <td class="small">{d.error || ''}</td>
                <td class="small">{d.next_attempt_timestamp ? fmtTime(d.next_attempt_timestamp) : ''}</td>
              </tr>
            ))}
            {!log.data.deliveries.length ? <tr><td colSpan={7} class="muted">Nothing delivered yet.</td></tr> : null}
          </tbody>
        </table>
      ) : <Spinner />}
    </section>
  );
}
