import { Icon } from '../ui/Icon';
import { useEffect, useState } from 'preact/hooks';
import { artifactURL, listArtifacts } from './api';
import type { ArtifactRoot } from './api';
import { authFetch } from '../lib/api';
import type { FileInfo } from '../lib/api';
import { fmtBytes, px } from '../lib/format';
import { ErrorBox, Markdown, Spinner } from '../ui/widgets';
import { RegisterModal } from '../models/RegisterModal';
import { ModelSummary } from './ModelSummary';

const IMAGE = /\.(png|jpe?g|gif|svg|webp|bmp|ico)$/i;
const TEXT = /(\.(txt|log|ya?ml|py|toml|cfg|ini|sh|json|jsonl|md|html?|xml|csv|tsv|r|sql|js|ts|go|java|c|cpp|h|rs|env|gitignore|properties|conf|out|err)$)|(^|\/)(MLmodel|requirements[^/]*|Dockerfile|LICENSE|README)$/i;
const MAX_PREVIEW = 2 * 1024 * 1024;

function base(p: string) {
  return p.split('/').pop() || p;
}

function Tree({ root, dir, depth, selected, onSelect, expanded, toggle }: { root: ArtifactRoot; dir: string; depth: number; selected: string; onSelect: (f: FileInfo) => void; expanded: Set<string>; toggle: (p: string) => void }) {
  const [files, setFiles] = useState<FileInfo[] | null>(null);
  const [err, setErr] = useState<unknown>(null);
  useEffect(() => {
    listArtifacts(root, dir).then((f) => setFiles(f.sort((a, b) => (a.is_dir === b.is_dir ? a.path.localeCompare(b.path) : a.is_dir ? -1 : 1))), setErr);
  }, [root.uri, dir]);
  if (err) return <ErrorBox error={err} />;
  if (!files) return <div class="muted small" style={{ paddingLeft: px(8 + depth * 14) }}>…</div>;
  if (!files.length && depth === 0) return <div class="muted small-pad">No artifacts.</div>;
  return (
    <ul class="tree">
      {files.map((f) => (
        <li key={f.path}>
          <div class={`tree-item${selected === f.path ? ' active' : ''}`} style={{ paddingLeft: px(8 + depth * 14) }} data-path={f.path}
            onClick={() => { if (f.is_dir) toggle(f.path); onSelect(f); }}>
            <span class="tree-icon">{f.is_dir ? <>{expanded.has(f.path) ? '▾' : '▸'} <Icon name="folder" size={13} /></> : <><span class="caret-space" /><Icon name="file" size={13} /></>}</span>
            <span class="ellipsis">{base(f.path)}</span>
            {!f.is_dir && f.file_size !== undefined ? <span class="muted small tree-size">{fmtBytes(f.file_size)}</span> : null}
          </div>
          {f.is_dir && expanded.has(f.path) ? <Tree root={root} dir={f.path} depth={depth + 1} selected={selected} onSelect={onSelect} expanded={expanded} toggle={toggle} /> : null}
        </li>
      ))}
    </ul>
  );
}

