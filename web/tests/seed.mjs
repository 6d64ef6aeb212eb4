// Seeds a server over MLflow's REST API with data shaped like a real team's:
// several experiments, a hyper-parameter sweep with nested child runs, model
// and system metrics over steps, descriptions, git commits, artifacts (text,
// CSV, JSON, an MLflow model folder) and a registered model.

const T0 = Date.UTC(2026, 0, 12, 9, 0, 0);

function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

const MLMODEL = `artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.pytorch
    python_version: 3.11.7
  pytorch:
    model_data: data
    pytorch_version: 2.5.1
mlflow_version: 3.6.0
model_size_bytes: 5843
`;

async function createRun(api, expId, name, { start, tags = {}, user = 'alice' }) {
  const r = await api.post('runs/create', {
    experiment_id: expId, run_name: name, start_time: start, user_id: user,
    tags: Object.entries({ 'mlflow.user': user, 'mlflow.source.type': 'LOCAL', ...tags }).map(([key, value]) => ({ key, value })),
  });
  return r.run.info;
}

async function logTraining(api, runId, { lr, batch, optimizer, epochs, seed, start, system = true }) {
  const rand = rng(seed);
  await api.post('runs/log-batch', {
    run_id: runId,
    params: [
      { key: 'lr', value: String(lr) }, { key: 'batch_size', value: String(batch) },
      { key: 'optimizer', value: optimizer }, { key: 'epochs', value: String(epochs) },
      { key: 'model_architecture', value: 'resnet18' },
    ],
  });
  const metrics = [];
  let loss = 2.4;
  let acc = 0.1;
  for (let s = 0; s < epochs; s++) {
    const ts = start + (s + 1) * 1500;
    loss = loss * (0.9 - lr) + rand() * 0.05;
    acc = Math.min(0.99, acc + (1 - acc) * (0.08 + lr) + (rand() - 0.5) * 0.02);
    metrics.push({ key: 'train_loss', value: loss, timestamp: ts, step: s });
    metrics.push({ key: 'val_loss', value: loss * 1.1 + rand() * 0.05, timestamp: ts, step: s });
    metrics.push({ key: 'val_accuracy', value: acc, timestamp: ts, step: s });
  }
  if (system) {
    for (let s = 0; s < 20; s++) {
      const ts = start + s * 1000;
      metrics.push({ key: 'system/cpu_utilization_percentage', value: 40 + rand() * 40, timestamp: ts, step: s });
      metrics.push({ key: 'system/system_memory_usage_megabytes', value: 2100 + s * 12 + rand() * 30, timestamp: ts, step: s });
      metrics.push({ key: 'system/gpu_0_utilization_percentage', value: 70 + rand() * 28, timestamp: ts, step: s });
      metrics.push({ key: 'system/gpu_0_memory_usage_megabytes', value: 9800 + rand() * 200, timestamp: ts, step: s });
    }
  }
  for (let i = 0; i < metrics.length; i += 900) await api.post('runs/log-batch', { run_id: runId, metrics: metrics.slice(i, i + 900) });
  return acc;
}

async function finish(api, runId, end, status = 'FINISHED') {
  await api.post('runs/update', { run_id: runId, status, end_time: end });
}

