// Seeds a server with what the tutorial's UI tour looks at, shaped as the
// official client writes it: an experiment of 4 runs of 20 epochs with
// system metrics, a one-off test score and parameter count per run, a
// logged model per run (MLmodel with a signature), and a registered model
// of the same name as the logged models, with one version.

const T0 = Date.UTC(2026, 2, 3, 14, 0, 0);

function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

export const MODEL_NAME = 'food-classifier';

export const MLMODEL = `artifact_path: null
flavors:
  python_function:
    config:
      device: null
    data: data
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.pytorch
    pickle_module_name: mlflow.pytorch.pickle_module
    python_version: 3.11.7
  pytorch:
    code: null
    model_data: data
    pytorch_version: 2.5.1
mlflow_version: 3.6.0
model_id: MODEL_ID
model_size_bytes: 8947712
model_uuid: 5c3b1f0e2d4a4b6c8e9f0a1b2c3d4e5f
run_id: RUN_ID
signature:
  inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1,
    3, 64, 64]}}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1,
    11]}}]'
  params: null
utc_time_created: '2026-03-03 14:05:12.345678'
`;

export const DESCRIPTION = 'Fine-tuned with **num_workers=4**, `lr_schedule` cosine and label_smoothing 0.1.';

export async function seedTour(api) {
  const exp = (await api.post('experiments/create', { name: 'food11-tutorial' })).experiment_id;
  const runs = [];
  const configs = [
    { name: 'resnet18-lr0.01', lr: 0.01, batch: 64 },
    { name: 'resnet18-lr0.003', lr: 0.003, batch: 64 },
    { name: 'resnet34-lr0.01', lr: 0.01, batch: 32 },
    { name: 'mobilenet-lr0.03', lr: 0.03, batch: 128 },
  ];
  for (let k = 0; k < configs.length; k++) {
    const c = configs[k];
    const start = T0 + k * 600000;
    const rand = rng(100 + k);
    const tags = [{ key: 'mlflow.user', value: 'alice' }, { key: 'mlflow.source.name', value: 'train.py' }, { key: 'mlflow.source.type', value: 'LOCAL' }];
    if (k === 0) tags.push({ key: 'mlflow.note.content', value: DESCRIPTION });
    const info = (await api.post('runs/create', { experiment_id: exp, run_name: c.name, start_time: start, user_id: 'alice', tags })).run.info;
    const metrics = [];
    let loss = 2.4, acc = 0.09;
    for (let s = 0; s < 20; s++) {
      const ts = start + (s + 1) * 15000;
      loss = loss * (0.86 - c.lr) + rand() * 0.04;
      acc = Math.min(0.97, acc + (1 - acc) * (0.1 + c.lr * 2) + (rand() - 0.5) * 0.02);
      metrics.push({ key: 'train_loss', value: loss, timestamp: ts, step: s });
      metrics.push({ key: 'val_loss', value: loss * 1.08 + rand() * 0.03, timestamp: ts, step: s });
      metrics.push({ key: 'val_accuracy', value: acc, timestamp: ts, step: s });
      metrics.push({ key: 'samples_seen', value: (s + 1) * 1_150_000 * (k + 1), timestamp: ts, step: s });
    }
    for (let s = 0; s < 30; s++) {
      const ts = start + s * 10000;
      metrics.push({ key: 'system/cpu_utilization_percentage', value: 35 + rand() * 40, timestamp: ts, step: s });
      metrics.push({ key: 'system/gpu_0_utilization_percentage', value: 72 + rand() * 26, timestamp: ts, step: s });
      metrics.push({ key: 'system/system_memory_usage_megabytes', value: 5200 + s * 9 + rand() * 40, timestamp: ts, step: s });
    }
    metrics.push({ key: 'test_accuracy', value: acc - 0.02 - rand() * 0.02, timestamp: start + 320000, step: 0 });
    metrics.push({ key: 'test_loss', value: loss * 1.15, timestamp: start + 320000, step: 0 });
    metrics.push({ key: 'trainable_params', value: [11_182_155, 11_182_155, 21_290_315, 2_236_682][k], timestamp: start + 1000, step: 0 });
    await api.post('runs/log-batch', {
      run_id: info.run_id,
      params: [
        { key: 'lr', value: String(c.lr) }, { key: 'batch_size', value: String(c.batch) },
        { key: 'num_workers', value: '4' }, { key: 'epochs', value: '20' }, { key: 'optimizer', value: 'adamw' },
      ],
      metrics,
    });
    // The logged model, as mlflow.pytorch.log_model(name=...) makes it.
    const lm = (await api.post('logged-models', {
      experiment_id: exp, name: MODEL_NAME, source_run_id: info.run_id, model_type: 'pytorch',
    })).model;
    await api.putArtifact(lm.info.artifact_uri, 'MLmodel', MLMODEL.replace('MODEL_ID', lm.info.model_id).replace('RUN_ID', info.run_id));
    await api.putArtifact(lm.info.artifact_uri, 'requirements.txt', 'mlflow==3.6.0\ntorch==2.5.1\n');
    await api.putArtifact(lm.info.artifact_uri, 'data/model.pth', new Uint8Array(64));
    await api.patch(`logged-models/${lm.info.model_id}`, { model_id: lm.info.model_id, status: 'LOGGED_MODEL_READY' });
    await api.post('runs/outputs', { run_id: info.run_id, models: [{ model_id: lm.info.model_id, step: 19 }] });
    await api.post('runs/update', { run_id: info.run_id, status: 'FINISHED', end_time: start + 330000 });
    runs.push({ ...info, run_name: c.name, model_id: lm.info.model_id });
  }
  // The first run's model was registered (log_model(registered_model_name=...)).
  await api.post('registered-models/create', { name: MODEL_NAME });
  await api.post('model-versions/create', {
    name: MODEL_NAME, source: `models:/${runs[0].model_id}`, run_id: runs[0].run_id, model_id: runs[0].model_id,
    tags: [{ key: 'validation', value: 'passed' }],
  });
  return { exp, runs };
}
