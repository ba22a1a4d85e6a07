// Enables or disables an automation; the API's refusal is shown as it came.
import { useState } from 'react';
import { send } from '../api/client';
import type { Automation } from '../api/types';

export function EnabledBadge({ enabled }: { enabled: boolean }) {
  return <span className={'badge ' + (enabled ? 'enabled' : 'disabled')}>{enabled ? 'enabled' : 'disabled'}</span>;
}

export function EnableToggle({ automation, onChanged }: { automation: Automation; onChanged: (a: Automation) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const enabled = automation.enabled ?? false;
  const toggle = async () => {
    setBusy(true);
    setError(null);
    try {
      const changed = await send<Automation>('POST', `/api/automations/${encodeURIComponent(automation.name)}/${enabled ? 'disable' : 'enable'}`);
      onChanged(changed);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="toggle">
      <button type="button" onClick={toggle} disabled={busy} aria-label={(enabled ? 'Disable ' : 'Enable ') + automation.name}>
        {enabled ? 'Disable' : 'Enable'}
      </button>
      {error && (
        <span className="error small" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}