/** seed fills the server and returns the ids the tests need. */
export async function seed(api) {
  const food = (await api.post('experiments/create', { name: 'food11-classifier' })).experiment_id;
  const llm = (await api.post('experiments/create', { name: 'llm-finetune' })).experiment_id;
  const tab = (await api.post('experiments/create', { name: 'tabular-baselines' })).experiment_id;

  const git = 'a3f9c2e81b7d4c0e9f1a2b3c4d5e6f708192a3b4';
  const src = '/home/alice/food11/train.py';

  // A sweep: one parent run and three children.
  const parent = await createRun(api, food, 'hpo-sweep', { start: T0, tags: { 'mlflow.source.name': src, 'mlflow.source.git.commit': git, 'mlflow.note.content': 'Learning-rate sweep over **SGD** and Adam.' } });
  const children = [];
  const configs = [
    { lr: 0.01, batch: 32, optimizer: 'sgd' },
    { lr: 0.05, batch: 32, optimizer: 'sgd' },
    { lr: 0.001, batch: 64, optimizer: 'adam' },
  ];
  for (let i = 0; i < configs.length; i++) {
    const start = T0 + 1000 + i * 60000;
    const c = await createRun(api, food, `sweep-trial-${i + 1}`, { start, tags: { 'mlflow.parentRunId': parent.run_id, 'mlflow.source.name': src, 'mlflow.source.git.commit': git } });
    await logTraining(api, c.run_id, { ...configs[i], epochs: 30, seed: 10 + i, start });
    await finish(api, c.run_id, start + 50000);
    children.push(c);
  }
  await finish(api, parent.run_id, T0 + 250000);

  // A standalone baseline with artifacts and a logged model folder.
  const bStart = T0 + 400000;
  const baseline = await createRun(api, food, 'baseline-resnet18', { start: bStart, tags: { 'mlflow.source.name': src, 'mlflow.source.git.commit': 'b71c0de2f3a4b5c6d7e8f90112233445566778899', 'mlflow.note.content': 'Baseline: resnet18, no augmentation.\n\n- lr 0.01\n- 40 epochs' } });
  await logTraining(api, baseline.run_id, { lr: 0.02, batch: 128, optimizer: 'sgd', epochs: 40, seed: 99, start: bStart });
  await api.putArtifact(baseline.artifact_uri, 'notes.txt', 'Training went fine.\nBest epoch: 37\n');
  await api.putArtifact(baseline.artifact_uri, 'eval/confusion.csv', 'class,precision,recall\nbread,0.91,0.88\ndairy,0.84,0.80\ndessert,0.77,0.81\n');
  await api.putArtifact(baseline.artifact_uri, 'config.json', JSON.stringify({ lr: 0.02, batch_size: 128, augment: false }));
  await api.putArtifact(baseline.artifact_uri, 'model/MLmodel', MLMODEL);
  await api.putArtifact(baseline.artifact_uri, 'model/requirements.txt', 'mlflow==3.6.0\ntorch==2.5.1\n');
  await api.putArtifact(baseline.artifact_uri, 'model/data/model.pth', new Uint8Array([0x80, 0x02, 0, 1, 2, 3, 0, 0]));
  await finish(api, baseline.run_id, bStart + 70000);

  // Trial 3 also logged an MLflow 3 logged model (as mlflow.pytorch.log_model does).
  const lm = (await api.post('logged-models', {
    experiment_id: food, name: 'food11-adam', source_run_id: children[2].run_id,
    params: [{ key: 'lr', value: '0.001' }], tags: [{ key: 'mlflow.user', value: 'alice' }],
  })).model;
  await api.putArtifact(lm.info.artifact_uri, 'MLmodel', MLMODEL.replace('artifact_path: model\n', ''));
  await api.putArtifact(lm.info.artifact_uri, 'requirements.txt', 'mlflow==3.6.0\ntorch==2.5.1\n');
  await api.putArtifact(lm.info.artifact_uri, 'data/model.pth', new Uint8Array([0x80, 0x02, 9, 9]));
  await api.patch(`logged-models/${lm.info.model_id}`, { model_id: lm.info.model_id, status: 'LOGGED_MODEL_READY' });
  await api.post('runs/outputs', { run_id: children[2].run_id, models: [{ model_id: lm.info.model_id, step: 0 }] });
  for (let i = 0; i < children.length; i++) await api.putArtifact(children[i].artifact_uri, 'config.json', JSON.stringify(configs[i]));

  // A long-running job whose loss has 20,000 points (zoom fetches the detail).
  const long = await createRun(api, tab, 'long-pretrain', { start: T0, user: 'dave' });
  await Promise.all(Array.from({ length: 20 }, (_, b) => api.post('runs/log-batch', {
    run_id: long.run_id,
    metrics: Array.from({ length: 1000 }, (_, i) => {
      const s = b * 1000 + i;
      return { key: 'loss', value: 3 * Math.exp(-s / 4000) + 0.1 * Math.sin(s / 50) + (s === 12345 ? 5 : 0), timestamp: T0 + s * 10, step: s };
    }),
  })));
  await finish(api, long.run_id, T0 + 200000);

  // A failed run and a run still going (for live updates).
  const failed = await createRun(api, food, 'oom-batch-512', { start: T0 + 500000, user: 'bob', tags: { 'mlflow.source.name': src } });
  await logTraining(api, failed.run_id, { lr: 0.05, batch: 512, optimizer: 'sgd', epochs: 3, seed: 5, start: T0 + 500000, system: false });
  await finish(api, failed.run_id, T0 + 520000, 'FAILED');
  const live = await createRun(api, food, 'live-training', { start: Date.now() - 60000, tags: { 'mlflow.source.name': src, 'mlflow.source.git.commit': git } });
  await logTraining(api, live.run_id, { lr: 0.01, batch: 32, optimizer: 'adam', epochs: 5, seed: 7, start: Date.now() - 60000 });

  // Other experiments so the sidebar has something to search.
  for (let i = 0; i < 3; i++) {
    const r = await createRun(api, llm, `lora-r${8 << i}`, { start: T0 + i * 1000, user: 'carol', tags: { 'mlflow.source.name': '/srv/llm/finetune.py' } });
    await logTraining(api, r.run_id, { lr: 0.0002 * (i + 1), batch: 8, optimizer: 'adamw', epochs: 10, seed: 50 + i, start: T0 + i * 1000, system: false });
    await finish(api, r.run_id, T0 + i * 1000 + 30000);
  }
  const x = await createRun(api, tab, 'xgboost-default', { start: T0, user: 'dave' });
  await api.post('runs/log-batch', { run_id: x.run_id, params: [{ key: 'max_depth', value: '6' }], metrics: [{ key: 'auc', value: 0.87, timestamp: T0 + 1, step: 0 }] });
  await finish(api, x.run_id, T0 + 5000);

  // A registered model built from the baseline's model folder.
  await api.post('registered-models/create', { name: 'food11-resnet', description: 'Food-11 classifier.' });
  await api.post('model-versions/create', { name: 'food11-resnet', source: `${baseline.artifact_uri}/model`, run_id: baseline.run_id });

  return { food, llm, tab, parent, children, baseline, failed, live, loggedModel: lm, long };
}
