// Test harness: builds or finds the real mltrack binary, starts it on a free
// port with a fresh SQLite database and artifact folder, and launches
// Debian's Chromium through playwright-core with a fresh profile.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');
export const outDir = join(repoRoot, 'test-output', 'screenshots');
export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

/** need reports a missing tool: a failure under CI=true, otherwise a skip reason. */
export function need(t, ok, what) {
  if (ok) return true;
  const msg = `${what} is not available`;
  if (process.env.CI === 'true') throw new Error(msg + ' (required under CI=true)');
  t.skip(msg + '; run scripts/install-browser-deps.sh');
  return false;
}

export function mltrackBinary() {
  if (process.env.MLTRACK_BIN) return process.env.MLTRACK_BIN;
  const out = join(tmpdir(), 'mltrack-ui-test-bin');
  execFileSync('go', ['build', '-o', out, './cmd/mltrack'], { cwd: repoRoot, stdio: 'inherit' });
  return out;
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

/**
 * startServer runs `mltrack server` on a fresh database; stop() ends it and
 * removes its files. opts.args are extra flags, in which "{dir}" stands for
 * the server's temporary folder; opts.env extra environment.
 */
export async function startServer(opts = {}) {
  const bin = mltrackBinary();
  const dir = mkdtempSync(join(tmpdir(), 'mltrack-ui-'));
  const port = await freePort();
  const extra = (opts.args || []).map((a) => a.replaceAll('{dir}', dir));
  const proc = spawn(bin, ['server', '--host', '127.0.0.1', '--port', String(port),
    '--backend-store-uri', `sqlite:///${join(dir, 'mlflow.db')}`, '--artifacts-destination', join(dir, 'art'), ...extra],
  { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...(opts.env || {}) } });
  let log = '';
  proc.stdout.on('data', (d) => { log += d; });
  proc.stderr.on('data', (d) => { log += d; });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`mltrack exited (${proc.exitCode}):\n${log}`);
    try {
      const r = await fetch(url + '/health');
      if (r.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      proc.kill();
      throw new Error(`mltrack did not answer /health within 20 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    log: () => log,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.on('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** launchBrowser starts headless Chromium with a fresh profile; returns { context, close }. */
export async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'mltrack-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1440, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * launchBrowserContexts starts one headless Chromium in which each
 * newContext() is a separate profile (its own cookies): one per user.
 */
export async function launchBrowserContexts() {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    newContext: () => browser.newContext({ viewport: { width: 1440, height: 900 } }),
    close: () => browser.close(),
  };
}

export function chromiumAvailable() {
  return existsSync(CHROMIUM);
}

export async function screenshot(page, name) {
  mkdirSync(outDir, { recursive: true });
  await page.screenshot({ path: join(outDir, `${name}.png`), fullPage: false });
}

/** api is a tiny REST client for seeding and for checking what the UI wrote. */
export function apiClient(base, auth) {
  async function call(method, path, body, query) {
    const q = query ? '?' + new URLSearchParams(query).toString() : '';
    const headers = body ? { 'Content-Type': 'application/json' } : {};
    if (auth?.token) headers.Authorization = `Bearer ${auth.token}`;
    else if (auth?.username) headers.Authorization = 'Basic ' + Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
    const r = await fetch(`${base}${path.startsWith('/') ? '' : '/api/2.0/mlflow/'}${path}${q}`, {
      method,
      headers,
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    if (!r.ok) throw Object.assign(new Error(`${method} ${path} -> ${r.status}: ${text}`), { status: r.status, body: text });
    return text ? JSON.parse(text) : {};
  }
  return {
    get: (p, q) => call('GET', p, undefined, q),
    post: (p, b) => call('POST', p, b),
    del: (p, b) => call('DELETE', p, b),
    patch: (p, b) => call('PATCH', p, b),
    async putArtifact(artifactUri, relPath, content) {
      const m = /^mlflow-artifacts:\/(.*)$/.exec(artifactUri);
      if (!m) throw new Error('unexpected artifact uri ' + artifactUri);
      const path = `${m[1].replace(/^\/+/, '')}/${relPath}`.split('/').map(encodeURIComponent).join('/');
      const headers = {};
      if (auth?.token) headers.Authorization = `Bearer ${auth.token}`;
      const r = await fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/${path}`, { method: 'PUT', body: content, headers });
      if (!r.ok) throw new Error(`PUT artifact ${relPath} -> ${r.status}: ${await r.text()}`);
    },
  };
}
