// Browser tests of the UI with auth on: a real mltrack started with
// --app-name basic-auth on a fresh auth database, the admin from the
// environment, every user in their own browser context (own cookies).
// A new user's day: the admin signs in through /signin and creates two
// users; A makes a token in the UI and logs a run with it over the REST API;
// B cannot see A's experiment until A grants READ in the permissions panel;
// then B can read but not edit until A grants EDIT.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { apiClient, chromiumAvailable, launchBrowserContexts, screenshot, startServer } from './harness.mjs';

const missing = !chromiumAvailable() ? 'Chromium (/usr/bin/chromium)' : null;
const ADMIN = 'admin';
const ADMIN_PW = 'adm-' + randomBytes(12).toString('hex');
const A = { username: 'alice', password: 'alice-password-1' };
const B = { username: 'bob', password: 'bob-password-123' };
const NOTE = 'mlflow.note.content';

if (missing && process.env.CI === 'true') {
  test('auth browser tests need their tools', () => {
    assert.fail(`${missing} is missing; run scripts/install-browser-deps.sh`);
  });
} else {
  describe('web UI with auth on', { skip: missing ? `${missing} is missing; run scripts/install-browser-deps.sh (CI=true turns this into a failure)` : false }, () => {
    let server, browser, admin, pageA, pageB, pageAdmin, tokenA, expId, runId;
    const errors = [];

    before(async () => {
      server = await startServer({
        args: ['--app-name', 'basic-auth', '--auth-database-uri', 'sqlite:///{dir}/basic_auth.db', '--auth-default-permission', 'NO_PERMISSIONS'],
        env: { MLFLOW_AUTH_ADMIN_USERNAME: ADMIN, MLFLOW_AUTH_ADMIN_PASSWORD: ADMIN_PW },
      });
      admin = apiClient(server.url, { username: ADMIN, password: ADMIN_PW });
      browser = await launchBrowserContexts();
      const open = async () => {
        const ctx = await browser.newContext();
        const page = await ctx.newPage();
        page.setDefaultTimeout(15000);
        page.on('pageerror', (e) => errors.push(String(e)));
        return page;
      };
      [pageAdmin, pageA, pageB] = [await open(), await open(), await open()];
    });

    after(async () => {
      await browser?.close();
      await server?.stop();
    });

    /** signIn goes through the server's /signin form, as a person would, and lands in the app. */
    async function signIn(page, user, password, hash = '/experiments') {
      await page.goto(`${server.url}/#${hash}`);
      await page.waitForURL(/\/signin\?next=/);
      await page.locator('#username').fill(user);
      await page.locator('#password').fill(password);
      await page.locator('button[type=submit]').click();
      await page.locator('[data-whoami]', { hasText: user }).waitFor();
    }

    const go = (page, hash) => page.goto(`${server.url}/#${hash}`);

    test('anonymous: the UI and the API send you to sign in; a wrong password is refused', async () => {
      const r = await fetch(`${server.url}/ajax-api/2.0/mlflow/experiments/search`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'XMLHttpRequest' }, body: '{}' });
      assert.equal(r.status, 401);
      assert.equal(r.headers.get('www-authenticate'), null, 'no Basic challenge for UI code');

      await pageAdmin.goto(`${server.url}/#/users`);
      await pageAdmin.waitForURL(/\/signin\?next=/);
      await pageAdmin.locator('#username').fill(ADMIN);
      await pageAdmin.locator('#password').fill('not-the-password');
      await pageAdmin.locator('button[type=submit]').click();
      await pageAdmin.locator('.error', { hasText: 'Invalid username or password' }).waitFor();
      await screenshot(pageAdmin, '20-signin');
    });

    test('admin signs in and creates two users on the users page', async () => {
      await signIn(pageAdmin, ADMIN, ADMIN_PW, '/users');
      await go(pageAdmin, '/users');
      await pageAdmin.locator('tr[data-user=admin]').waitFor();
      for (const u of [A, B]) {
        await pageAdmin.locator('input[name=new-username]').fill(u.username);
        await pageAdmin.locator('input[name=new-password]').fill(u.password);
        await pageAdmin.locator('button[data-action=create-user]').click();
        await pageAdmin.locator(`tr[data-user=${u.username}]`).waitFor();
      }
      // A too-short password is refused with the server's message.
      await pageAdmin.locator('input[name=new-username]').fill('carol');
      await pageAdmin.locator('input[name=new-password]').fill('short-pw-12');
      assert.ok(await pageAdmin.locator('button[data-action=create-user]').isDisabled());
      await pageAdmin.locator('input[name=new-password]').fill('carol-password-1');
      await pageAdmin.locator('input[name=new-admin]').check();
      await pageAdmin.locator('button[data-action=create-user]').click();
      await pageAdmin.locator('tr[data-user=carol]').waitFor();
      const users = (await admin.get('/api/2.0/mltrack/users/list')).users;
      assert.deepEqual(users.map((u) => u.username).sort(), ['admin', 'alice', 'bob', 'carol']);
      assert.equal(users.find((u) => u.username === 'carol').is_admin, true);
      assert.equal(users.find((u) => u.username === 'alice').is_admin, false);
      await screenshot(pageAdmin, '21-users');

      // Set admin, change password, delete: on carol.
      await pageAdmin.locator('tr[data-user=carol] input[type=checkbox]').uncheck();
      await waitFor(async () => (await admin.get('users/get', { username: 'carol' })).user.is_admin === false);
      await pageAdmin.locator('tr[data-user=carol] button[data-action=set-password]').click();
      await pageAdmin.locator('.modal input[name=new-password]').fill('carol-new-password');
      await pageAdmin.locator('.modal input[name=repeat-password]').fill('carol-new-password');
      await pageAdmin.locator('.modal button[type=submit]').click();
      await pageAdmin.locator('.modal').waitFor({ state: 'detached' });
      const carol = apiClient(server.url, { username: 'carol', password: 'carol-new-password' });
      assert.equal((await carol.get('users/get', { username: 'carol' })).user.username, 'carol');
      await pageAdmin.locator('tr[data-user=carol] button[data-action=delete-user]').click();
      await pageAdmin.locator('.modal').getByRole('button', { name: 'Delete' }).click();
      await pageAdmin.locator('tr[data-user=carol]').waitFor({ state: 'detached' });
      await assert.rejects(admin.get('users/get', { username: 'carol' }), (e) => e.status === 404);
    });

    test('A creates a token on the tokens page, shown once with a copy button, and revokes another', async () => {
      await pageA.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
      await signIn(pageA, A.username, A.password);
      // The user menu leads to the tokens page; no Users entry for a non-admin.
      await pageA.locator('button[data-action=user-menu]').click();
      assert.equal(await pageA.locator('.menu a', { hasText: 'Users' }).count(), 0);
      await pageA.locator('.menu a', { hasText: 'Access tokens' }).click();
      await pageA.waitForURL(/#\/tokens$/);
      await pageA.locator('.tokens-table').waitFor();

      await pageA.locator('input[name=token-name]').fill('laptop');
      await pageA.locator('button[data-action=create-token]').click();
      const shown = pageA.locator('[data-new-token] input.token-value');
      await shown.waitFor();
      tokenA = await shown.inputValue();
      assert.match(tokenA, /^mlt_[0-9a-f]{64}$/);
      await pageA.locator('button[data-action=copy-token]').click();
      await pageA.locator('button[data-action=copy-token]', { hasText: 'Copied' }).waitFor();
      assert.equal(await pageA.evaluate(() => navigator.clipboard.readText()), tokenA);
      await pageA.locator('tr[data-token=laptop]').waitFor();
      await screenshot(pageA, '22-tokens');

      // A second token, revoked from the list, stops working.
      await pageA.locator('input[name=token-name]').fill('old-ci');
      await pageA.locator('button[data-action=create-token]').click();
      await pageA.waitForFunction((t) => document.querySelector('[data-new-token] input')?.value !== t, tokenA);
      const old = await shown.inputValue();
      const oldClient = apiClient(server.url, { token: old });
      await oldClient.get('/api/2.0/mltrack/auth/whoami');
      await pageA.locator('tr[data-token=old-ci] button[data-action=revoke-token]').click();
      await pageA.locator('.modal').getByRole('button', { name: 'Revoke' }).click();
      await pageA.locator('tr[data-token=old-ci]').waitFor({ state: 'detached' });
      await assert.rejects(oldClient.get('/api/2.0/mltrack/auth/whoami'), (e) => e.status === 401);

      // Once gone from the screen, the token is never shown again.
      await pageA.reload();
      await pageA.locator('tr[data-token=laptop]').waitFor();
      assert.equal(await pageA.locator('[data-new-token]').count(), 0);
      assert.ok(!(await pageA.content()).includes(tokenA));
    });

    test('A logs a run with the token over the REST API (Bearer)', async () => {
      const api = apiClient(server.url, { token: tokenA });
      expId = (await api.post('experiments/create', { name: 'alice-private' })).experiment_id;
      const run = (await api.post('runs/create', { experiment_id: expId, run_name: 'alice-run-1', start_time: Date.now() })).run.info;
      runId = run.run_id;
      await api.post('runs/log-batch', {
        run_id: runId,
        params: [{ key: 'lr', value: '0.01' }],
        metrics: [0, 1, 2].map((step) => ({ key: 'loss', value: 1 / (step + 1), timestamp: Date.now(), step })),
        tags: [{ key: NOTE, value: 'Written by alice.' }],
      });
      await api.post('runs/update', { run_id: runId, status: 'FINISHED', end_time: Date.now() });
      await api.post('registered-models/create', { name: 'alice-model' });
      // The token's last use shows on A's tokens page.
      await pageA.reload();
      await pageA.locator('tr[data-token=laptop] td:nth-child(4)', { hasText: 'ago' }).waitFor();
    });

    test('the admin sees and manages A\'s tokens from the users page', async () => {
      await go(pageAdmin, '/users');
      await pageAdmin.locator(`tr[data-user=${A.username}] a`, { hasText: 'Tokens' }).click();
      await pageAdmin.waitForURL(/#\/tokens\?user=alice$/);
      await pageAdmin.locator('h1', { hasText: 'Access tokens of alice' }).waitFor();
      await pageAdmin.locator('tr[data-token=laptop]').waitFor();
      assert.equal(await pageAdmin.locator('tr[data-token=old-ci]').count(), 0);
      await pageAdmin.locator('input[name=token-name]').fill('made-by-admin');
      await pageAdmin.locator('button[data-action=create-token]').click();
      await pageAdmin.locator('tr[data-token=made-by-admin]').waitFor();
      const t = await pageAdmin.locator('[data-new-token] input.token-value').inputValue();
      assert.equal((await apiClient(server.url, { token: t }).get('/api/2.0/mltrack/auth/whoami')).user.username, A.username);
      await pageAdmin.locator('tr[data-token=made-by-admin] button[data-action=revoke-token]').click();
      await pageAdmin.locator('.modal').getByRole('button', { name: 'Revoke' }).click();
      await pageAdmin.locator('tr[data-token=made-by-admin]').waitFor({ state: 'detached' });
    });

    test('B signs in and cannot see A\'s experiment', async () => {
      await signIn(pageB, B.username, B.password);
      await pageB.locator('h1', { hasText: 'Experiments' }).waitFor();
      await pageB.waitForFunction(() => !document.querySelector('.spinner'));
      assert.equal(await pageB.getByRole('link', { name: 'alice-private' }).count(), 0);
      // The shared link answers plainly.
      await go(pageB, `/experiments/${expId}`);
      await pageB.locator('.error-box.denied', { hasText: 'Permission denied' }).first().waitFor();
      await go(pageB, `/experiments/${expId}/runs/${runId}`);
      await pageB.locator('.error-box.denied', { hasText: 'Permission denied' }).first().waitFor();
      // Users and the permissions tab are not B's.
      await go(pageB, '/users');
      await pageB.locator('.error-box', { hasText: 'Only admins can manage users' }).waitFor();
    });

    test('A grants B READ in the permissions panel; B reads but cannot edit the description', async () => {
      await go(pageA, `/experiments/${expId}`);
      await pageA.locator('.tabs a', { hasText: 'Permissions' }).click();
      await pageA.waitForURL(new RegExp(`#/experiments/${expId}/permissions`));
      await pageA.locator(`tr[data-grant=${A.username}]`).waitFor();
      assert.equal(await pageA.locator(`tr[data-grant=${A.username}] select`).inputValue(), 'MANAGE');
      await pageA.locator('input[name=grant-user]').fill(B.username);
      await pageA.locator('select[name=grant-level]').selectOption('READ');
      await pageA.locator('button[data-action=grant]').click();
      await pageA.locator(`tr[data-grant=${B.username}]`).waitFor();
      assert.equal(await pageA.locator(`tr[data-grant=${B.username}] select`).inputValue(), 'READ');
      await screenshot(pageA, '23-permissions');
      assert.equal((await admin.get('experiments/permissions/get', { experiment_id: expId, username: B.username })).experiment_permission.permission, 'READ');

      await go(pageB, '/experiments');
      await pageB.getByRole('link', { name: 'alice-private' }).first().waitFor();
      await go(pageB, `/experiments/${expId}`);
      await pageB.locator('.vrow', { hasText: 'alice-run-1' }).waitFor();
      // READ does not manage: no Permissions tab.
      assert.equal(await pageB.locator('.tabs a', { hasText: 'Permissions' }).count(), 0);
      await pageB.locator('.vrow a', { hasText: 'alice-run-1' }).click();
      await pageB.locator('.markdown', { hasText: 'Written by alice.' }).waitFor();
      await pageB.locator('button[data-action=edit-description]').click();
      await pageB.locator('.description textarea').fill('Bob was here.');
      await pageB.locator('button[data-action=save-description]').click();
      const denied = pageB.locator('.description .error-box.denied');
      await denied.waitFor();
      assert.match(await denied.innerText(), /Permission denied\. Your account may not do this here/);
      await screenshot(pageB, '24-permission-denied');
      const run = (await admin.get('runs/get', { run_id: runId })).run;
      assert.equal(run.data.tags.find((t) => t.key === NOTE).value, 'Written by alice.');
    });

    test('A grants EDIT; B edits the description', async () => {
      await pageA.locator(`tr[data-grant=${B.username}] select`).selectOption('EDIT');
      await pageA.locator('.ok-box', { hasText: `${B.username} now has EDIT` }).waitFor();
      assert.equal((await admin.get('experiments/permissions/get', { experiment_id: expId, username: B.username })).experiment_permission.permission, 'EDIT');
      // The panel remembers B for A after a reload (A is no admin and cannot list users).
      await pageA.reload();
      await pageA.locator(`tr[data-grant=${B.username}] select`).waitFor();
      assert.equal(await pageA.locator(`tr[data-grant=${B.username}] select`).inputValue(), 'EDIT');

      await pageB.locator('button[data-action=save-description]').click();
      await pageB.locator('.markdown', { hasText: 'Bob was here.' }).waitFor();
      const run = (await admin.get('runs/get', { run_id: runId })).run;
      assert.equal(run.data.tags.find((t) => t.key === NOTE).value, 'Bob was here.');
    });

    test('registered model permissions: the admin lists every grant and grants B READ', async () => {
      await go(pageAdmin, '/models/alice-model');
      await pageAdmin.locator('a[data-action=model-permissions]').click();
      await pageAdmin.waitForURL(/#\/models\/alice-model\/permissions/);
      await pageAdmin.locator(`tr[data-grant=${A.username}]`).waitFor();
      assert.equal(await pageAdmin.locator(`tr[data-grant=${A.username}] select`).inputValue(), 'MANAGE');
      await pageAdmin.locator('input[name=grant-user]').fill(B.username);
      await pageAdmin.locator('button[data-action=grant]').click();
      await pageAdmin.locator(`tr[data-grant=${B.username}]`).waitFor();
      assert.equal((await admin.get('registered-models/permissions/get', { name: 'alice-model', username: B.username })).registered_model_permission.permission, 'READ');
      // Granting twice says so.
      await pageAdmin.locator('input[name=grant-user]').fill(B.username);
      await pageAdmin.locator('button[data-action=grant]').click();
      await pageAdmin.locator('.perms .error-box', { hasText: 'already exists' }).waitFor();
      // Remove it again.
      await pageAdmin.locator(`tr[data-grant=${B.username}] button[data-action=remove-grant]`).click();
      await pageAdmin.locator('.modal').getByRole('button', { name: 'Remove' }).click();
      await pageAdmin.locator(`tr[data-grant=${B.username}]`).waitFor({ state: 'detached' });
      await assert.rejects(admin.get('registered-models/permissions/get', { name: 'alice-model', username: B.username }), (e) => e.status === 404);
      // B, without a grant, gets a plain refusal on the model page.
      await go(pageB, '/models/alice-model');
      await pageB.locator('.error-box.denied').waitFor();
    });

    test('a session that ends sends the page to sign in, and back to where it was', async () => {
      // The admin changes B's password: B's sessions end.
      await go(pageAdmin, '/users');
      await pageAdmin.locator(`tr[data-user=${B.username}] button[data-action=set-password]`).click();
      await pageAdmin.locator('.modal input[name=new-password]').fill('bob-new-password');
      await pageAdmin.locator('.modal input[name=repeat-password]').fill('bob-new-password');
      await pageAdmin.locator('.modal button[type=submit]').click();
      await pageAdmin.locator('.modal').waitFor({ state: 'detached' });

      // B's next API call answers 401: the page goes to /signin?next=<where B was>.
      await pageB.evaluate(() => { location.hash = '#/models'; });
      await pageB.waitForURL(/\/signin\?next=/);
      const next = new URL(pageB.url()).searchParams.get('next');
      assert.equal(next, '/#/models');
      await pageB.locator('#username').fill(B.username);
      await pageB.locator('#password').fill('bob-new-password');
      await pageB.locator('button[type=submit]').click();
      await pageB.waitForURL(/#\/models$/);
      await pageB.locator('h1', { hasText: 'Registered models' }).waitFor();
      await pageB.locator('[data-whoami]', { hasText: B.username }).waitFor();

      // Signing out from the menu ends the session.
      await pageB.locator('button[data-action=user-menu]').click();
      await pageB.locator('button[data-action=sign-out]').click();
      await pageB.waitForURL(/\/signin/);
      const cookies = await pageB.context().cookies();
      assert.ok(!cookies.some((c) => c.name === 'mltrack_session' && c.value));
      await go(pageB, '/experiments');
      await pageB.waitForURL(/\/signin\?next=/);
    });

    test('writes without the CSRF header are refused', async () => {
      // Cookie-authenticated writes need X-CSRF-Token: the UI sends it (every
      // write above succeeded); a request without it is refused.
      const status = await pageA.evaluate(async () => {
        const r = await fetch('ajax-api/2.0/mlflow/experiments/create', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'no-csrf' }) });
        return r.status;
      });
      assert.equal(status, 403);
    });

    test('no uncaught page errors', () => {
      assert.deepEqual(errors, []);
    });

    async function waitFor(cond, ms = 5000) {
      const end = Date.now() + ms;
      while (!(await cond())) {
        if (Date.now() > end) throw new Error('condition not met in time');
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });
}
