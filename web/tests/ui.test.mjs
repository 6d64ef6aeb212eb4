// Browser tests of the web UI against a real mltrack server seeded over its
// REST API. Each page is loaded, its main action exercised, the result checked
// through the API, and a screenshot kept in test-output/screenshots/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, chromiumAvailable, launchBrowser, screenshot, startServer } from './harness.mjs';
import { seed } from './seed.mjs';

const missing = !chromiumAvailable() ? 'Chromium (/usr/bin/chromium)' : null;

if (missing && process.env.CI === 'true') {
  test('browser tests need their tools', () => {
    assert.fail(`${missing} is missing; run scripts/install-browser-deps.sh`);
  });
} else {
  describe('web UI', { skip: missing ? `${missing} is missing; run scripts/install-browser-deps.sh (CI=true turns this into a failure)` : false }, () => {
    let server, browser, page, api, ids;
    const consoleErrors = [];

    before(async () => {
      server = await startServer();
      api = apiClient(server.url);
      ids = await seed(api);
      browser = await launchBrowser();
      page = await browser.context.newPage();
      page.setDefaultTimeout(15000);
      page.on('pageerror', (e) => consoleErrors.push(String(e)));
    });

    after(async () => {
      await browser?.close();
      await server?.stop();
    });

    const go = (hash) => page.goto(`${server.url}/#${hash}`);

    test('experiments: list, search, create, rename, delete', async () => {
      await go('/experiments');
      await page.getByRole('link', { name: 'food11-classifier' }).first().waitFor();
      for (const n of ['llm-finetune', 'tabular-baselines']) assert.ok(await page.getByRole('link', { name: n }).count());
      await page.getByPlaceholder('Search experiments by name').fill('llm');
      await page.waitForFunction(() => !document.body.innerText.includes('tabular-baselines'));
      await page.getByPlaceholder('Search experiments by name').fill('');
      await screenshot(page, '01-experiments');

      await page.locator('button[data-action=create-experiment]').first().click();
      await page.locator('.modal input[name=value]').fill('ui-created');
      await page.locator('.modal button[type=submit]').click();
      await page.waitForURL(/#\/experiments\/\d+/);
      const created = await api.get('experiments/get-by-name', { experiment_name: 'ui-created' });
      const id = created.experiment.experiment_id;

      await page.locator('button[title="Rename experiment"]').click();
      await page.locator('.modal input[name=value]').fill('ui-renamed');
      await page.locator('.modal button[type=submit]').click();
      await page.locator('h1', { hasText: 'ui-renamed' }).waitFor();
      assert.equal((await api.get('experiments/get', { experiment_id: id })).experiment.name, 'ui-renamed');

      await go('/experiments');
      const row = page.locator('tr', { hasText: 'ui-renamed' });
      await row.getByRole('button', { name: 'Delete' }).click();
      await page.locator('.modal').getByRole('button', { name: 'Delete' }).click();
      await row.waitFor({ state: 'detached' });
      assert.equal((await api.get('experiments/get', { experiment_id: id })).experiment.lifecycle_stage, 'deleted');
    });

    test('runs table: nested runs, filter errors, sort, column picker remembered', async () => {
      await go(`/experiments/${ids.food}`);
      await page.locator('.vrow', { hasText: 'baseline-resnet18' }).waitFor();
      // Children sit under their parent, collapsed.
      assert.equal(await page.locator('.vrow', { hasText: 'sweep-trial-1' }).count(), 0);
      await page.locator(`.vrow[data-run-id="${ids.parent.run_id}"] .expander`).click();
      await page.locator('.vrow', { hasText: 'sweep-trial-1' }).waitFor();
      const parentTop = await page.locator(`.vrow[data-run-id="${ids.parent.run_id}"]`).boundingBox();
      const childTop = await page.locator(`.vrow[data-run-id="${ids.children[0].run_id}"]`).boundingBox();
      assert.ok(childTop.y > parentTop.y && childTop.x === parentTop.x);
      // Description and git commit columns are there by default.
      await page.locator('.vhead', { hasText: 'Description' }).waitFor();
      assert.ok(await page.locator('.vrow', { hasText: 'Baseline: resnet18' }).count());
      assert.ok(await page.locator('.vrow', { hasText: 'b71c0de2' }).count());

      // A filter the server rejects shows its message.
      await page.locator('input.filter-input').fill('metrics.val_accuracy >>> 1');
      await page.locator('input.filter-input').press('Enter');
      await page.locator('.error-box', { hasText: 'INVALID_PARAMETER_VALUE' }).waitFor();
      // A valid one narrows the table.
      await page.locator('input.filter-input').fill("params.optimizer = 'adam'");
      await page.locator('input.filter-input').press('Enter');
      await page.waitForFunction(() => document.querySelectorAll('.vrow').length > 0 && !document.body.innerText.includes('baseline-resnet18'));
      assert.equal(await page.locator('.error-box').count(), 0);
      await page.getByRole('button', { name: 'Clear' }).click();
      await page.locator('.vrow', { hasText: 'baseline-resnet18' }).waitFor();

      // Add a metric and a param column; the choice survives a reload.
      await page.locator('button[data-action=columns]').click();
      await page.locator('.picker input.search').fill('val_acc');
      await page.locator('.picker input[data-col="metric:val_accuracy"]').check();
      await page.locator('.picker input.search').fill('optim');
      await page.locator('.picker input[data-col="param:optimizer"]').check();
      await page.locator('.picker input.search').fill('');
      await page.locator('.picker input[data-col="tag:mlflow.source.name"]').uncheck();
      await page.getByRole('button', { name: 'Done' }).click();
      await page.locator('[data-col-head="metric:val_accuracy"]').waitFor();
      await page.reload();
      await page.locator('[data-col-head="param:optimizer"]').waitFor();
      for (const c of ['tag:mlflow.note.content', 'attr:user_id', 'tag:mlflow.source.git.commit', 'attr:duration', 'attr:status']) {
        assert.equal(await page.locator(`[data-col-head="${c}"]`).count(), 1, `${c} column shown`);
      }
      assert.equal(await page.locator('[data-col-head="tag:mlflow.source.name"]').count(), 0, 'removed column stays removed');
      // Sorting by the metric column orders runs by it (server-side order_by).
      await page.locator('[data-col-head="metric:val_accuracy"]').click();
      await page.waitForURL(/sort=metric/);
      await page.locator('.vrow').first().waitFor();
      await screenshot(page, '02-runs-table');
    });

    test('run page: overview, description edit, rename', async () => {
      const id = ids.baseline.run_id;
      await go(`/experiments/${ids.food}/runs/${id}`);
      await page.locator('[data-testid=run-name]', { hasText: 'baseline-resnet18' }).waitFor();
      // Opened by its URL (a fresh load), the page names its experiment once
      // the list arrives, even when the list comes after the run.
      const slowList = async (route) => { await new Promise((r) => setTimeout(r, 700)); await route.continue(); };
      await page.route('**/experiments/search**', slowList);
      await page.reload();
      await page.locator('[data-testid=run-name]', { hasText: 'baseline-resnet18' }).waitFor();
      await page.locator('.crumbs a', { hasText: 'food11-classifier' }).waitFor();
      await page.unroute('**/experiments/search**', slowList);
      await page.getByText('b71c0de2f3a4b5c6d7e8f90112233445566778899').waitFor();
      await page.locator('.markdown li', { hasText: '40 epochs' }).waitFor();
      await page.locator('button[data-action=edit-description]').click();
      await page.locator('.description textarea').fill('## Verdict\nShip it: **best** accuracy so far.');
      await page.locator('button[data-action=save-description]').click();
      await page.locator('.markdown strong', { hasText: 'best' }).waitFor();
      const run = (await api.get('runs/get', { run_id: id })).run;
      assert.equal(run.data.tags.find((t) => t.key === 'mlflow.note.content').value, '## Verdict\nShip it: **best** accuracy so far.');
      await screenshot(page, '03-run-overview');

      await page.locator('button[data-action=rename-run]').click();
      await page.locator('.modal input[name=value]').fill('baseline-resnet18-v2');
      await page.locator('.modal button[type=submit]').click();
      await page.locator('[data-testid=run-name]', { hasText: 'baseline-resnet18-v2' }).waitFor();
      assert.equal((await api.get('runs/get', { run_id: id })).run.info.run_name, 'baseline-resnet18-v2');
    });

    test('run page: model metrics and system metrics charts', async () => {
      const base = `/experiments/${ids.food}/runs/${ids.baseline.run_id}`;
      await go(`${base}/model-metrics`);
      for (const m of ['train_loss', 'val_loss', 'val_accuracy']) await page.locator(`.chart-card[data-metric="${m}"] canvas`).waitFor();
      assert.equal(await page.locator(`.chart-card[data-metric="val_accuracy"]`).getAttribute('data-points'), '40');
      await screenshot(page, '04-run-model-metrics');
      await go(`${base}/system-metrics`);
      for (const m of ['system/cpu_utilization_percentage', 'system/gpu_0_utilization_percentage', 'system/system_memory_usage_megabytes']) {
        await page.locator(`.chart-card[data-metric="${m}"] canvas`).waitFor();
      }
      assert.equal(await page.locator('.chart-card[data-metric="train_loss"]').count(), 0);
      await screenshot(page, '05-run-system-metrics');
    });

    test('artifacts: tree, previews, register model from a model folder', async () => {
      const base = `/experiments/${ids.food}/runs/${ids.baseline.run_id}/artifacts`;
      await go(base);
      await page.locator('.tree-item[data-path="notes.txt"]').click();
      await page.locator('pre.code', { hasText: 'Best epoch: 37' }).waitFor();
      await page.locator('.tree-item[data-path="eval"]').click();
      await page.locator('.tree-item[data-path="eval/confusion.csv"]').click();
      await page.locator('table.csv td', { hasText: 'dessert' }).waitFor();
      await page.locator('.tree-item[data-path="config.json"]').click();
      await page.locator('pre.code', { hasText: '"augment": false' }).waitFor();
      await page.locator('.tree-item[data-path="model"]').click();
      await page.locator('.tree-item[data-path="model/MLmodel"]').click();
      await page.locator('pre.code', { hasText: 'python_function' }).waitFor();
      const dl = await page.locator('a', { hasText: 'Download' }).getAttribute('href');
      const body = await (await fetch(new URL(dl, server.url + '/'))).text();
      assert.match(body, /pytorch_version/);
      await screenshot(page, '06-artifacts');

      await page.locator('.tree-item[data-path="model"]').click();
      await page.locator('button[data-action=register-model]').click();
      await page.locator('.modal input[name=model-name]').fill('food11-from-ui');
      await page.locator('.modal button[type=submit]').click();
      await page.waitForURL(/#\/models\/food11-from-ui\/versions\/1/);
      const mv = (await api.get('model-versions/get', { name: 'food11-from-ui', version: '1' })).model_version;
      assert.equal(mv.run_id, ids.baseline.run_id);
      assert.match(mv.source, /\/model$/);
      await page.locator('a', { hasText: 'baseline-resnet18-v2' }).waitFor();
      await screenshot(page, '07-model-version');
    });

    test('compare two runs from the table', async () => {
      await go(`/experiments/${ids.food}`);
      await page.locator(`.vrow[data-run-id="${ids.parent.run_id}"] .expander`).click();
      for (const c of ids.children.slice(0, 2)) await page.locator(`.vrow[data-run-id="${c.run_id}"] input[type=checkbox]`).check();
      await page.locator('button[data-action=compare]').click();
      await page.waitForURL(/#\/compare\?runs=/);
      await page.locator('h1', { hasText: 'Comparing 2 runs' }).waitFor();
      // lr differs between the trials, optimizer does not.
      await page.locator('.compare-table tr.differs[data-key=lr]').waitFor();
      assert.equal(await page.locator('.compare-table tr.differs[data-key=optimizer]').count(), 0);
      await page.locator('.chart-card[data-metric=val_accuracy]').scrollIntoViewIfNeeded();
      await page.locator('.chart-card[data-metric=val_accuracy][data-series="2"]').waitFor();
      await screenshot(page, '08-compare');
    });

    test('compare three runs: parallel coordinates, models and artifacts side by side', async () => {
      await go(`/compare?runs=${ids.children.map((c) => c.run_id).join(',')}&exp=${ids.food}`);
      await page.locator('h1', { hasText: 'Comparing 3 runs' }).waitFor();
      // Parallel coordinates: one line per run over the differing params (lr, batch_size, optimizer) and a metric.
      const pc = page.locator('svg.parcoords');
      await pc.waitFor();
      assert.equal(await pc.getAttribute('data-lines'), '3');
      assert.equal(await pc.getAttribute('data-axes'), '4');
      assert.equal(await page.locator('svg.parcoords g.pc-line').count(), 3);
      await page.locator('select[name=pc-metric]').selectOption('val_accuracy');
      await page.locator('.chip', { hasText: 'epochs' }).click();
      assert.equal(await pc.getAttribute('data-axes'), '5');
      await pc.scrollIntoViewIfNeeded();
      await screenshot(page, '13-compare-parallel-coordinates');
      // Models side by side: trial 3 logged one.
      await page.locator('[data-testid=compare-models] a', { hasText: 'food11-adam' }).waitFor();
      // Artifacts side by side: config.json differs between the trials; open it for all three.
      const row = page.locator('[data-testid=compare-artifacts] tr.differs[data-path="config.json"]');
      await row.waitFor();
      await row.locator('button[data-action=preview-side-by-side]').click();
      for (const lr of ['0.01', '0.05', '0.001']) await page.locator('.side-by-side pre.code', { hasText: `"lr": ${lr}` }).waitFor();
      await page.locator('.side-by-side').scrollIntoViewIfNeeded();
      await screenshot(page, '14-compare-artifacts');
    });

    test('register a logged model as a new version of an existing model', async () => {
      const run = ids.children[2];
      await go(`/experiments/${ids.food}/runs/${run.run_id}`);
      await page.locator('button[data-action=register-logged-model]').click();
      await page.locator('.modal input[name=mode][value=existing]').check();
      await page.locator('.modal select[name=existing-model]').selectOption('food11-resnet');
      await page.locator('.modal button[type=submit]').click();
      await page.waitForURL(/#\/models\/food11-resnet\/versions\/2/);
      const mv = (await api.get('model-versions/get', { name: 'food11-resnet', version: '2' })).model_version;
      assert.equal(mv.source, `models:/${ids.loggedModel.info.model_id}`);
      assert.equal(mv.run_id, run.run_id);
      await page.getByText('sweep-trial-3').waitFor();
    });

    test('chart zoom fetches the full detail of the range', async () => {
      await go(`/experiments/${ids.tab}/runs/${ids.long.run_id}/model-metrics`);
      const card = page.locator('.chart-card[data-metric=loss]');
      await card.locator('canvas').waitFor();
      assert.equal(await card.getAttribute('data-total'), '20000');
      const overview = Number(await card.getAttribute('data-points'));
      assert.ok(overview <= 8000, `overview thinned, got ${overview} points`);
      const box = await card.locator('.u-over').boundingBox();
      await page.mouse.move(box.x + box.width * 0.6, box.y + 20);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.65, box.y + 20, { steps: 5 });
      await page.mouse.up();
      await page.locator('.chart-card[data-metric=loss][data-zoomed="1"][data-detail=ready]').waitFor();
      const [a, b] = (await card.getAttribute('data-range')).split(',').map(Number);
      const inRange = Math.floor(b) - Math.ceil(a) + 1;
      const shown = Number(await card.getAttribute('data-points'));
      // Every step of the range is drawn (plus one neighbour each side).
      assert.ok(Math.abs(shown - inRange) <= 2, `zoomed to ${a}..${b}: ${shown} points drawn, ${inRange} in range`);
      await screenshot(page, '15-chart-zoomed');
      await card.locator('button[data-action=reset-zoom]').click();
      await page.locator('.chart-card[data-metric=loss]:not([data-zoomed])').waitFor();
    });

    test('chart view: hide a run with the eye toggle', async () => {
      await go(`/experiments/${ids.food}/chart`);
      const card = page.locator('.chart-card[data-metric=val_accuracy]');
      await card.locator('canvas').waitFor();
      const before = Number(await card.getAttribute('data-series'));
      assert.ok(before >= 2, `expected several runs charted, got ${before}`);
      await page.locator(`.chart-runs li[data-run-id="${ids.baseline.run_id}"] button[data-action=toggle-run]`).click();
      await page.waitForFunction((n) => Number(document.querySelector('.chart-card[data-metric=val_accuracy]')?.getAttribute('data-series')) === n - 1, before);
      await page.locator('select[name=x-axis]').selectOption('relative');
      await page.locator('input[name=log-scale]').check();
      await page.waitForURL(/x=relative/);
      await card.locator('canvas').waitFor();
      await screenshot(page, '09-chart-view');
    });

    test('models: list, model page, set and remove an alias', async () => {
      await go('/models');
      await page.getByRole('link', { name: 'food11-resnet' }).click();
      await page.locator('tr[data-version="1"]').waitFor();
      await page.locator('tr[data-version="1"] button[data-action=add-alias]').click();
      await page.locator('.modal input[name=value]').fill('champion');
      await page.locator('.modal button[type=submit]').click();
      await page.locator('tr[data-version="1"] .alias[data-alias=champion]').waitFor();
      const rm = (await api.get('registered-models/get', { name: 'food11-resnet' })).registered_model;
      assert.deepEqual(rm.aliases, [{ alias: 'champion', version: '1' }]);
      await screenshot(page, '10-model');
      await page.locator('tr[data-version="1"] select[aria-label=Stage]').selectOption('Staging');
      // A stage change asks first (MLflow's dialog, with its "archive existing versions" option).
      await page.locator('.modal', { hasText: 'from None to Staging' }).waitFor();
      assert.equal((await api.get('model-versions/get', { name: 'food11-resnet', version: '1' })).model_version.current_stage, 'None');
      await page.locator('.modal').getByRole('button', { name: 'Transition' }).click();
      for (let i = 0; ; i++) {
        const v = (await api.get('model-versions/get', { name: 'food11-resnet', version: '1' })).model_version;
        if (v.current_stage === 'Staging') break;
        assert.ok(i < 50, 'stage change did not reach the server');
        await new Promise((r) => setTimeout(r, 100));
      }
      await go('/models');
      await page.getByRole('link', { name: 'food11-resnet' }).waitFor();
      await screenshot(page, '11-models');
    });

    test('live: a running run shows new metrics without a refresh', async () => {
      const id = ids.live.run_id;
      await go(`/experiments/${ids.food}/runs/${id}/model-metrics`);
      const card = page.locator('.chart-card[data-metric=train_loss]');
      await card.locator('canvas').waitFor();
      assert.equal(await card.getAttribute('data-points'), '5');
      const t0 = Date.now();
      await api.post('runs/log-batch', { run_id: id, metrics: [{ key: 'train_loss', value: 0.5, timestamp: Date.now(), step: 5 }] });
      await page.waitForFunction(() => document.querySelector('.chart-card[data-metric=train_loss]')?.getAttribute('data-points') === '6');
      console.log(`# live: new metric point visible after ${Date.now() - t0} ms`);
      await screenshot(page, '12-live-run');
    });

    test('auth off: no user menu, no sign-in; the account pages say auth is off', async () => {
      await go('/experiments');
      await page.getByRole('link', { name: 'food11-classifier' }).first().waitFor();
      assert.equal(await page.locator('.user-menu').count(), 0);
      assert.ok(!page.url().includes('/signin'));
      await go(`/experiments/${ids.food}`);
      await page.locator('.vrow', { hasText: 'baseline-resnet18' }).first().waitFor();
      assert.equal(await page.locator('.tabs a', { hasText: 'Permissions' }).count(), 0);
      for (const h of ['/tokens', '/users']) {
        await go(h);
        await page.locator('.empty', { hasText: 'Authentication is off' }).waitFor();
      }
    });

    test('no uncaught page errors', () => {
      assert.deepEqual(consoleErrors, []);
    });
  });
}
