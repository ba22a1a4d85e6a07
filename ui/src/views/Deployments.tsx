import { get } from '../api/client';
import type { Deployment, RunPage, Schedule } from '../api/types';
import { StateBadge } from '../components/StateBadge';
import { usePoll } from '../hooks';
import { Link } from '../router';
import { ago, time } from '../format';

export function scheduleSummary(s: Schedule): string {
  if (s.cron) return `cron ${s.cron}${s.timezone ? ' (' + s.timezone + ')' : ''}`;
  if (s.interval) return `every ${s.interval.replace(/^PT?/, '').toLowerCase()}`;
  return s.id;
}

export function Deployments() {
  const list = usePoll((signal) => get<Deployment[]>('/api/deployments', signal), 'deployments', 10000);
  const recent = usePoll((signal) => get<RunPage>('/api/runs?pageSize=200', signal), 'recent', 10000);
  return (
    <section aria-labelledby="dep-title">
      <h1 id="dep-title">Deployments</h1>
      {list.error && <p className="error">{list.error.message}</p>}
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Deployment</th>
              <th className="hide-narrow">Pool</th>
              <th>Schedules</th>
              <th>Next run</th>
              <th>Last runs</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.map((d) => {
              const runs = (recent.data?.runs ?? []).filter((r) => r.deployment === d.fullName).slice(0, 8);
              return (
                <tr key={d.fullName}>
                  <td>
                    <Link href={'/deployments/' + d.fullName}>{d.fullName}</Link>
                    {d.description && <div className="muted small">{d.description}</div>}
                  </td>
                  <td className="hide-narrow">{d.pool}</td>
                  <td>{d.schedules.length ? d.schedules.map(scheduleSummary).join('; ') : <span className="muted">none</span>}</td>
                  <td className="next-run" title={d.nextRunAt ?? undefined}>
                    {d.nextRunAt ? <time dateTime={d.nextRunAt}>{time(d.nextRunAt)} <span className="muted small">({ago(d.nextRunAt)})</span></time> : <span className="muted">—</span>}
                  </td>
                  <td>
                    <span className="marks">
                      {runs.map((r) => (
                        <Link key={r.id} href={'/runs/' + encodeURIComponent(r.id)} className={'mark state-' + r.stateName} title={r.stateName + ' · ' + r.id} aria-label={r.stateName} />
                      ))}
                    </span>
                  </td>
                  <td>{d.paused ? <StateBadge state="Paused" /> : 'active'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {list.data?.length === 0 && <p className="empty">No deployments. Apply a flow.yaml (POST /api/deployments/apply) or PUT one.</p>}
    </section>
  );
}
