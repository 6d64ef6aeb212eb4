// Hash routing: every page has a URL like #/experiments/1/runs/abc?tab=x
// that can be shared and reloaded without server help.
import { useEffect, useState } from 'preact/hooks';

export interface Route { path: string; parts: string[]; query: URLSearchParams }

export function parseHash(hash: string): Route {
  const h = hash.replace(/^#/, '') || '/';
  const [p, q = ''] = h.split('?');
  const path = p.startsWith('/') ? p : '/' + p;
  return { path, parts: path.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(q) };
}

export function useRoute(): Route {
  const [r, setR] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = () => setR(parseHash(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return r;
}

/** href builds a link target from path parts and optional query values. */
export function href(parts: (string | number)[], query?: Record<string, string | undefined>): string {
  let s = '#/' + parts.map((p) => encodeURIComponent(String(p))).join('/');
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, v);
    const t = q.toString();
    if (t) s += '?' + t;
  }
  return s;
}

export function navigate(to: string, replace = false) {
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

/** Replace query parameters of the current route without adding history entries. */
export function setQuery(values: Record<string, string | undefined>) {
  const r = parseHash(location.hash);
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined || v === '') r.query.delete(k);
    else r.query.set(k, v);
  }
  const q = r.query.toString();
  navigate('#' + r.path + (q ? '?' + q : ''), true);
}

/**
 * matchPath matches path parts against a pattern like
 * "experiments/:expId/runs/:runId/:tab?": ":name" takes one part, ":name?"
 * one part or none (only at the end). It answers the named parts, or
 * undefined when the path does not match.
 */
export function matchPath(pattern: string, parts: string[]): Record<string, string> | undefined {
  const pat = pattern.split('/').filter(Boolean);
  const out: Record<string, string> = {};
  for (let i = 0; i < pat.length; i++) {
    const p = pat[i];
    const optional = p.endsWith('?');
    if (i >= parts.length) {
      if (optional) continue;
      return undefined;
    }
    if (p.startsWith(':')) out[p.slice(1).replace(/\?$/, '')] = parts[i];
    else if (p !== parts[i]) return undefined;
  }
  return parts.length <= pat.length ? out : undefined;
}
