// One automation: its trigger and actions in words and as JSON, enable/disable, and its recent firings with their outcomes.
import { useEffect, useState } from 'react';
import { get } from '../api/client';
import type { Automation, AutomationFiring } from '../api/types';
import { actionsSummary, triggerSummary } from '../automationText';
import { EnabledBadge, EnableToggle } from '../components/EnableToggle';
import { FiringCard } from '../components/FiringCard';
import { Json } from '../components/Json';
import { eventsHref } from '../components/ResourceLink';
import { time } from '../format';
import { usePoll } from '../hooks';
import { Link } from '../router';

export function AutomationPage({ name }: { name: string }) {
  const base = '/api/automations/' + encodeURIComponent(name);
  const automation = usePoll((signal) => get<Automation>(base, signal), base, 10000);
  const firings = usePoll((signal) => get<AutomationFiring[]>(base + '/firings?count=20', signal), base + 'firings', 3000);
  const [changed, setChanged] = useState<Automation | null>(null);
  useEffect(() => setChanged(null), [automation.data]);
  const a = changed ?? automation.data;
  if (automation.error && !a) return <p className="error" role="alert">{automation.error.message}</p>;
  if (!a) return <p className="empty">Loading…</p>;
  return (
    <section aria-labelledby="aut-title">
      <div className="title-row">
        <h1 id="aut-title">
          {a.name} <EnabledBadge enabled={a.enabled ?? false} />
        </h1>
        <div className="actions">
          <EnableToggle automation={a} onChanged={setChanged} />
        </div>
      </div>
      {automation.error && <p className="error">Could not refresh: {automation.error.message}</p>}
      {a.description && <p>{a.description}</p>}
      <dl className="facts">
        <dt>Trigger</dt>
        <dd className="summary trigger">{triggerSummary(a.trigger)}</dd>
        <dt>Actions</dt>
        <dd className="summary">{actionsSummary(a.actions)}</dd>
        <dt>Source</dt>
        <dd>{a.source ?? '—'}</dd>
        <dt>Changed</dt>
        <dd>{time(a.updatedAt)}</dd>
        <dt>Enabled since</dt>
        <dd>{a.enabled ? time(a.enabledAt) : '—'}</dd>
        <dt>Its events</dt>
        <dd>
          <Link href={eventsHref('automation/' + a.name)}>Events it sent →</Link>
        </dd>
      </dl>
      <div className="grid2">
        <div className="card">
          <h2>Trigger</h2>
          <Json value={a.trigger} label="Trigger (JSON)" />
        </div>
        <div className="card">
          <h2>Actions</h2>
          <Json value={a.actions} label="Actions (JSON)" />
        </div>
      </div>
      <h2>Recent firings</h2>
      {firings.error && <p className="error">{firings.error.message}</p>}
      {firings.data?.length === 0 && <p className="empty">It has not fired yet.</p>}
      {!firings.data && !firings.error && <p className="empty">Loading…</p>}
      {firings.data?.map((f) => <FiringCard key={f.id} firing={f} />)}
    </section>
  );
}
