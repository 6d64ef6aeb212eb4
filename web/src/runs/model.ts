// What the UI knows about a run beyond MLflow's entity: its display name and
// the system tags it reads.
import type { Run } from '../lib/api';
import { tag } from '../lib/format';

export const NOTE = 'mlflow.note.content';
export const PARENT = 'mlflow.parentRunId';
export const GIT = 'mlflow.source.git.commit';
export const SOURCE = 'mlflow.source.name';

/** plainText is a one-line, Markdown-free summary of a description. */
export function plainText(md: string): string {
  return md.replace(/```[\s\S]*?```/g, ' ').replace(/[#>*_`~]+/g, '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/\s+/g, ' ').trim();
}

export function runName(run: Run): string {
  return run.info.run_name || tag(run.data.tags, 'mlflow.runName') || run.info.run_id.slice(0, 8);
}

