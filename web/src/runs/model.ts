// What the UI knows about a run beyond MLflow's entity: its display name and
// the system tags it reads.
import type { Run } from '../lib/api';
import { tag } from '../lib/format';

export const NOTE = 'mlflow.note.content';
export const PARENT = 'mlflow.parentRunId';
export const GIT = 'mlflow.source.git.commit';
export const SOURCE = 'mlflow.source.name';

// MLflow's UI tells a filter from a plain search text by this pattern: an
// entity prefix, a key and a comparison.
const FILTER_SYNTAX = /(attribute|attributes|attr|run|metric|metrics|param|params|parameter|tag|tags|dataset|datasets|model|models)\.\S+\s*(>|<|>=|<=|=|!=| like| ilike| rlike| in)/i;

/**
 * runsFilter is the filter sent for what was typed in the runs search box:
 * a filter expression as it is, plain text as a search of run names
 * (attributes.run_name ILIKE '%text%').
 */
export function runsFilter(typed: string): string {
  const t = typed.trim();
  if (!t || FILTER_SYNTAX.test(t)) return t;
  return `attributes.run_name ILIKE '%${t.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}%'`;
}

/**
 * plainText is a one-line summary of a Markdown description: the markup of
 * headings, quotes, lists, emphasis, code and links goes, the text stays
 * (an underscore inside a word, as in num_workers, is text).
 */
export function plainText(md: string): string {
  return md
    .replace(/```[^\n]*\n?([\s\S]*?)```/g, ' $1 ')
    .replace(/^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)/gm, '')
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/(\*\*|__)(?=\S)([\s\S]*?\S)\1/g, '$2')
    .replace(/(^|[^\w*])\*(?=\S)([^*]*?\S)\*(?!\w)/g, '$1$2')
    .replace(/(^|[^\w])_(?=\S)([^_]*?\S)_(?!\w)/g, '$1$2')
    .replace(/~~(?=\S)([\s\S]*?\S)~~/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

export function runName(run: Run): string {
  return run.info.run_name || tag(run.data.tags, 'mlflow.runName') || run.info.run_id.slice(0, 8);
}

