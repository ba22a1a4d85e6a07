// One event as a table row that opens, in place, onto its resource with labels, its related resources and its payload.
import type { FlowEvent } from '../api/types';
import { ago, time } from '../format';
import { Link } from '../router';
import { Json } from './Json';
import { ResourceLink } from './ResourceLink';

function Labels({ labels }: { labels?: Record<string, string> | null }) {
  if (!labels || Object.keys(labels).length === 0) return null;
  return (
    <span className="labels">
      {Object.entries(labels).map(([k, v]) => (
        <span key={k} className="tag">
          {k}={v}
        </span>
      ))}
    </span>
  );
}

export function EventRow({ event, open, onToggle, kindHref }: { event: FlowEvent; open: boolean; onToggle: () => void; kindHref: string }) {
  const detailId = 'ev-' + event.id.replace(/[^A-Za-z0-9_-]/g, '_');
  return (
    <>
      <tr data-kind={event.kind} data-event={event.id} className={open ? 'open' : undefined}>
        <td>
          <button type="button" className="disclose" aria-expanded={open} aria-controls={detailId} onClick={onToggle} aria-label={(open ? 'Hide ' : 'Show ') + event.kind + ' ' + event.id}>
            {open ? '▾' : '▸'}
          </button>
        </td>
        <td className="nowrap" title={time(event.occurredAt)}>
          <time dateTime={event.occurredAt}>{time(event.occurredAt)}</time>
          <div className="muted small">{ago(event.occurredAt)}</div>
        </td>
        <td>
          <Link href={kindHref} className="kind" title={'Only ' + event.kind}>
            {event.kind}
          </Link>
        </td>
        <td className="wrap-any">
          <ResourceLink id={event.resource.id} />
        </td>
        <td className="hide-narrow small muted">{event.related.filter((r) => r.role !== 'tag').map((r) => r.id).join(', ')}</td>
      </tr>
      {open && (
        <tr className="event-detail">
          <td colSpan={5} id={detailId}>
            <dl className="facts">
              <dt>Event</dt>
              <dd className="mono">{event.id}</dd>
              <dt>Resource</dt>
              <dd>
                <ResourceLink id={event.resource.id} /> <Labels labels={event.resource.labels} />
              </dd>
              <dt>Related</dt>
              <dd>
                {event.related.length === 0 ? (
                  '—'
                ) : (
                  <ul className="related">
                    {event.related.map((r) => (
                      <li key={r.role + r.id}>
                        <span className="muted">{r.role}</span> <ResourceLink id={r.id} /> <Labels labels={r.labels} />
                      </li>
                    ))}
                  </ul>
                )}
              </dd>
              <dt>Payload</dt>
              <dd>
                <Json value={event.payload} label={'Payload of ' + event.id} />
              </dd>
            </dl>
          </td>
        </tr>
      )}
    </>
  );
}
