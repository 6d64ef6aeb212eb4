import { useState } from 'preact/hooks';
import { createToken, createUser, deleteUser, listTokens, listUsers, revokeToken, updateAdmin, updatePassword } from './api';
import type { TokenInfo } from './api';
import { ApiError } from '../lib/api';
import { href, setQuery } from '../lib/router';
import { fmtAgo, fmtTime } from '../lib/format';
import { signOut, useSession } from './session';
import { ConfirmModal, ErrorBox, Modal, Spinner, useAsync } from '../ui/widgets';

function AuthOff() {
  return (
    <div class="page">
      <div class="empty">Authentication is off on this server, so there are no users or tokens. Start mltrack with <code>--app-name basic-auth</code> to turn it on.</div>
    </div>
  );
}

function when(ms?: number) {
  return ms ? <span title={fmtTime(ms)}>{fmtAgo(ms)}</span> : <span class="muted">never</span>;
}

function until(ms?: number) {
  if (!ms) return <span class="muted">never</span>;
  const expired = ms < Date.now();
  return <span title={fmtTime(ms)} class={expired ? 'danger-text' : ''}>{expired ? 'expired ' : ''}{new Date(ms).toISOString().slice(0, 10)}</span>;
}

/** copyText copies to the clipboard, falling back to selecting the text where the Clipboard API is unavailable (plain HTTP). */
async function copyText(text: string, input?: HTMLInputElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (!input) return false;
    input.select();
    return document.execCommand('copy');
  }
}

function NewToken({ token, onClose }: { token: string; onClose: () => void }) {
  const [copied, setCopied] = useState<boolean | null>(null);
  let input: HTMLInputElement | null = null;
  return (
    <div class="card new-token" data-new-token>
      <div class="card-head"><h3>Your new token</h3></div>
      <p>Copy it now: <b>it will not be shown again.</b> Use it as <code>MLFLOW_TRACKING_TOKEN</code> (sent as <code>Authorization: Bearer …</code>).</p>
      <div class="inline-form">
        <input class="mono token-value" readOnly value={token} ref={(el) => { input = el; }} onFocus={(e) => (e.target as HTMLInputElement).select()} aria-label="New token" />
        <button class="btn small primary" data-action="copy-token" onClick={async () => setCopied(await copyText(token, input))}>{copied ? 'Copied' : 'Copy'}</button>
        <button class="btn small" onClick={onClose}>Done</button>
      </div>
      {copied === false ? <div class="muted small">Copying is blocked here; the token is selected, press Ctrl+C.</div> : null}
      <pre class="mono small">export MLFLOW_TRACKING_TOKEN={token}</pre>
    </div>
  );
}

function PasswordModal({ username, self, onClose }: { username: string; self: boolean; onClose: () => void }) {
  const [pw, setPw] = useState('');
  const [pw2, setPw2] = useState('');
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const mismatch = pw2 !== '' && pw !== pw2;
  return (
    <Modal title={`Change ${self ? 'your' : username + "'s"} password`} onClose={onClose}>
      <form onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setErr(null);
        try {
          await updatePassword(username, pw);
          // A new password ends the user's sessions, this one included when it is ours.
          if (self) location.assign('signin');
          else onClose();
        } catch (x) {
          setErr(x);
        } finally {
          setBusy(false);
        }
      }}>
        <label class="field"><span>New password (at least 12 characters)</span>
          <input type="password" name="new-password" autocomplete="new-password" value={pw} onInput={(e) => setPw((e.target as HTMLInputElement).value)} />
        </label>
        <label class="field"><span>Repeat it</span>
          <input type="password" name="repeat-password" autocomplete="new-password" value={pw2} onInput={(e) => setPw2((e.target as HTMLInputElement).value)} />
        </label>
        {mismatch ? <div class="error-box">The passwords differ.</div> : null}
        {self ? <div class="muted small">You will be signed out and asked to sign in with the new password.</div> : null}
        <ErrorBox error={err} />
        <div class="modal-actions">
          <button type="button" class="btn" onClick={onClose}>Cancel</button>
          <button type="submit" class="btn primary" disabled={busy || pw.length < 12 || pw !== pw2}>Change password</button>
        </div>
      </form>
    </Modal>
  );
}

