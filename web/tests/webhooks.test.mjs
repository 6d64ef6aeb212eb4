// Browser test of the Webhooks page: create a webhook with the event
// picker, test it (the receiver's answer is shown), see a delivery in the
// log, disable it, delete it; a real local receiver checks what arrives.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { apiClient, chromiumAvailable, launchBrowser, screenshot, startServer } from './harness.mjs';

const missing = !chromiumAvailable() ? 'Chromium (/usr/bin/chromium)' : null;

function startReceiver() {
  const got = [];
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('thanks');
    });
  });
  return new Promise((r) => srv.listen(0, '127.0.0.1', () => r({ url: `http://127.0.0.1:${srv.address().port}/hook`, got, close: () => srv.close() })));
}

const verifies = (h, body, secret) =>
  h['x-mlflow-signature'] === 'v1,' + createHmac('sha256', secret).update(`${h['x-mlflow-delivery-id']}.${h['x-mlflow-timestamp']}.${body}`).digest('base64');

async function until(fn, ms = 15000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

if (missing && process.env.CI === 'true') {
  test('browser tests need their tools', () => {
    assert.fail(`${missing} is missing; run scripts/install-browser-deps.sh`);
  });
} else {
  describe('webhooks page', { skip: missing ? `${missing} is missing` : false }, () => {
    let server, browser, page, api, rc;
    const errors = [];
    before(async () => {
      rc = await startReceiver();
      server = await startServer({ env: {
        MLFLOW_WEBHOOK_ALLOWED_SCHEMES: 'http', MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS: 'true',
        MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY: 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=',
      } });
      api = apiClient(server.url);
      browser = await launchBrowser();
      page = await browser.context.newPage();
      page.setDefaultTimeout(15000);
      page.on('pageerror', (e) => errors.push(String(e)));
    });
    after(async () => {
      await browser?.close();
      await server?.stop();
      rc?.close();
    });

    test('create, test, deliveries, disable, delete', async () => {
      await page.goto(`${server.url}/#/webhooks`);
      await page.locator('nav a.active', { hasText: 'Webhooks' }).waitFor();
      await page.getByText('No webhooks yet.').waitFor();
      await page.locator('input[name=webhook-name]').fill('deploy');
      await page.locator('input[name=webhook-url]').fill(rc.url);
      await page.locator('input[name=webhook-secret]').fill('s3cret');
      await page.locator('input[name="event-registered_model.created"]').check();
      await page.locator('input[name="event-model_version_alias.created"]').check();
      await page.locator('input[name="event-model_version.created"]').uncheck();
      await page.locator('button[data-action=create-webhook]').click();
      const row = page.locator('tr[data-webhook=deploy]');
      await row.waitFor();
      const { webhooks } = await api.get('webhooks');
      assert.equal(webhooks.length, 1);
      const w = webhooks[0];
      assert.equal(w.status, 'ACTIVE');
      assert.deepEqual(w.events.map((e) => `${e.entity}.${e.action}`).sort(), ['MODEL_VERSION_ALIAS.CREATED', 'REGISTERED_MODEL.CREATED']);
      assert.ok(!JSON.stringify(webhooks).includes('s3cret'), 'the secret is never answered');

      // Test: the receiver's status and body are shown; the request is signed.
      await row.locator('button[data-action=test]').click();
      const answer = row.locator('[data-test-answer]');
      await answer.waitFor();
      assert.match(await answer.innerText(), /200[\s\S]*received[\s\S]*thanks/);
      assert.equal(rc.got.length, 1);
      assert.ok(verifies(rc.got[0].headers, rc.got[0].body, 's3cret'), 'test delivery signature verifies');
      assert.match(rc.got[0].body, /"entity": "(model_version_alias|registered_model)", "action": "created"/);

      // An event, then its line in the delivery log.
      await api.post('registered-models/create', { name: 'ui-model' });
      await until(() => rc.got.length === 2);
      assert.ok(verifies(rc.got[1].headers, rc.got[1].body, 's3cret'));
      assert.match(rc.got[1].body, /"data": \{"name": "ui-model", "tags": \{\}, "description": ""\}/);
      await row.locator('a', { hasText: 'deploy' }).click();
      const log = page.locator('[data-delivery-log]');
      await log.locator('tr[data-delivery-status=DELIVERED]').waitFor();
      assert.match(await log.innerText(), /registered_model\.created/);
      await screenshot(page, '20-webhooks');

      // Disable: no more deliveries.
      await row.locator('button[data-action=toggle]', { hasText: 'Disable' }).click();
      await row.locator('button[data-action=toggle]', { hasText: 'Enable' }).waitFor();
      assert.equal((await api.get(`webhooks/${w.webhook_id}`)).webhook.status, 'DISABLED');
      await api.post('registered-models/create', { name: 'quiet-model' });
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(rc.got.length, 2, 'a disabled webhook gets no events');

      // Delete.
      await row.locator('button[data-action=delete]').click();
      await page.locator('.modal button', { hasText: 'Delete' }).click();
      await page.getByText('No webhooks yet.').waitFor();
      assert.equal((await api.get('webhooks')).webhooks, undefined);
      assert.deepEqual(errors, []);
    });
  });
}
