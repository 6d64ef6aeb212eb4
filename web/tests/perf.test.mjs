// Performance figures of the UI, reported (printed as "# perf: ...") and not
// asserted as timings: an experiment of 10,000 runs in the runs table (time
// to first rows, to all rows, scroll frame times), a metric of 1,000,000
// points on a run's chart (time to draw, zoom detail), and how soon a running
// run's new point shows. Sizes: PERF_RUNS, PERF_POINTS.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, chromiumAvailable, launchBrowser, screenshot, startServer } from './harness.mjs';

const RUNS = Number(process.env.PERF_RUNS || 10000);
const POINTS = Number(process.env.PERF_POINTS || 1000000);
const report = (s) => console.log(`# perf: ${s}`);

async function pool(n, limit, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < n) await fn(next++);
  }));
}

if (!chromiumAvailable() && process.env.CI === 'true') {
  test('perf tests need Chromium', () => assert.fail('/usr/bin/chromium is missing; run scripts/install-browser-deps.sh'));
} else {
  describe('UI performance figures', { skip: chromiumAvailable() ? false : 'Chromium is missing; run scripts/install-browser-deps.sh (CI=true turns this into a failure)' }, () => {
    let server, api, browser, page, exp, big;
    const errors = [];

    before(async () => {
      server = await startServer();
      api = apiClient(server.url);
      exp = (await api.post('experiments/create', { name: 'perf-10k' })).experiment_id;
      let t = Date.now();
      await pool(RUNS, 12, async (i) => {
        const r = (await api.post('runs/create', {
          experiment_id: exp, run_name: `run-${i}`, start_time: 1.7e12 + i * 1000,
          tags: [{ key: 'mlflow.note.content', value: `run number ${i}` }, { key: 'mlflow.user', value: `user${i % 7}` }],
        })).run.info;
        await api.post('runs/log-batch', {
          run_id: r.run_id,
          params: [{ key: 'lr', value: String((i % 10) / 100) }, { key: 'seed', value: String(i) }],
          metrics: [{ key: 'acc', value: (i * 7919 % 1000) / 1000, timestamp: 1.7e12 + i, step: 0 }],
        });
        await api.post('runs/update', { run_id: r.run_id, status: 'FINISHED', end_time: 1.7e12 + i * 1000 + 60000 });
      });
      report(`seeded ${RUNS} runs in ${Date.now() - t} ms`);

      big = (await api.post('runs/create', { experiment_id: exp, run_name: 'million-points', start_time: 1.7e12 })).run.info;
      t = Date.now();
      await pool(Math.ceil(POINTS / 1000), 6, async (b) => {
        const metrics = [];
        for (let s = b * 1000; s < Math.min(POINTS, (b + 1) * 1000); s++) {
          metrics.push({ key: 'loss', value: Math.exp(-s / 2e5) + (s % 99991 === 0 ? 1 : 0) + ((s * 2654435761) % 1000) / 1e5, timestamp: 1.7e12 + s, step: s });
        }
        await api.post('runs/log-batch', { run_id: big.run_id, metrics });
      });
      await api.post('runs/update', { run_id: big.run_id, status: 'FINISHED', end_time: 1.7e12 + POINTS });
      report(`seeded ${POINTS} points (log-batch of 1000, 6 in parallel) in ${Date.now() - t} ms`);

      browser = await launchBrowser();
      page = await browser.context.newPage();
      page.setDefaultTimeout(300000);
      page.on('pageerror', (e) => errors.push(String(e)));
      // Records, in the page, when each watched selector first appears (ms since navigation start).
      await page.addInitScript(() => {
        const watch = { rows: '.vrow', chart: '.chart-card[data-metric=loss] canvas' };
        window.__seen = {};
        new MutationObserver(() => {
          for (const [k, sel] of Object.entries(watch)) if (!window.__seen[k] && document.querySelector(sel)) window.__seen[k] = performance.now();
        }).observe(document, { childList: true, subtree: true });
      });
      // Warm the browser (first start of a fresh profile) so figures are about the UI.
      await page.goto(`${server.url}/#/`);
      await page.locator('h1').first().waitFor();
    });
    const seen = (k) => page.evaluate((key) => window.__seen[key], k);

    after(async () => {
      await browser?.close();
      await server?.stop();
    });

    test(`runs table of ${RUNS} runs: first rows, all rows, scrolling`, async () => {
      await page.goto('about:blank');
      const t = Date.now();
      await page.goto(`${server.url}/#/experiments/${exp}`);
      await page.locator('.vrow').first().waitFor();
      report(`runs table: first rows in the page ${(await seen('rows')).toFixed(0)} ms after navigation start (page load, JS, first runs/search page of 100); ${Date.now() - t} ms as the test saw it`);
      await page.waitForFunction((n) => document.querySelector('.statusline')?.textContent?.startsWith(`${n} runs`), RUNS + 1);
      report(`runs table: all ${RUNS + 1} runs loaded ${Date.now() - t} ms after navigation`);
      const f = await page.evaluate(async () => {
        const el = document.querySelector('.vtable');
        const frame = () => new Promise((r) => requestAnimationFrame(r));
        const measure = async (n, step) => {
          const times = [];
          await frame();
          let last = performance.now();
          for (let i = 0; i < n; i++) {
            if (step) el.scrollTop += step;
            await frame();
            const now = performance.now();
            times.push(now - last);
            last = now;
          }
          times.sort((a, b) => a - b);
          return { median: times[Math.floor(n / 2)], p95: times[Math.floor(n * 0.95)], max: times[n - 1] };
        };
        const idle = await measure(60, 0);
        const slow = await measure(120, 90); // 3 rows a frame: a wheel scroll
        const fast = await measure(120, 900); // 30 rows a frame: dragging the scrollbar
        return { idle, slow, fast, rows: document.querySelectorAll('.vrow').length };
      });
      const fmt = (x) => `median ${x.median.toFixed(1)} ms, p95 ${x.p95.toFixed(1)} ms, max ${x.max.toFixed(1)} ms`;
      report(`runs table scroll, idle frames (headless, no GPU): ${fmt(f.idle)}`);
      report(`runs table scroll, 3 rows per frame: ${fmt(f.slow)}`);
      report(`runs table scroll, 30 rows per frame: ${fmt(f.fast)}`);
      report(`runs table: ${f.rows} row elements in the DOM for ${RUNS + 1} runs`);
      assert.ok(f.rows < 200, 'the table is virtualised');
      await screenshot(page, 'perf-01-runs-10k');
    });

    test(`a metric of ${POINTS} points: chart, zoom`, async () => {
      await page.goto('about:blank');
      const t = Date.now();
      await page.goto(`${server.url}/#/experiments/${exp}/runs/${big.run_id}/model-metrics`);
      const card = page.locator('.chart-card[data-metric=loss]');
      await card.locator('canvas').waitFor();
      report(`1M-point chart: drawn ${(await seen('chart')).toFixed(0)} ms after navigation start, ${Date.now() - t} ms as the test saw it (${await card.getAttribute('data-points')} points drawn of ${await card.getAttribute('data-total')})`);
      assert.equal(await card.getAttribute('data-total'), String(POINTS));
      const box = await card.locator('.u-over').boundingBox();
      const t2 = Date.now();
      await page.mouse.move(box.x + box.width * 0.50, box.y + box.height / 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.52, box.y + box.height / 2, { steps: 4 });
      await page.mouse.up();
      await page.locator('.chart-card[data-metric=loss][data-detail=ready]').waitFor();
      report(`1M-point chart: zoomed (2% of the x range) and detail drawn ${Date.now() - t2} ms after the drag (${await card.getAttribute('data-points')} points in range)`);
      await screenshot(page, 'perf-02-million-points');
    });

    test('a running run: a new point shows without a refresh', async () => {
      const run = (await api.post('runs/create', { experiment_id: exp, run_name: 'live', start_time: Date.now() })).run.info;
      await api.post('runs/log-batch', { run_id: run.run_id, metrics: [{ key: 'loss', value: 1, timestamp: Date.now(), step: 0 }] });
      await page.goto(`${server.url}/#/experiments/${exp}/runs/${run.run_id}/model-metrics`);
      const card = page.locator('.chart-card[data-metric=loss]');
      await card.locator('canvas').waitFor();
      const times = [];
      for (let s = 1; s <= 5; s++) {
        await new Promise((r) => setTimeout(r, 300 * s));
        const t = Date.now();
        await api.post('runs/log-batch', { run_id: run.run_id, metrics: [{ key: 'loss', value: 1 / (s + 1), timestamp: Date.now(), step: s }] });
        await page.waitForFunction((n) => document.querySelector('.chart-card[data-metric=loss]')?.getAttribute('data-points') === String(n), s + 1);
        times.push(Date.now() - t);
      }
      report(`live: new point visible after ${times.join(', ')} ms (5 points logged at random phases of the 1 s poll)`);
    });

    test('no uncaught page errors', () => assert.deepEqual(errors, []));
  });
}