/** TokensPage is #/tokens: the signed-in user's access tokens (admins: #/tokens?user=name for anyone's). */
export function TokensPage({ query }: { query: URLSearchParams }) {
  const s = useSession();
  const asked = query.get('user') || '';
  const me = s?.me;
  const user = asked || me?.username || '';
  const self = !!me && user === me.username;
  const tokens = useAsync(() => (me ? listTokens(self ? undefined : user) : Promise.resolve([] as TokenInfo[])), [user, me?.username]);
  const [name, setName] = useState('');
  const [days, setDays] = useState('90');
  const [err, setErr] = useState<unknown>(null);
  const [fresh, setFresh] = useState<string | null>(null);
  const [revoking, setRevoking] = useState<TokenInfo | null>(null);
  const [pwModal, setPwModal] = useState(false);
  if (s && !s.on) return <AuthOff />;
  if (!me) return <div class="page"><Spinner /></div>;
  return (
    <div class="page account-page">
      {!self ? <div class="crumbs"><a href={href(['users'])}>Users</a> <span>›</span></div> : null}
      <div class="page-head">
        <h1>{self ? 'Access tokens' : `Access tokens of ${user}`}</h1>
        <div class="spacer" />
        <button class="btn small" data-action="change-password" onClick={() => setPwModal(true)}>Change {self ? 'my' : 'their'} password</button>
        {self ? <button class="btn small" onClick={() => signOut()}>Sign out</button> : null}
      </div>
      <p class="muted">
        Tokens let scripts and the mlflow client act as {self ? 'you' : user} with {self ? 'your' : 'their'} full permissions: set <code>MLFLOW_TRACKING_TOKEN</code>.
        Revoke a token as soon as it is no longer needed or may have leaked.
      </p>
      {fresh ? <NewToken token={fresh} onClose={() => setFresh(null)} /> : null}
      <section class="card">
        <div class="card-head"><h3>Create a token</h3></div>
        <form class="inline-form" onSubmit={async (e) => {
          e.preventDefault();
          setErr(null);
          try {
            const r = await createToken(name.trim(), days ? Number(days) : undefined, self ? undefined : user);
            setFresh(r.token);
            setName('');
            await tokens.reload();
          } catch (x) {
            setErr(x);
          }
        }}>
          <input name="token-name" placeholder="Name, e.g. laptop or ci" value={name} maxLength={255} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
          <select name="token-expiry" aria-label="Expires" value={days} onChange={(e) => setDays((e.target as HTMLSelectElement).value)}>
            <option value="7">Expires in 7 days</option>
            <option value="30">Expires in 30 days</option>
            <option value="90">Expires in 90 days</option>
            <option value="365">Expires in 1 year</option>
            <option value="">Never expires</option>
          </select>
          <button class="btn small primary" data-action="create-token" disabled={!name.trim()}>Create token</button>
        </form>
        <ErrorBox error={err} />
      </section>
      <section class="card">
        <div class="card-head"><h3>Tokens ({tokens.data?.length ?? '…'})</h3></div>
        <ErrorBox error={tokens.error} />
        {tokens.loading && !tokens.data ? <Spinner /> : (
          <table class="grid-table tokens-table">
            <thead><tr><th>Name</th><th>Created</th><th>Expires</th><th>Last used</th><th /></tr></thead>
            <tbody>
              {(tokens.data || []).map((t) => (
                <tr key={t.id} data-token={t.name}>
                  <td>{t.name}</td>
                  <td>{when(t.creation_timestamp)}</td>
                  <td>{until(t.expiration_timestamp)}</td>
                  <td>{when(t.last_used_timestamp)}</td>
                  <td class="right"><button class="btn small danger-text" data-action="revoke-token" onClick={() => setRevoking(t)}>Revoke</button></td>
                </tr>
              ))}
              {tokens.data && !tokens.data.length ? <tr><td colSpan={5} class="muted">No tokens yet.</td></tr> : null}
            </tbody>
          </table>
        )}
      </section>
      {revoking ? (
        <ConfirmModal title="Revoke token" danger confirm="Revoke" message={`Revoke the token "${revoking.name}"? Clients using it are refused from now on.`}
          onClose={() => setRevoking(null)} onConfirm={async () => { await revokeToken(revoking.id); await tokens.reload(); }} />
      ) : null}
      {pwModal ? <PasswordModal username={user} self={self} onClose={() => setPwModal(false)} /> : null}
    </div>
  );
}

