import { useEffect, useRef, useState } from 'preact/hooks';
import { href } from '../lib/router';
import { signOut, useSession } from './session';

/** UserMenu names the signed-in user and offers tokens, users (admins) and sign-out; hidden when auth is off. */
export function UserMenu() {
  const s = useSession();
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const h = (e: MouseEvent) => { if (ref.current && !ref.current.contains(e.target as Node)) setOpen(false); };
    document.addEventListener('mousedown', h);
    return () => document.removeEventListener('mousedown', h);
  }, [open]);
  if (!s?.on || !s.me) return null;
  const me = s.me;
  return (
    <div class="user-menu" ref={ref}>
      <button class="user-btn" data-action="user-menu" aria-haspopup="menu" aria-expanded={open} onClick={() => setOpen(!open)}>
        <span class="avatar">{me.username.slice(0, 1).toUpperCase()}</span>
        <span data-whoami>{me.username}</span>
        {me.is_admin ? <span class="badge">admin</span> : null}
        <span class="caret">▾</span>
      </button>
      {open ? (
        <div class="menu" role="menu" onClick={() => setOpen(false)}>
          <div class="menu-head muted small">Signed in as <b>{me.username}</b></div>
          <a role="menuitem" href={href(['tokens'])}>Access tokens &amp; password</a>
          {me.is_admin ? <a role="menuitem" href={href(['users'])}>Users</a> : null}
          <button role="menuitem" data-action="sign-out" onClick={() => signOut()}>Sign out</button>
        </div>
      ) : null}
    </div>
  );
}
