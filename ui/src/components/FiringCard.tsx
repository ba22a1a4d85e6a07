// One firing of an automation: when and why, the events that caused it, and each action's status, result and attempts.
import type { AutomationFiring, FlowEvent } from '../api/types';
import { time } from '../format';
import { Link } from '../router';
import { Json } from './Json';
import { eventsHref, ResourceLink } from './ResourceLink';

function asEvent(value: unknown): FlowEvent | null {
  const e = value as FlowEvent | null | undefined;
  return e && typeof e === 'object' && typeof e.kind === 'string' && e.resource ? e : null;
}

/** A run id the action produced (run-deployment answers the new run's id) links to the run. */
function Result({ type, result }: { type: string; result?: string | null }) {
  if (!result) return <span className="muted">—</span>;
  if (type === 'run-deployment') return <Link href={'/runs/' + encodeURIComponent(result)} className="mono">{result}</Link>;
  return <span className="mono">{result}</span>;
}

export function FiringCard({ firing }: { firing: AutomationFiring }) {
  const event = asEvent(firing.event);
  return (
    <article className="firing" data-firing={firing.id} data-status={firing.status} aria-labelledby={'h-' + firing.id}>
      <h3 id={'h-' + firing.id}>
        <time dateTime={firing.firedAt}>{time(firing.firedAt)}</time>
        <span className={'badge st-' + firing.status}>{firing.status}</span>
        <span className="muted small mono">{firing.id}</span>
      </h3>
      <dl className="facts">
        <dt>Reason</dt>
        <dd>{firing.reason}</dd>
        {firing.key && (
          <>
            <dt>For</dt>
            <dd className="mono">{firing.key}</dd>
          </>
        )}
        <dt>Event</dt>
        <dd>
          {event ? (
            <>
              <Link href={eventsHref(event.resource.id, { kind: event.kind })}>{event.kind}</Link> of <ResourceLink id={event.resource.id} /> at {time(event.occurredAt)}
            </>
          ) : (
            <span className="muted">none (a missed deadline)</span>
          )}
        </dd>
        <dt>Matched events</dt>
        <dd className="mono small wrap-any">{firing.eventIds.length ? firing.eventIds.join(', ') : '—'}</dd>
      </dl>
      {event && (
        <details>
          <summary>Triggering event (JSON)</summary>
          <Json value={firing.event} label={'Triggering event of ' + firing.id} />
        </details>
      )}
      <div className="table-wrap">
        <table className="firing-actions">
          <thead>
            <tr>
              <th>#</th>
              <th>Action</th>
              <th>Status</th>
              <th>Result</th>
              <th>Attempts</th>
            </tr>
          </thead>
          <tbody>
            {firing.actions.map((a) => (
              <tr key={a.index} data-action={a.type} data-status={a.status}>
                <td>{a.index}</td>
                <td>
                  {a.type}
                  <div className="muted small mono wrap-any">{a.idempotencyKey}</div>
                </td>
                <td>
                  <span className={'badge st-' + a.status}>{a.status}</span>
                  {a.nextAttemptAt && <div className="muted small">next attempt {time(a.nextAttemptAt)}</div>}
                </td>
                <td className="wrap-any">
                  <Result type={a.type} result={a.result} />
                </td>
                <td>
                  {a.attempts.length === 0 ? (
                    <span className="muted">none yet</span>
                  ) : (
                    <ol className="attempts">
                      {a.attempts.map((t, i) => (
                        <li key={i} className={t.succeeded ? 'ok' : 'error'}>
                          {time(t.at)}: {t.succeeded ? 'succeeded' : 'failed'}
                          {t.statusCode ? ` (HTTP ${t.statusCode})` : ''}
                          {t.detail ? ' · ' + t.detail : ''}
                        </li>
                      ))}
                    </ol>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </article>
  );
}
