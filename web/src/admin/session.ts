// The signed-in user, when mltrack runs with auth on. With auth off the
// whoami endpoint answers {auth: false} (older servers: 404), and every auth
// control is hidden.
import { useEffect, useState } from 'preact/hooks';
import { getUser, logout, whoami } from './api';
import type { Me, Resource } from './api';
import { ApiError } from '../lib/api';
import { load, save } from '../lib/store';

export interface Session { on: boolean; me?: Me; defaultPermission?: string }

let pending: Promise<Session> | undefined;
let current: Session | undefined;

export function session(): Promise<Session> {
  if (!pending) {
    pending = whoami().then(
      (r) => (r.auth === false || !r.user ? { on: false } : { on: true, me: r.user, defaultPermission: r.default_permission }),
      (e) => {
        // 401: authFetch is already on its way to the sign-in page.
        if (e instanceof ApiError && e.status === 401) return new Promise<Session>(() => {});
        return { on: false };
      },
    ).then((s) => (current = s));
  }
  return pending;
}

/** useSession is undefined until whoami has answered. */
export function useSession(): Session | undefined {
  const [s, setS] = useState<Session | undefined>(current);
  useEffect(() => { if (!current) session().then(setS); }, []);
  return s;
}

export async function signOut() {
  try {
    await logout();
  } finally {
    location.assign('signin');
  }
}

/**
 * canManage tells whether the signed-in user may manage a resource's
 * permissions: admins always, others with a MANAGE grant on it (or MANAGE
 * as the server's default permission when they have no grant).
 */
export async function canManage(r: Resource): Promise<boolean> {
  const s = await session();
  if (!s.on || !s.me) return false;
  if (s.me.is_admin) return true;
  const u = await getUser(s.me.username);
  const grant = r.kind === 'experiment'
    ? u.experiment_permissions.find((p) => p.experiment_id === r.id)?.permission
    : u.registered_model_permissions.find((p) => p.name === r.id)?.permission;
  return (grant ?? s.defaultPermission) === 'MANAGE';
}

export function useCanManage(r: Resource): boolean {
  const [ok, setOk] = useState(false);
  useEffect(() => {
    let live = true;
    setOk(false);
    canManage(r).then((v) => live && setOk(v), () => {});
    return () => { live = false; };
  }, [r.kind, r.id]);
  return ok;
}

// Non-admins cannot list users or other users' grants (the server offers no
// such endpoint to them), so the permissions panel remembers whom this
// browser granted access to and asks about those.
export function rememberedGrantees(): string[] {
  return load<string[]>('grantees', []);
}

export function rememberGrantee(name: string) {
  const list = rememberedGrantees().filter((n) => n !== name);
  list.unshift(name);
  save('grantees', list.slice(0, 50));
}
