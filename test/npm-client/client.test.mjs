// The npm `mlflow` package is an older REST client: it lists experiments
// with MLflow 1.x's experiments/list and reads metric histories without
// max_results. mltrack serves it fully (docs/compatibility.md).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import net from 'node:net';
import MLflow from 'mlflow';

let server, client, base;
const quiet = console.log;

async function freePort() {
  return new Promise((ok) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); });
  });
}

before(async () => {
  const root = resolve(import.meta.dirname, '../..');
  let bin = process.env.MLTRACK_BIN;
  const dir = mkdtempSync(join(tmpdir(), 'mltrack-npm-'));
  if (!bin) {
    bin = join(dir, 'mltrack');
    execFileSync('go', ['build', '-o', bin, './cmd/mltrack'], { cwd: root, stdio: 'inherit' });
  }
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(bin, ['server', '--port', String(port), '--backend-store-uri', `sqlite:///${join(dir, 'mlflow.db')}`,
    '--artifacts-destination', join(dir, 'artifacts')], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(`${base}/health`)).ok) break; } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  client = new MLflow({ endpoint: base });
  console.log = () => {}; // the package logs every request body
});

after(() => { console.log = quiet; server?.kill(); });

test('experiments, runs, metrics and history through the npm mlflow client', async () => {
  const { Experiments, Runs, Metrics } = client;
  const { experiment_id } = await Experiments.create({ name: 'npm-client' });
  const { experiments } = await Experiments.list({ view_type: 'ACTIVE_ONLY' });
  assert.ok(experiments.some((e) => e.name === 'npm-client' && e.experiment_id === experiment_id));

  const { run } = await Runs.create({ experiment_id, start_time: Date.now(), tags: [{ key: 'mlflow.runName', value: 'npm-run' }] });
  const run_id = run.info.run_id;
  const t0 = Date.now();
  for (let step = 0; step < 5; step++) {
    await Runs.logMetric({ run_id, key: 'loss', value: 1 / (step + 1), timestamp: t0 + step, step });
  }
  await Runs.logBatch({ run_id, metrics: [{ key: 'acc', value: 0.9, timestamp: t0, step: 0 }], params: [{ key: 'lr', value: '0.01' }], tags: [] });
  await Runs.setTag({ run_id, key: 'mlflow.note.content', value: 'from node' });
  await Runs.update({ run_id, status: 'FINISHED', end_time: Date.now() });

  // Without max_results MLflow 3 answers no points; mltrack the whole history.
  const { metrics } = await Metrics.getHistory({ run_id, metric_key: 'loss' });
  assert.deepEqual(metrics.map((m) => m.step), [0, 1, 2, 3, 4]);
  assert.equal(metrics[4].value, 0.2);

  const got = await Runs.get({ run_id });
  assert.equal(got.run.info.status, 'FINISHED');
  assert.equal(got.run.data.params[0].value, '0.01');
  assert.ok(got.run.data.tags.some((t) => t.key === 'mlflow.note.content' && t.value === 'from node'));

  const { runs } = await Runs.search({ experiment_ids: [experiment_id], filter: "metrics.acc > 0.5", order_by: ['metrics.loss ASC'] });
  assert.deepEqual(runs.map((r) => r.info.run_id), [run_id]);

  await Runs.delete({ run_id });
  await Runs.restore({ run_id });
  await Experiments.update({ experiment_id, new_name: 'npm-client-renamed' });
  const { experiment } = await Experiments.get({ experiment_id });
  assert.equal(experiment.name, 'npm-client-renamed');
});

test('errors come back in MLflow format', async () => {
  await assert.rejects(client.Runs.get({ run_id: '0'.repeat(32) }), (e) => {
    const { status, data } = JSON.parse(e.message.replace(/^Error: /, ''));
    assert.equal(status, 404);
    assert.equal(data.error_code, 'RESOURCE_DOES_NOT_EXIST');
    return true;
  });
});
