import { get } from '../api/client';
import { time } from '../format';
import { usePoll } from '../hooks';

interface RejectedRequest {
  id: string;
  source: string;
  rejectedAt: string;
  reason: string;
  field?: string | null;
  body?: string | null;
}

export function Refused() {
  const list = usePoll((signal) => get<RejectedRequest[]>('/api/run-requests/rejected?count=200', signal), 'refused', 10000);
  return (
    <section aria-labelledby="ref-title">
      <h1 id="ref-title">Refused run requests</h1>
      <p className="muted">Messages on the flow-run-requests queue that did not start a run, newest first.</p>
      {list.error && <p className="error">{list.error.message}</p>}
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Time</th>
              <th>Reason</th>
              <th>Field</th>
              <th>Body</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.map((r) => (
              <tr key={r.id}>
                <td>{time(r.rejectedAt)}</td>
                <td>{r.reason}</td>
                <td className="mono">{r.field ?? '—'}</td>
                <td>
                  <code className="params">{r.body ?? ''}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list.data?.length === 0 && <p className="empty">No refused requests.</p>}
    </section>
  );
}
