import { useEffect, useRef, useState } from 'preact/hooks';
import type { Run } from '../lib/api';
import { searchRunsPage } from './api';
import { usePoll } from '../ui/widgets';

export interface RunsState {
  runs: Run[];
  done: boolean; // all pages loaded
  error?: unknown;
  loading: boolean;
}

const MAX_RUNS = 50000;

/**
 * useRuns loads every run matching the query. The first small page comes
 * first so the table shows at once; the rest streams in, 1000 per request,
 * in the background.
 */
export function useRuns(expId: string, filter: string, orderBy: string[], viewType: string) {
  const [st, setSt] = useState<RunsState>({ runs: [], done: false, loading: true });
  const gen = useRef(0);
  const load = async (quiet: boolean) => {
    const g = ++gen.current;
    if (!quiet) setSt({ runs: [], done: false, loading: true });
    let token: string | undefined;
    let all: Run[] = [];
    try {
      let first = true;
      do {
        // Page tokens are offsets, so a first page of 100 continues with pages of 1000.
        const page = await searchRunsPage([expId], filter, orderBy, viewType, token, first && !quiet ? 100 : 1000);
        first = false;
        if (g !== gen.current) return;
        all = all.concat(page.runs || []);
        token = page.next_page_token;
        if (!quiet || !token) setSt({ runs: all, done: !token, loading: !!token });
      } while (token && all.length < MAX_RUNS);
      setSt({ runs: all, done: true, loading: false });
    } catch (e) {
      if (g === gen.current) setSt((s) => ({ runs: quiet ? s.runs : all, done: true, loading: false, error: e }));
    }
  };
  useEffect(() => { load(false); }, [expId, filter, orderBy.join('|'), viewType]);
  const anyRunning = st.runs.some((r) => r.info.status === 'RUNNING');
  // Live: every second re-read only the running runs; every 10 s re-read a
  // small experiment whole, so new runs appear too.
  const refreshRunning = async () => {
    const g = gen.current;
    const ids = st.runs.filter((r) => r.info.status === 'RUNNING').map((r) => r.info.run_id);
    const fresh = new Map<string, Run>();
    for (let i = 0; i < ids.length; i += 100) {
      const inList = ids.slice(i, i + 100).map((id) => `'${id}'`).join(', ');
      const page = await searchRunsPage([expId], `attributes.run_id IN (${inList})`, orderBy, 'ALL', undefined, 1000).catch(() => ({ runs: [] as Run[] }));
      page.runs?.forEach((r) => fresh.set(r.info.run_id, r));
    }
    if (g !== gen.current || !fresh.size) return;
    setSt((s) => ({ ...s, runs: s.runs.map((r) => fresh.get(r.info.run_id) || r) }));
  };
  const ticks = useRef(0);
  usePoll(() => {
    if (st.loading) return;
    ticks.current++;
    if (st.runs.length <= 1000 && ticks.current % 10 === 0) load(true);
    else refreshRunning();
  }, 1000, anyRunning && st.done);
  return { ...st, reload: () => load(true) };
}
