// The automations: trigger and actions in words, enabled or not (and a button to change it), and the last firing.
import { useEffect, useState } from 'react';
import { get } from '../api/client';
import type { Automation } from '../api/types';
import { actionsSummary, triggerSummary } from '../automationText';
import { EnabledBadge, EnableToggle } from '../components/EnableToggle';
import { ago, time } from '../format';
import { usePoll } from '../hooks';
import { Link } from '../router';

export function Automations() {
  const list = usePoll((signal) => get<Automation[]>('/api/automations?lastFiring=true', signal), 'automations', 10000);
  const [changed, setChanged] = useState<Record<string, Automation>>({});
  // A change shows at once; the list read after it replaces it.
  useEffect(() => setChanged({}), [list.data]);
  const automations = (list.data ?? []).map((a) => (changed[a.name] ? { ...a, enabled: changed[a.name].enabled } : a));
  return (
    <section aria-labelledby="aut-title">
      <div className="title-row">
        <h1 id="aut-title">Automations</h1>
        <span className="muted">refreshes every 10 s</span>
      </div>
      {list.error && (
        <p className="error" role="alert">
          {list.error.message}
        </p>
      )}
      <div className="table-wrap">
        <table className="automations">
          <thead>
            <tr>
              <th>Automation</th>
              <th>Status</th>
              <th>Trigger</th>
              <th className="hide-narrow">Actions</th>
              <th>Last firing</th>
              <th>
                <span className="sr-only">Enable or disable</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {automations.map((a) => (
              <tr key={a.name} data-automation={a.name}>
                <td>
                  <Link href={'/automations/' + encodeURIComponent(a.name)}>{a.name}</Link>
                  {a.description && <div className="muted small">{a.description}</div>}
                </td>
                <td>
                  <EnabledBadge enabled={a.enabled ?? false} />
                </td>
                <td className="summary trigger">{triggerSummary(a.trigger)}</td>
                <td className="summary hide-narrow">{actionsSummary(a.actions)}</td>
                <td className="last-firing">
                  {a.lastFiring ? (
                    <>
                      <time dateTime={a.lastFiring.firedAt} title={time(a.lastFiring.firedAt)}>
                        {ago(a.lastFiring.firedAt)}
                      </time>{' '}
                      <span className={'badge st-' + a.lastFiring.status}>{a.lastFiring.status}</span>
                    </>
                  ) : (
                    <span className="muted">never</span>
                  )}
                </td>
                <td>
                  <EnableToggle automation={a} onChanged={(n) => {
                      setChanged((c) => ({ ...c, [n.name]: n }));
                      list.reload();
                    }} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list.data?.length === 0 && <p className="empty">No automations. PUT one at /api/automations/{'{name}'} or add an automations: section to flow.yaml.</p>}
      {!list.data && !list.error && <p className="empty">Loading…</p>}
    </section>
  );
}
