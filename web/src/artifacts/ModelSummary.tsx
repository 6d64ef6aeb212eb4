import { authFetch } from '../lib/api';
import { fmtBytes, fmtTime } from '../lib/format';
import { ErrorBox, KVTable, Spinner, useAsync } from '../ui/widgets';
import { artifactURL } from './api';
import type { ArtifactRoot } from './api';
import { parseMLmodel, specRows, type SpecRow, type YamlValue } from './mlmodel';

function SpecTable({ title, rows }: { title: string; rows: SpecRow[] }) {
  return (
    <div class="spec">
      <div class="spec-title">{title}</div>
      {rows.length ? (
        <table class="grid-table spec-table" data-spec={title.toLowerCase()}>
          <thead><tr><th>Name</th><th>Type</th><th>Shape</th><th>Required</th></tr></thead>
          <tbody>{rows.map((r, i) => (
            <tr key={i}><td class="mono">{r.name}</td><td class="mono">{r.type}</td><td class="mono">{r.shape || '–'}</td><td>{r.required === undefined ? '–' : r.required ? 'yes' : 'no'}</td></tr>
          ))}</tbody>
        </table>
      ) : <div class="muted small">None.</div>}
    </div>
  );
}

/**
 * ModelSummary is what MLflow's model page shows of an MLmodel file: the
 * flavors, the signature as input and output tables, the size, when it was
 * created, and how to load it.
 */
export function ModelSummary({ root, dir, uri, createdMs }: { root: ArtifactRoot; dir: string; uri: string; createdMs?: number }) {
  const path = dir ? `${dir}/MLmodel` : 'MLmodel';
  const { data, error } = useAsync(async () => {
    const r = await authFetch(artifactURL(root, path));
    if (!r.ok) throw new Error(`MLmodel: HTTP ${r.status}`);
    return parseMLmodel(await r.text());
  }, [root.uri, path]);
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Spinner />;
  const flavors = (data.flavors && typeof data.flavors === 'object' ? data.flavors : {}) as Record<string, YamlValue>;
  const names = Object.keys(flavors);
  const pyfunc = flavors.python_function as Record<string, YamlValue> | undefined;
  const loader = typeof pyfunc?.loader_module === 'string' ? pyfunc.loader_module : names.find((n) => n !== 'python_function') ? `mlflow.${names.find((n) => n !== 'python_function')}` : undefined;
  const sig = (data.signature && typeof data.signature === 'object' ? data.signature : {}) as Record<string, YamlValue>;
  const created = typeof data.utc_time_created === 'string' ? Date.parse(data.utc_time_created.replace(' ', 'T') + 'Z') : createdMs;
  const size = typeof data.model_size_bytes === 'number' ? data.model_size_bytes : undefined;
  const snippet = [
    'import mlflow',
    '',
    `model_uri = "${uri}"`,
    ...(pyfunc ? ['', '# Load as a generic Python function and predict', 'model = mlflow.pyfunc.load_model(model_uri)', 'predictions = model.predict(data)'] : []),
    ...(loader && loader !== 'mlflow.pyfunc' && /^mlflow\.\w+$/.test(loader) ? ['', `# Load in its native flavor`, `model = ${loader}.load_model(model_uri)`] : []),
  ].join('\n');
  return (
    <section class="card model-summary" data-testid="model-summary">
      <div class="card-head"><h3>Model</h3></div>
      <KVTable rows={[
        { key: 'Flavors', value: <span data-testid="model-flavors">{names.length ? names.map((n) => <span key={n} class="tag-chip mono">{n}</span>) : '–'}</span> },
        { key: 'Size', value: <span data-testid="model-size">{size !== undefined ? fmtBytes(size) : '–'}</span> },
        { key: 'Created', value: <span data-testid="model-created">{created && !Number.isNaN(created) ? fmtTime(created) : '–'}</span> },
        ...(typeof data.mlflow_version === 'string' ? [{ key: 'MLflow version', value: data.mlflow_version }] : []),
        ...(typeof pyfunc?.python_version === 'string' || typeof pyfunc?.python_version === 'number' ? [{ key: 'Python', value: String(pyfunc.python_version) }] : []),
        { key: 'Model URI', value: <span class="mono small">{uri}</span> },
      ]} />
      <div class="spec-grid">
        <SpecTable title="Inputs" rows={specRows(sig.inputs)} />
        <SpecTable title="Outputs" rows={specRows(sig.outputs)} />
      </div>
      {!sig.inputs && !sig.outputs ? <div class="muted small">This model was logged without a signature.</div> : null}
      <div class="spec-title">Load it</div>
      <pre class="code load-snippet" data-testid="load-snippet">{snippet}</pre>
    </section>
  );
}
