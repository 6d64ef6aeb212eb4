import { useEffect, useState } from 'preact/hooks';
import type { Experiment } from '../lib/api';
import { searchExperiments } from './api';

// The experiment list is shared by the sidebar and the home page; any change
// made through the UI refreshes both, and each of them refreshes it when it
// appears.
let cache: Experiment[] | undefined;
let cacheErr: unknown;
const subs = new Set<() => void>();

export async function refreshExperiments() {
  try {
    cache = await searchExperiments();
    cacheErr = undefined;
  } catch (e) {
    cacheErr = e;
  }
  subs.forEach((f) => f());
}

// useListUpdates renders the component again each time the list changes.
function useListUpdates() {
  const [, bump] = useState(0);
  useEffect(() => {
    const f = () => bump((n) => n + 1);
    subs.add(f);
    return () => { subs.delete(f); };
  }, []);
}

export function useExperiments(): { list?: Experiment[]; error: unknown } {
  useListUpdates();
  // Show what we have at once and ask again: others create experiments,
  // and with auth on grants change what this user may see.
  useEffect(() => { refreshExperiments(); }, []);
  return { list: cache, error: cacheErr };
}

export function experimentName(id: string): string | undefined {
  return cache?.find((e) => e.experiment_id === id)?.name;
}

// useExperimentName is experimentName for a component that shows it: the
// component renders again when the list arrives (a page opened by its URL
// is drawn before the sidebar's first read of the list has come back).
export function useExperimentName(id: string): string | undefined {
  useListUpdates();
  return experimentName(id);
}
