// The arrangement of an experiment's Charts tab, kept per experiment in
// local storage: which metrics are hidden, their order, the sections they
// sit in, each chart's own axis settings, and the parameter runs are
// grouped by.
import { load, save } from '../lib/store';
import type { XMode } from '../ui/chart/Chart';

export interface ChartSettings { logY?: boolean; x?: XMode; xMetric?: string }

export interface Layout {
  hidden: string[];
  /** Metric keys in the order the user put them; keys not listed follow, sorted. */
  order: string[];
  /** Sections named by the user, each with its metrics; the rest go to "Model metrics" and "System metrics". */
  sections: { name: string; metrics: string[] }[];
  charts: Record<string, ChartSettings>;
  groupBy?: string;
}

export const EMPTY: Layout = { hidden: [], order: [], sections: [], charts: {} };

export const loadLayout = (expId: string): Layout => ({ ...EMPTY, ...load<Partial<Layout>>(`chartLayout.${expId}`, {}) });
export const saveLayout = (expId: string, l: Layout) => save(`chartLayout.${expId}`, l);

/** ordered sorts keys by the layout's order, unlisted keys after, alphabetically. */
export function ordered(keys: string[], order: string[]): string[] {
  const pos = new Map(order.map((k, i) => [k, i]));
  return [...keys].sort((a, b) => (pos.get(a) ?? Infinity) - (pos.get(b) ?? Infinity) || a.localeCompare(b));
}

/** sectionsOf splits keys into the layout's sections, then Model metrics and System metrics. */
export function sectionsOf(keys: string[], l: Layout): { name: string; keys: string[]; custom: boolean }[] {
  const placed = new Set<string>();
  const out = l.sections.map((s) => {
    const ks = keys.filter((k) => s.metrics.includes(k) && !placed.has(k));
    ks.forEach((k) => placed.add(k));
    return { name: s.name, keys: ks, custom: true };
  });
  const rest = keys.filter((k) => !placed.has(k));
  out.push({ name: 'Model metrics', keys: rest.filter((k) => !k.startsWith('system/')), custom: false });
  out.push({ name: 'System metrics', keys: rest.filter((k) => k.startsWith('system/')), custom: false });
  return out;
}

/** move moves a key one place up or down in the full ordering. */
export function move(all: string[], key: string, dir: -1 | 1): string[] {
  const i = all.indexOf(key);
  const j = i + dir;
  if (i < 0 || j < 0 || j >= all.length) return all;
  const out = [...all];
  [out[i], out[j]] = [out[j], out[i]];
  return out;
}

/** sectionOf is the custom section a metric is in, if any. */
export function sectionOf(l: Layout, key: string): string | undefined {
  return l.sections.find((s) => s.metrics.includes(key))?.name;
}

/** putInSection moves a metric to a named section ('' for its default one), creating the section. */
export function putInSection(l: Layout, key: string, name: string): Layout {
  let sections = l.sections.map((s) => ({ ...s, metrics: s.metrics.filter((m) => m !== key) }));
  if (name) {
    if (!sections.some((s) => s.name === name)) sections.push({ name, metrics: [] });
    sections = sections.map((s) => (s.name === name ? { ...s, metrics: [...s.metrics, key] } : s));
  }
  return { ...l, sections: sections.filter((s) => s.metrics.length) };
}
