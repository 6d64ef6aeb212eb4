import { Icon } from './Icon';
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../lib/api';
import { renderMarkdown } from '../lib/markdown';

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error as ApiError;
  if (e.code === 'PERMISSION_DENIED') {
    // Said plainly, where the action was tried: the server's message is a bare
    // "Permission denied" unless it has more to say (a CSRF refusal does).
    const more = e.message && e.message !== 'Permission denied' ? e.message : 'Your account may not do this here. Ask an admin, or someone with MANAGE permission on it, to grant you access.';
    return (
      <div class="error-box denied" role="alert">
        <b>Permission denied.</b> {more}
      </div>
    );
  }
  return (
    <div class="error-box" role="alert">
      {e.code ? <b>{e.code}: </b> : null}
      {e.message || String(error)}
    </div>
  );
}

export function Spinner({ label = 'Loading…' }: { label?: string }) {
  return <div class="spinner">{label}</div>;
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`status status-${status.toLowerCase()}`}>{status === 'RUNNING' ? '● ' : ''}{status.toLowerCase()}</span>;
}

export function Modal({ title, children, onClose }: { title: string; children: ComponentChildren; onClose: () => void }) {
  useEffect(() => {
    const k = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', k);
    return () => window.removeEventListener('keydown', k);
  }, [onClose]);
  return (
    <div class="modal-back" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div class="modal" role="dialog" aria-label={title}>
        <div class="modal-head">
          <span>{title}</span>
          <button class="icon-btn" onClick={onClose} aria-label="Close"><Icon name="x" /></button>
        </div>
        <div class="modal-body">{children}</div>
      </div>
    </div>
  );
}

/** PromptModal asks for one text value and runs an async action with it, showing its error. */
export function PromptModal(props: { title: string; label: string; initial?: string; submit: string; onSubmit: (v: string) => Promise<unknown>; onClose: () => void }) {
  const [v, setV] = useState(props.initial || '');
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => ref.current?.select(), []);
  const go = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      await props.onSubmit(v.trim());
      props.onClose();
    } catch (x) {
      setErr(x);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title={props.title} onClose={props.onClose}>
      <form onSubmit={go}>
        <label class="field">
          <span>{props.label}</span>
          <input ref={ref} value={v} onInput={(e) => setV((e.target as HTMLInputElement).value)} name="value" />
        </label>
        <ErrorBox error={err} />
        <div class="modal-actions">
          <button type="button" class="btn" onClick={props.onClose}>Cancel</button>
          <button type="submit" class="btn primary" disabled={busy || !v.trim()}>{props.submit}</button>
        </div>
      </form>
    </Modal>
  );
}

export function ConfirmModal(props: { title: string; message: ComponentChildren; confirm: string; danger?: boolean; onConfirm: () => Promise<unknown>; onClose: () => void }) {
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <Modal title={props.title} onClose={props.onClose}>
      <div class="confirm-msg">{props.message}</div>
      <ErrorBox error={err} />
      <div class="modal-actions">
        <button class="btn" onClick={props.onClose}>Cancel</button>
        <button class={`btn ${props.danger ? 'danger' : 'primary'}`} disabled={busy} onClick={async () => {
          setBusy(true);
          try {
            await props.onConfirm();
            props.onClose();
          } catch (x) {
            setErr(x);
          } finally {
            setBusy(false);
          }
        }}>{props.confirm}</button>
      </div>
    </Modal>
  );
}

export function Markdown({ text }: { text: string }) {
  return <div class="markdown" dangerouslySetInnerHTML={{ __html: renderMarkdown(text) }} />;
}

/** EditableMarkdown shows rendered Markdown with an Edit button that swaps in a textarea. */
export function EditableMarkdown({ text, placeholder, onSave }: { text: string; placeholder: string; onSave: (v: string) => Promise<unknown> }) {
  const [editing, setEditing] = useState(false);
  const [v, setV] = useState(text);
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => { if (!editing) setV(text); }, [text, editing]);
  if (!editing) {
    return (
      <div class="description">
        {text ? <Markdown text={text} /> : <div class="muted">{placeholder}</div>}
        <button class="btn small" data-action="edit-description" onClick={() => setEditing(true)}><Icon name="edit" /> Edit</button>
      </div>
    );
  }
  return (
    <div class="description editing">
      <textarea rows={8} value={v} onInput={(e) => setV((e.target as HTMLTextAreaElement).value)} placeholder="Markdown supported" />
      <ErrorBox error={err} />
      <div class="row-actions">
        <button class="btn primary small" disabled={busy} data-action="save-description" onClick={async () => {
          setBusy(true);
          setErr(null);
          try {
            await onSave(v);
            setEditing(false);
          } catch (x) {
            setErr(x);
          } finally {
            setBusy(false);
          }
        }}>Save</button>
        <button class="btn small" onClick={() => { setV(text); setEditing(false); }}>Cancel</button>
      </div>
    </div>
  );
}

export function Tabs({ tabs, active }: { tabs: { id: string; label: string; href: string }[]; active: string }) {
  return (
    <nav class="tabs">
      {tabs.map((t) => <a key={t.id} href={t.href} class={t.id === active ? 'active' : ''}>{t.label}</a>)}
    </nav>
  );
}

export function KVTable({ rows, empty = 'None' }: { rows: { key: string; value: ComponentChildren }[]; empty?: string }) {
  if (!rows.length) return <div class="muted small-pad">{empty}</div>;
  return (
    <table class="kv">
      <tbody>
        {rows.map((r) => (
          <tr key={r.key}>
            <th title={r.key}>{r.key}</th>
            <td>{r.value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** useAsync runs a loader when deps change and keeps its result, error and a reload function. */
export function useAsync<T>(fn: () => Promise<T>, deps: unknown[]): { data: T | undefined; error: unknown; loading: boolean; reload: () => Promise<void>; set: (t: T) => void } {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const gen = useRef(0);
  const run = async () => {
    const g = ++gen.current;
    setState((s) => ({ ...s, loading: true }));
    try {
      const d = await fn();
      if (g === gen.current) setState({ data: d, loading: false });
    } catch (e) {
      if (g === gen.current) setState((s) => ({ data: s.data, error: e, loading: false }));
    }
  };
  useEffect(() => { setState({ loading: true }); run(); }, deps);
  return { data: state.data, error: state.error, loading: state.loading, reload: run, set: (d: T) => setState({ data: d, loading: false }) };
}

/** usePoll calls fn every ms milliseconds while enabled and the tab is visible. */
export function usePoll(fn: () => void, ms: number, enabled: boolean) {
  const f = useRef(fn);
  f.current = fn;
  useEffect(() => {
    if (!enabled) return;
    const t = setInterval(() => { if (!document.hidden) f.current(); }, ms);
    return () => clearInterval(t);
  }, [ms, enabled]);
}
