import { useState } from 'preact/hooks';
import { ErrorBox, KVTable } from './widgets';

/** TagEditor lists tags with a delete button each and a form to add or overwrite one. */
export function TagEditor({ tags, onSet, onDelete }: { tags: { key: string; value: string }[]; onSet: (k: string, v: string) => Promise<unknown>; onDelete: (k: string) => Promise<unknown> }) {
  const [k, setK] = useState('');
  const [v, setV] = useState('');
  const [err, setErr] = useState<unknown>(null);
  return (
    <div>
      <KVTable empty="No tags." rows={tags.map((t) => ({ key: t.key, value: <span class="tag-val">{t.value}<button data-action="delete-tag" class="icon-btn" title="Delete tag" onClick={() => onDelete(t.key).catch(setErr)}>×</button></span> }))} />
      <form class="inline-form" onSubmit={async (e) => {
        e.preventDefault();
        try { await onSet(k.trim(), v); setK(''); setV(''); setErr(null); } catch (x) { setErr(x); }
      }}>
        <input placeholder="key" name="tag-key" value={k} onInput={(e) => setK((e.target as HTMLInputElement).value)} />
        <input placeholder="value" name="tag-value" value={v} onInput={(e) => setV((e.target as HTMLInputElement).value)} />
        <button class="btn small" data-action="add-tag" disabled={!k.trim()}>Add tag</button>
      </form>
      <ErrorBox error={err} />
    </div>
  );
}
