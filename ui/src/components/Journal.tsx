// The run's journal as the engine recorded it: one row an event, oldest first, for those who debug replay or deliveries.
import type { RunJournal } from '../api/types';
import { time } from '../format';

export function Journal({ journal }: { journal: RunJournal }) {
  if (journal.events.length === 0) return <p className="empty">The journal of attempt {journal.attempt} is empty.</p>;
  return (
    <div className="journal">
      <p className="muted small">
        Attempt {journal.attempt}: {journal.length} events
        {journal.pendingInbox ? `, ${journal.pendingInbox} deliveries waiting for the next episode` : ''}
        {journal.next ? ` (first ${journal.events.length} shown)` : ''}.
      </p>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th>#</th>
              <th>Time</th>
              <th>Event</th>
              <th>Call</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            {journal.events.map((e) => (
              <tr key={e.index} data-kind={e.kind}>
                <td>{e.index}</td>
                <td className="nowrap">{time(e.timestamp)}</td>
                <td>
                  {e.kind}
                  {e.state ? <span className="muted"> · {e.state}</span> : null}
                </td>
                <td>
                  {e.name ?? ''}
                  {e.attempt ? <span className="muted"> #{e.attempt}</span> : null}
                </td>
                <td>
                  {e.failure && <div className="error">{e.failure.type}: {e.failure.message}</div>}
                  {e.dueAt && <div className="muted">due {time(e.dueAt)}</div>}
                  {e.detail && <div className="mono">{e.detail}</div>}
                  {e.payload && (
                    <details>
                      <summary>payload{e.payloadLength ? ` (${e.payloadLength} characters, cut)` : ''}</summary>
                      <pre>{e.payload}</pre>
                    </details>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
