import { useEffect, useState } from 'preact/hooks';
import { RegisteredModel } from '../lib/api';
import { createModelVersion, createRegisteredModel, searchRegisteredModels } from './api';
import { href, navigate } from '../lib/router';
import { ErrorBox, Modal } from '../ui/widgets';

/**
 * RegisterModal registers a model folder or a logged model as a new version
 * of a new or existing registered model.
 */
export function RegisterModal({ source, runId, modelId, defaultName, onClose }: { source: string; runId?: string; modelId?: string; defaultName?: string; onClose: () => void }) {
  const [models, setModels] = useState<RegisteredModel[]>([]);
  const [mode, setMode] = useState<'new' | 'existing'>('new');
  const [name, setName] = useState(defaultName || '');
  const [existing, setExisting] = useState('');
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    searchRegisteredModels('').then((m) => {
      setModels(m);
      // A model of the default name exists: the default is its next version
      // (creating it again would fail with RESOURCE_ALREADY_EXISTS).
      const same = defaultName ? m.find((x) => x.name === defaultName) : undefined;
      if (same) {
        setExisting(same.name);
        setMode('existing');
      } else if (m.length) setExisting(m[0].name);
    }, () => {});
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      const target = mode === 'new' ? name.trim() : existing;
      if (mode === 'new') await createRegisteredModel(target);
      const mv = await createModelVersion({ name: target, source, run_id: runId, model_id: modelId });
      onClose();
      navigate(href(['models', target, 'versions', mv.version]));
    } catch (x) {
      setErr(x);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title="Register model" onClose={onClose}>
      <form onSubmit={submit} class="register-form">
        <div class="muted small mono ellipsis" title={source}>Source: {source}</div>
        <label class="check"><input type="radio" name="mode" value="new" checked={mode === 'new'} onChange={() => setMode('new')} /> New registered model</label>
        {mode === 'new' ? (
          <label class="field"><span>Model name</span>
            <input name="model-name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} autoFocus />
          </label>
        ) : null}
        <label class="check"><input type="radio" name="mode" value="existing" checked={mode === 'existing'} disabled={!models.length} onChange={() => setMode('existing')} /> New version of an existing model</label>
        {mode === 'existing' ? (
          <label class="field"><span>Model</span>
            <select name="existing-model" value={existing} onChange={(e) => setExisting((e.target as HTMLSelectElement).value)}>
              {models.map((m) => <option key={m.name} value={m.name}>{m.name}</option>)}
            </select>
          </label>
        ) : null}
        <ErrorBox error={err} />
        <div class="modal-actions">
          <button type="button" class="btn" onClick={onClose}>Cancel</button>
          <button type="submit" class="btn primary" disabled={busy || (mode === 'new' ? !name.trim() : !existing)}>Register</button>
        </div>
      </form>
    </Modal>
  );
}
