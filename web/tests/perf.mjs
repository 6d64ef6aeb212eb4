// Performance figures for the UI (reported, not asserted): an experiment of
// 10,000 runs in the runs table, scrolling it, and a metric of 1,000,000
// points on a run's chart. Run with `npm run perf` (MLTRACK_BIN as for tests).
import { apiClient, launchBrowser, startServer } from './harness.mjs';

const RUNS = Number(process.env.PERF_RUNS || 10000);
const POINTS = Number(process.env.PERF_POINTS || 1000000);

async function pool(n, limit, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < n) await fn(next++);
  }));
}

const server = await startServer();
const api = apiClient(server.url);
try {
  const exp = (await api.post('experiments/create', { name: 'perf-10k' })).experiment_id;
  let t = Date.now();
  await pool(RUNS, 8, async (i) => {
    const r = (await api.post('runs/create', { experiment_id: exp, run_name: `run-${i}`, start_time: 1.7e12 + i * 1000 })).run.info;
    await api.post('runs/log-batch', {
      run_id: r.run_id,
      params: [{ key: 'lr', value: String((i % 10) / 100) }, { key: 'seed', value: String(i) }],
      metrics: [{ key: 'acc', value: Math.random(), timestamp: 1.7e12 + i, step: 0 }],
      tags: [{ key: 'mlflow.note.content', value: `run number ${i}` }],
    });
    await api.post('runs/update', { run_id: r.run_id, status: 'FINISHED', end_time: 1.7e12 + i * 1000 + 60000 });
  });
  console.log(`seeded ${RUNS} runs in ${Date.now() - t} ms`);

  const big = (await api.post('runs/create', { experiment_id: exp, run_name: 'million-points', start_time: 1.7e12 })).run.info;
  t = Date.now();
  const batches = Math.ceil(POINTS / 1000);
  await pool(batches, 4, async (b) => {
    const metrics = [];
    for (let s = b * 1000; s < Math.min(POINTS, (b + 1) * 1000); s++) metrics.push({ key: 'loss', value: Math.exp(-s / 2e5) + (s % 997 === 0 ? 1 : 0) + Math.random() * 0.01, timestamp: 1.7e12 + s, step: s });
    await api.post('runs/log-batch', { run_id: big.run_id, metrics });
  });
  console.log(`seeded ${POINTS} points in ${Date.now() - t} ms`);

  const browser = await launchBrowser();
  const page = await browser.context.newPage();
  page.setDefaultTimeout(120000);

  t = Date.now();
  await page.goto(`${server.url}/#/experiments/${exp}`);
  await page.locator('.vrow').first().waitFor();
  console.log(`runs table: first rows visible ${Date.now() - t} ms after navigation`);
  await page.waitForFunction((n) => document.querySelector('.statusline')?.textContent?.startsWith(`${n} runs`), RUNS + 1);
  console.log(`runs table: all ${RUNS + 1} runs loaded ${Date.now() - t} ms after navigation`);
  const frames = await page.evaluate(async () => {
    const el = document.querySelector('.vtable');
    const times = [];
    let last = performance.now();
    for (let i = 0; i < 120; i++) {
      el.scrollTop += 900;
      await new Promise((r) => requestAnimationFrame(r));
      const now = performance.now();
      times.push(now - last);
      last = now;
    }
    times.sort((a, b) => a - b);
    return { median: times[60], p95: times[114], max: times[119] };
  });
  console.log(`runs table scroll (120 frames, 30 rows each): frame median ${frames.median.toFixed(1)} ms, p95 ${frames.p95.toFixed(1)} ms, max ${frames.max.toFixed(1)} ms`);

  t = Date.now();
  await page.goto(`${server.url}/#/experiments/${exp}/runs/${big.run_id}/model-metrics`);
  await page.waitForFunction((n) => document.querySelector('.chart-card[data-metric=loss]')?.getAttribute('data-points') === String(n), POINTS);
  console.log(`1M-point chart: drawn ${Date.now() - t} ms after navigation (${POINTS} points, full history via get-history pages)`);
  await browser.close();
} finally {
  await server.stop();
}