/** UsersPage is #/users (admins): create users, make them admins, change passwords, delete them. */
export function UsersPage({ query }: { query: URLSearchParams }) {
  const s = useSession();
  const me = s?.me;
  const users = useAsync(() => (me?.is_admin ? listUsers() : Promise.resolve([])), [me?.username]);
  const [name, setName] = useState('');
  const [pw, setPw] = useState('');
  const [admin, setAdmin] = useState(false);
  const [err, setErr] = useState<unknown>(null);
  const [rowErr, setRowErr] = useState<unknown>(null);
  const [done, setDone] = useState('');
  const [deleting, setDeleting] = useState<string | null>(null);
  const [pwFor, setPwFor] = useState<string | null>(null);
  const [adminNow, setAdminNow] = useState<Record<string, boolean>>({});
  const q = query.get('q') || '';
  if (s && !s.on) return <AuthOff />;
  if (!me) return <div class="page"><Spinner /></div>;
  if (!me.is_admin) return <div class="page"><ErrorBox error={new ApiError(403, 'PERMISSION_DENIED', 'Only admins can manage users. Your own tokens and password are on the Access tokens page.')} /></div>;
  const shown = (users.data || []).filter((u) => u.username.toLowerCase().includes(q.toLowerCase()));
  return (
    <div class="page users-page">
      <div class="page-head">
        <h1>Users</h1>
        <div class="spacer" />
        <input class="search wide" placeholder="Search users" value={q} onInput={(e) => setQuery({ q: (e.target as HTMLInputElement).value })} />
      </div>
      <section class="card">
        <div class="card-head"><h3>Create a user</h3></div>
        <form class="inline-form" onSubmit={async (e) => {
          e.preventDefault();
          setErr(null);
          setDone('');
          const n = name.trim();
          try {
            await createUser(n, pw);
            if (admin) await updateAdmin(n, true);
            setName('');
            setPw('');
            setAdmin(false);
            setDone(`Created ${admin ? 'admin ' : 'user '}${n}.`);
            await users.reload();
          } catch (x) {
            setErr(x);
          }
        }}>
          <input name="new-username" placeholder="username" autocomplete="off" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
          <input name="new-password" type="password" placeholder="password (12+ characters)" autocomplete="new-password" value={pw} onInput={(e) => setPw((e.target as HTMLInputElement).value)} />
          <label class="check"><input type="checkbox" name="new-admin" checked={admin} onChange={(e) => setAdmin((e.target as HTMLInputElement).checked)} /> admin</label>
          <button class="btn small primary" data-action="create-user" disabled={!name.trim() || pw.length < 12}>Create user</button>
        </form>
        <ErrorBox error={err} />
        {done ? <div class="ok-box" role="status">{done}</div> : null}
      </section>
      <section class="card">
        <div class="card-head"><h3>Users ({users.data?.length ?? '…'})</h3></div>
        <ErrorBox error={users.error || rowErr} />
        {users.loading && !users.data ? <Spinner /> : (
          <table class="grid-table users-table">
            <thead><tr><th>Username</th><th>Admin</th><th /></tr></thead>
            <tbody>
              {shown.map((u) => (
                <tr key={u.username} data-user={u.username}>
                  <td>{u.username}{u.username === me.username ? <span class="muted"> (you)</span> : null}</td>
                  <td>
                    <input type="checkbox" aria-label={`${u.username} is an admin`} checked={adminNow[u.username] ?? u.is_admin} disabled={u.username === me.username}
                      title={u.username === me.username ? 'You cannot remove your own admin rights here' : ''}
                      onChange={async (e) => {
                        const v = (e.target as HTMLInputElement).checked;
                        setRowErr(null);
                        // Shown at once; the list is read again after the change.
                        setAdminNow((m) => ({ ...m, [u.username]: v }));
                        try {
                          await updateAdmin(u.username, v);
                        } catch (x) {
                          setRowErr(x);
                        }
                        await users.reload();
                        setAdminNow((m) => { const n = { ...m }; delete n[u.username]; return n; });
                      }} />
                  </td>
                  <td><div class="row-actions end">
                    <a class="btn small" href={href(['tokens'], { user: u.username })}>Tokens</a>
                    <button class="btn small" data-action="set-password" onClick={() => setPwFor(u.username)}>Change password</button>
                    {u.username !== me.username ? <button class="btn small danger-text" data-action="delete-user" onClick={() => setDeleting(u.username)}>Delete</button> : null}
                  </div></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {deleting ? (
        <ConfirmModal title="Delete user" danger confirm="Delete" message={`Delete ${deleting}? Their permissions, tokens and sessions go with them. Their runs and experiments stay.`}
          onClose={() => setDeleting(null)} onConfirm={async () => { await deleteUser(deleting); await users.reload(); }} />
      ) : null}
      {pwFor ? <PasswordModal username={pwFor} self={pwFor === me.username} onClose={() => setPwFor(null)} /> : null}
    </div>
  );
}