function parseCSV(text: string, sep: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let q = false;
  for (let i = 0; i < text.length && rows.length < 1001; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') q = false; else cell += c;
    } else if (c === '"') q = true;
    else if (c === sep) { row.push(cell); cell = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell); rows.push(row); row = []; cell = '';
    } else cell += c;
  }
  if (cell || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

export function Preview({ root, file }: { root: ArtifactRoot; file: FileInfo }) {
  const url = artifactURL(root, file.path);
  const [text, setText] = useState<string | null>(null);
  const [err, setErr] = useState<string>('');
  const name = base(file.path);
  const isImage = IMAGE.test(name);
  const big = (file.file_size || 0) > MAX_PREVIEW;
  useEffect(() => {
    setText(null);
    setErr('');
    if (isImage || big) return;
    authFetch(url).then(async (r) => {
      if (!r.ok) {
        const t = await r.text();
        let msg = t;
        try { msg = JSON.parse(t).message || t; } catch { /* not JSON */ }
        throw new Error(`${r.status}: ${msg.slice(0, 300)}`);
      }
      const buf = new Uint8Array(await r.arrayBuffer());
      const probe = buf.subarray(0, 8000);
      if (!TEXT.test(name) && probe.includes(0)) return setText('\u0000binary');
      setText(new TextDecoder().decode(buf));
    }).catch((e) => setErr(e.message));
  }, [url]);
  let body;
  if (isImage) body = <img class="artifact-img" src={url} alt={name} />;
  else if (big) body = <div class="muted small-pad">File is {fmtBytes(file.file_size)}; too large to preview.</div>;
  else if (err) body = <div class="error-box">{err}</div>;
  else if (text === null) body = <Spinner />;
  else if (text === '\u0000binary') body = <div class="muted small-pad">Binary file; use Download.</div>;
  else if (/\.(csv|tsv)$/i.test(name)) {
    const rows = parseCSV(text, /\.tsv$/i.test(name) ? '\t' : ',');
    body = (
      <div class="csv-wrap">
        <table class="grid-table csv">
          <thead><tr>{(rows[0] || []).map((h, i) => <th key={i}>{h}</th>)}</tr></thead>
          <tbody>{rows.slice(1, 1001).map((r, i) => <tr key={i}>{r.map((c, j) => <td key={j}>{c}</td>)}</tr>)}</tbody>
        </table>
        {rows.length > 1000 ? <div class="muted small">First 1000 rows shown.</div> : null}
      </div>
    );
  } else if (/\.json$/i.test(name)) {
    let pretty = text;
    try { pretty = JSON.stringify(JSON.parse(text), null, 2); } catch { /* show as is */ }
    body = <pre class="code">{pretty}</pre>;
  } else if (/\.md$/i.test(name)) body = <Markdown text={text} />;
  else body = <pre class="code">{text}</pre>;
  return (
    <div class="preview">
      <div class="preview-head">
        <span class="mono ellipsis" title={file.path}>{file.path}</span>
        {file.file_size !== undefined ? <span class="muted small">{fmtBytes(file.file_size)}</span> : null}
        <div class="spacer" />
        <a class="btn small" href={url} download={name}><Icon name="download" /> Download</a>
      </div>
      <div class="preview-body">{body}</div>
    </div>
  );
}

/** ArtifactBrowser shows a lazily loaded file tree and a preview of the selected file. */
export function ArtifactBrowser({ root, path: rawPath, onPath, registerName, modelId, sourceRunId, createdMs }: { root: ArtifactRoot; path: string; onPath: (p: string) => void; registerName?: string; modelId?: string; sourceRunId?: string; createdMs?: number }) {
  // Directories carry a trailing slash in the URL so a reload selects them as folders.
  const pathIsDir = rawPath.endsWith('/');
  const path = rawPath.replace(/\/+$/, '');
  const [expanded, setExpanded] = useState<Set<string>>(() => {
    const s = new Set<string>();
    const parts = path.split('/');
    for (let i = 1; i <= parts.length; i++) s.add(parts.slice(0, i).join('/'));
    return s;
  });
  const [sel, setSel] = useState<FileInfo | null>(path ? { path, is_dir: pathIsDir } : null);
  const [isModelDir, setIsModelDir] = useState(false);
  const [registering, setRegistering] = useState(false);
  // A folder (or the root, for a logged model) holding an MLmodel file can be registered.
  const dir = sel ? (sel.is_dir ? sel.path : '') : '';
  useEffect(() => {
    setIsModelDir(false);
    if (sel && !sel.is_dir) return;
    listArtifacts(root, dir).then((f) => setIsModelDir(f.some((x) => !x.is_dir && base(x.path) === 'MLmodel')), () => {});
  }, [root.uri, dir, sel?.is_dir]);
  useEffect(() => {
    // Learn whether a path from the URL is a directory, to preview the right thing.
    if (!path || sel?.path === path) return;
    setSel({ path, is_dir: pathIsDir });
  }, [rawPath]);
  const toggle = (p: string) => { const s = new Set(expanded); s.has(p) ? s.delete(p) : s.add(p); setExpanded(s); };
  const source = root.uri.replace(/\/+$/, '') + (dir ? '/' + dir : '');
  return (
    <div class="artifacts">
      <div class="artifact-tree">
        <Tree root={root} dir="" depth={0} selected={sel?.path || ''} expanded={expanded} toggle={toggle} onSelect={(f) => { setSel(f); onPath(f.is_dir ? f.path + '/' : f.path); }} />
      </div>
      <div class="artifact-main">
        {isModelDir ? (
          <div class="model-banner">
            <span class="banner-title"><Icon name="box" /> MLflow model{dir ? <> in <span class="mono">{dir}</span></> : null}</span>
            <div class="spacer" />
            <button class="btn primary small" data-action="register-model" onClick={() => setRegistering(true)}>Register model</button>
          </div>
        ) : null}
        {isModelDir && (!sel || sel.is_dir) ? (
          <ModelSummary root={root} dir={dir} createdMs={createdMs}
            uri={modelId && !dir ? `models:/${modelId}` : root.runId ? `runs:/${root.runId}/${dir}` : source} />
        ) : null}
        {sel && !sel.is_dir ? <Preview root={root} file={sel} key={sel.path} /> : !isModelDir ? <div class="muted small-pad">Select a file to preview it.</div> : null}
      </div>
      {registering ? (modelId && !dir
        // A logged model's root registers as MLflow's client does: source models:/<id>, with model_id.
        ? <RegisterModal source={`models:/${modelId}`} modelId={modelId} runId={sourceRunId} defaultName={registerName} onClose={() => setRegistering(false)} />
        : <RegisterModal source={source} runId={root.runId || sourceRunId} defaultName={registerName || base(dir)} onClose={() => setRegistering(false)} />) : null}
    </div>
  );
}
