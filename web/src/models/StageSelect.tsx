import { useState } from 'preact/hooks';
import { transitionStage } from './api';
import { ConfirmModal } from '../ui/widgets';

export const STAGES = ['None', 'Staging', 'Production', 'Archived'];

/**
 * StageSelect changes a version's stage after a confirmation, as MLflow's UI
 * does, offering to archive the versions now in Staging or Production.
 */
export function StageSelect({ name, version, stage, onDone, onError }: { name: string; version: string; stage?: string; onDone: () => void; onError: (e: unknown) => void }) {
  const [to, setTo] = useState<string | null>(null);
  const [archive, setArchive] = useState(false);
  const current = stage || 'None';
  return (
    <>
      <select value={current} aria-label="Stage" onChange={(e) => {
        const v = (e.target as HTMLSelectElement).value;
        (e.target as HTMLSelectElement).value = current; // applied once confirmed
        setArchive(false);
        setTo(v);
      }}>
        {STAGES.map((s) => <option key={s}>{s}</option>)}
      </select>
      {to ? (
        <ConfirmModal title="Stage transition" confirm="Transition" onClose={() => setTo(null)}
          message={<div class="stage-confirm">
            <p>Transition version {version} of <b>{name}</b> from <b>{current}</b> to <b>{to}</b>?</p>
            {to === 'Staging' || to === 'Production' ? (
              <label class="check"><input type="checkbox" name="archive-existing" checked={archive} onChange={(e) => setArchive((e.target as HTMLInputElement).checked)} />
                {' '}Transition existing {to} model versions to Archived</label>
            ) : null}
          </div>}
          onConfirm={async () => {
            try {
              await transitionStage(name, version, to, archive);
              onDone();
            } catch (x) {
              onError(x);
              throw x;
            }
          }} />
      ) : null}
    </>
  );
}
