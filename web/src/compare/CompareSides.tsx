import { useState } from 'preact/hooks';
import { listArtifacts } from '../artifacts/api';
import { LoggedModel } from '../lib/api';
import type { FileInfo, ModelVersion, Run } from '../lib/api';
import { getLoggedModel, searchModelVersionsWhere } from '../models/api';
import { href } from '../lib/router';
import { fmtBytes } from '../lib/format';
import { ErrorBox, Spinner, useAsync } from '../ui/widgets';
import { CompareCols } from './CompareCols';
import { Preview } from '../artifacts/ArtifactBrowser';
import { colorFor } from '../ui/runColors';

const MAX_FILES = 500;

/** walk lists a run's artifacts breadth first, up to MAX_FILES entries. */
async function walk(run: Run): Promise<FileInfo[]> {
  const root = { uri: run.info.artifact_uri || '', runId: run.info.run_id };
  const out: FileInfo[] = [];
  const dirs = [''];
  while (dirs.length && out.length < MAX_FILES) {
    const d = dirs.shift()!;
    const files = await listArtifacts(root, d);
    for (const f of files) {
      if (f.is_dir) dirs.push(f.path);
      else out.push(f);
    }
  }
  return out;
}

/**
 * CompareArtifacts lists the union of the runs' artifact files with each
 * run's size (rows that differ are highlighted); choosing a file previews it
 * for every run side by side.
 */
export function CompareArtifacts({ runs }: { runs: Run[] }) {
  const { data, error } = useAsync(() => Promise.all(runs.map((r) => walk(r).catch(() => [] as FileInfo[]))), [runs.map((r) => r.info.run_id).join()]);
  const [open, setOpen] = useState<string | null>(null);
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Spinner />;
  const paths = [...new Set(data.flatMap((fs) => fs.map((f) => f.path)))].sort();
  if (!paths.length) return <div class="muted small-pad">None of these runs has artifacts.</div>;
  const sizeOf = (i: number, p: string) => data[i].find((f) => f.path === p);
  return (
    <div>
      <table class="grid-table compare-table" data-testid="compare-artifacts">
        <CompareCols n={runs.length} />
        <tbody>
          {paths.map((p) => {
            const cells = runs.map((_, i) => sizeOf(i, p));
            const differs = new Set(cells.map((c) => (c ? String(c.file_size ?? '?') : '\u0000'))).size > 1;
            return (
              <tr key={p} class={`${differs ? 'differs' : ''}${open === p ? ' open' : ''}`} data-path={p}>
                <th title={p}><button class="linkish mono" data-action="preview-side-by-side" onClick={() => setOpen(open === p ? null : p)}>{p}</button></th>
                {cells.map((c, i) => <td key={i} class="mono small">{c ? fmtBytes(c.file_size) || 'present' : <span class="muted">missing</span>}</td>)}
              </tr>
            );
          })}
        </tbody>
      </table>
      {open ? (
        <div class="side-by-side" style={{ gridTemplateColumns: `repeat(${runs.length}, minmax(0, 1fr))` }}>
          {runs.map((r, i) => {
            const f = sizeOf(i, open);
            return (
              <div key={r.info.run_id} class="side">
                <div class="side-head"><span class="dot" style={{ background: colorFor(r.info.run_id) }} /> {r.info.run_name || r.info.run_id.slice(0, 8)}</div>
                {f ? <Preview root={{ uri: r.info.artifact_uri || '', runId: r.info.run_id }} file={f} key={r.info.run_id + open} /> : <div class="muted small-pad">This run has no {open}.</div>}
              </div>
            );
          })}
        </div>
      ) : null}
    </div>
  );
}

interface RunModels { logged: LoggedModel[]; versions: ModelVersion[] }

async function modelsOf(run: Run): Promise<RunModels> {
  const ids = [...new Set((run.outputs?.model_outputs || []).map((m) => m.model_id))];
  const logged = (await Promise.all(ids.map((id) => getLoggedModel(id).catch(() => null)))).filter((m): m is LoggedModel => !!m);
  const versions = await searchModelVersionsWhere(`run_id = '${run.info.run_id}'`).catch(() => [] as ModelVersion[]);
  return { logged, versions };
}

/** CompareModels shows each run's logged models and the registered versions made from it. */
export function CompareModels({ runs }: { runs: Run[] }) {
  const { data, error } = useAsync(() => Promise.all(runs.map(modelsOf)), [runs.map((r) => r.info.run_id).join()]);
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Spinner />;
  if (data.every((d) => !d.logged.length && !d.versions.length)) return <div class="muted small-pad">No logged or registered models for these runs.</div>;
  return (
    <table class="grid-table compare-table" data-testid="compare-models">
      <CompareCols n={runs.length} />
      <tbody>
        <tr>
          <th>Logged models</th>
          {data.map((d, i) => (
            <td key={i}>
              {d.logged.length ? d.logged.map((m) => (
                <div key={m.info.model_id} class="model-cell">
                  <a href={href(['experiments', runs[i].info.experiment_id, 'runs', runs[i].info.run_id, 'artifacts'], { model: m.info.model_id })}>{m.info.name}</a>
                  <span class="mono small muted"> {m.info.model_id}</span>
                  {m.data?.metrics?.length ? <div class="small muted">{m.data.metrics.slice(0, 3).map((x) => `${x.key}=${typeof x.value === 'number' ? Number(x.value.toPrecision(4)) : x.value}`).join(', ')}</div> : null}
                </div>
              )) : <span class="muted">–</span>}
            </td>
          ))}
        </tr>
        <tr>
          <th>Registered versions</th>
          {data.map((d, i) => (
            <td key={i}>
              {d.versions.length ? d.versions.map((v) => (
                <div key={v.name + v.version} class="model-cell">
                  <a href={href(['models', v.name, 'versions', v.version])}>{v.name} v{v.version}</a>
                  {(v.aliases || []).map((a) => <span key={a} class="alias">@{a}</span>)}
                  {v.current_stage && v.current_stage !== 'None' ? <span class={`stage stage-${v.current_stage.toLowerCase()}`}>{v.current_stage}</span> : null}
                </div>
              )) : <span class="muted">–</span>}
            </td>
          ))}
        </tr>
      </tbody>
    </table>
  );
}
