import { useState } from 'preact/hooks';
import { LEVELS, Me, createPermission, deletePermission, getPermission, getUser, listUsers, updatePermission } from './api';
import type { Resource } from './api';
import { ApiError } from '../lib/api';
import { rememberedGrantees, rememberGrantee, useSession } from './session';
import { ConfirmModal, ErrorBox, Spinner, useAsync } from '../ui/widgets';

interface Grant { username: string; permission: string; admin?: boolean }

const HELP: Record<string, string> = {
  READ: 'read',
  USE: 'read and use',
  EDIT: 'read and change',
  MANAGE: 'change, delete and manage permissions',
  NO_PERMISSIONS: 'no access at all',
};

/**
 * loadGrants lists the users with a grant on the resource. Admins see every
 * user's grant (users/list, then users/get of each). Others may only ask
 * about one user at a time, so they see themselves and the users this
 * browser has granted access to.
 */
async function loadGrants(r: Resource, me: Me): Promise<{ grants: Grant[]; users: string[]; complete: boolean }> {
  if (me.is_admin) {
    const users = await listUsers();
    const details = await Promise.all(users.map((u) => getUser(u.username)));
    const grants: Grant[] = [];
    for (const u of details) {
      const p = r.kind === 'experiment'
        ? u.experiment_permissions.find((x) => x.experiment_id === r.id)?.permission
        : u.registered_model_permissions.find((x) => x.name === r.id)?.permission;
      if (p) grants.push({ username: u.username, permission: p, admin: u.is_admin });
    }
    return { grants: grants.sort((a, b) => a.username.localeCompare(b.username)), users: users.map((u) => u.username).sort(), complete: true };
  }
  const names = [me.username, ...rememberedGrantees().filter((n) => n !== me.username)];
  const found = await Promise.all(names.map((n) => getPermission(r, n).catch((e) => {
    // A remembered user may have been deleted since.
    if (e instanceof ApiError && e.code === 'RESOURCE_DOES_NOT_EXIST') return undefined;
    throw e;
  })));
  const grants = names.map((n, i) => ({ username: n, permission: found[i] })).filter((g): g is Grant => !!g.permission);
  return { grants: grants.sort((a, b) => a.username.localeCompare(b.username)), users: names, complete: false };
}

/** PermissionsPanel lists, adds, changes and removes users' grants on an experiment or registered model. */
export function PermissionsPanel({ resource }: { resource: Resource }) {
  const s = useSession();
  const me = s?.me;
  const data = useAsync(() => (me ? loadGrants(resource, me) : Promise.resolve(undefined)), [resource.kind, resource.id, me?.username]);
  const [user, setUser] = useState('');
  const [level, setLevel] = useState('READ');
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [removing, setRemoving] = useState<string | null>(null);
  const [done, setDone] = useState('');
  const [changing, setChanging] = useState<Record<string, string>>({});
  if (s && !s.on) return <div class="empty">Authentication is off on this server: everyone may do everything. Start mltrack with <code>--app-name basic-auth</code> to manage permissions.</div>;
  if (!me) return <Spinner />;
  const what = resource.kind === 'experiment' ? 'experiment' : 'registered model';
  const act = async (f: () => Promise<unknown>, msg: string) => {
    setBusy(true);
    setErr(null);
    setDone('');
    try {
      await f();
      setDone(msg);
      await data.reload();
    } catch (x) {
      setErr(x);
    } finally {
      setBusy(false);
    }
  };
  const grants = data.data?.grants || [];
  return (
    <section class="card perms" data-permissions={resource.kind}>
      <div class="card-head"><h3>Permissions</h3></div>
      <p class="muted small-pad">
        Who may do what on this {what}. Users without a grant get the server's default permission, <b>{s?.defaultPermission || 'READ'}</b>.
        {data.data && !data.data.complete ? ' Only admins can list every grant: this list shows you and the users you granted access from this browser.' : ''}
      </p>
      <ErrorBox error={data.error} />
      {data.loading && !data.data ? <Spinner /> : (
        <table class="grid-table perm-table">
          <thead><tr><th>User</th><th>Permission</th><th /></tr></thead>
          <tbody>
            {grants.map((g) => (
              <tr key={g.username} data-grant={g.username}>
                <td>{g.username}{g.username === me.username ? <span class="muted"> (you)</span> : null}{g.admin ? <span class="badge">admin</span> : null}</td>
                <td>
                  <select aria-label={`Permission of ${g.username}`} value={changing[g.username] ?? g.permission} disabled={busy}
                    onChange={async (e) => {
                      const p = (e.target as HTMLSelectElement).value;
                      // Shown at once; the grants are read again after the change.
                      setChanging((m) => ({ ...m, [g.username]: p }));
                      await act(() => updatePermission(resource, g.username, p), `${g.username} now has ${p}.`);
                      setChanging((m) => { const n = { ...m }; delete n[g.username]; return n; });
                    }}>
                    {LEVELS.map((l) => <option key={l} value={l}>{l}</option>)}
                  </select>
                  <span class="muted small"> {HELP[g.permission] || ''}</span>
                </td>
                <td class="right"><button class="btn small danger-text" data-action="remove-grant" disabled={busy} onClick={() => setRemoving(g.username)}>Remove</button></td>
              </tr>
            ))}
            {!grants.length ? <tr><td colSpan={3} class="muted">No grants{data.data?.complete ? '' : ' known to this browser'}.</td></tr> : null}
          </tbody>
        </table>
      )}
      <form class="inline-form grant-form" onSubmit={(e) => {
        e.preventDefault();
        const name = user.trim();
        if (!name) return;
        act(async () => {
          await createPermission(resource, name, level);
          rememberGrantee(name);
          setUser('');
        }, `Granted ${level} to ${name}.`);
      }}>
        <input name="grant-user" placeholder="username" list="perm-users" value={user} autocomplete="off" onInput={(e) => setUser((e.target as HTMLInputElement).value)} />
        <datalist id="perm-users">{(data.data?.complete ? data.data.users : []).map((u) => <option key={u} value={u} />)}</datalist>
        <select name="grant-level" aria-label="Permission" value={level} onChange={(e) => setLevel((e.target as HTMLSelectElement).value)}>
          {LEVELS.map((l) => <option key={l} value={l}>{l}</option>)}
        </select>
        <button class="btn small primary" data-action="grant" disabled={busy || !user.trim()}>Grant</button>
      </form>
      <ErrorBox error={err} />
      {done ? <div class="ok-box" role="status">{done}</div> : null}
      {removing ? (
        <ConfirmModal title="Remove grant" danger confirm="Remove"
          message={removing === me.username && !me.is_admin
            ? `Remove your own grant on this ${what}? You may lose access to it.`
            : `Remove ${removing}'s grant on this ${what}? They get the default permission (${s?.defaultPermission || 'READ'}) instead.`}
          onClose={() => setRemoving(null)}
          onConfirm={async () => { const n = removing; await deletePermission(resource, n); setDone(`Removed ${n}'s grant.`); await data.reload(); }} />
      ) : null}
    </section>
  );
}
