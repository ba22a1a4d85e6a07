import { useEffect, useState } from 'react';
import { get, send } from '../api/client';
import type { Deployment, RunPage } from '../api/types';
import { StateBadge } from '../components/StateBadge';
import { ago, between, duration, FINAL, STATES, time } from '../format';
import { usePoll } from '../hooks';
import { Pager } from '../components/Pager';
import { Link, setQuery } from '../router';

const RANGES: Record<string, number> = { '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3, '30d': 30 * 86400e3 };

/** The API query for the Runs view's URL: every filter, Late and tags included, is the server's (`state=Late`, repeated `tag`). */
export function runsApiPath(query: URLSearchParams, now = Date.now()): string {
  const api = new URLSearchParams();
  const state = query.get('state');
  if (state) api.set('state', state);
  for (const k of ['deployment', 'flow']) if (query.get(k)) api.set(k, query.get(k)!);
  for (const tag of query.getAll('tag')) if (tag) api.append('tag', tag);
  const range = query.get('range');
  if (range && RANGES[range]) api.set('from', new Date(Math.floor((now - RANGES[range]) / 60000) * 60000).toISOString());
  api.set('pageSize', query.get('pageSize') ?? '50');
  if (query.get('token')) api.set('continuationToken', query.get('token')!);
  return '/api/runs?' + api.toString();
}

export function Runs({ query }: { query: URLSearchParams }) {
  const path = runsApiPath(query);
  const runs = usePoll((signal) => get<RunPage>(path, signal), path, 5000);
  const deployments = usePoll((signal) => get<Deployment[]>('/api/deployments', signal), 'deployments');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [notice, setNotice] = useState<string | null>(null);
  useEffect(() => setSelected(new Set()), [path]);

  const state = query.get('state') ?? '';
  const list = runs.data?.runs ?? [];
  const tags = query.getAll('tag').join(' ');
  const cancellable = list.filter((r) => !FINAL.has(r.state) && r.state !== 'Cancelling');
  const toggle = (id: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
  const cancelSelected = async () => {
    const ids = [...selected];
    const results = await Promise.allSettled(ids.map((id) => send('POST', `/api/runs/${encodeURIComponent(id)}/cancel`, { reason: 'Cancelled from the dashboard' })));
    const failed = results.filter((r) => r.status === 'rejected').length;
    setNotice(`Cancellation requested for ${ids.length - failed} run(s)` + (failed ? `; ${failed} refused (already finished?)` : '.'));
    setSelected(new Set());
    runs.reload();
  };

  return (
    <section aria-labelledby="runs-title">
      <div className="title-row">
        <h1 id="runs-title">Runs</h1>
        <span className="muted" aria-live="polite">{runs.data ? `${list.length} shown · refreshes every 5 s` : ''}</span>
      </div>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <label>
          State
          <select value={state} onChange={(e) => setQuery({ state: e.target.value, token: null })}>
            <option value="">any</option>
            {STATES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Deployment
          <select value={query.get('deployment') ?? ''} onChange={(e) => setQuery({ deployment: e.target.value, token: null })}>
            <option value="">any</option>
            {deployments.data?.map((d) => (
              <option key={d.fullName}>{d.fullName}</option>
            ))}
          </select>
        </label>
        <label>
          Flow
          <input defaultValue={query.get('flow') ?? ''} placeholder="any" onKeyDown={(e) => e.key === 'Enter' && setQuery({ flow: e.currentTarget.value, token: null })} onBlur={(e) => setQuery({ flow: e.currentTarget.value, token: null })} />
        </label>
        <label>
          Tags
          <input
            key={tags}
            defaultValue={tags}
            placeholder="key or key=value"
            title="Runs carrying every tag (space-separated): key, or key=value"
            onKeyDown={(e) => e.key === 'Enter' && setQuery({ tag: splitTags(e.currentTarget.value), token: null })}
            onBlur={(e) => setQuery({ tag: splitTags(e.currentTarget.value), token: null })}
          />
        </label>
        <label>
          Created
          <select value={query.get('range') ?? ''} onChange={(e) => setQuery({ range: e.target.value, token: null })}>
            <option value="">any time</option>
            <option value="1h">last hour</option>
            <option value="24h">last 24 h</option>
            <option value="7d">last 7 days</option>
            <option value="30d">last 30 days</option>
          </select>
        </label>
        <button type="button" disabled={selected.size === 0} onClick={cancelSelected}>
          Cancel selected ({selected.size})
        </button>
      </form>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {runs.error && <p className="error" role="alert">{runs.error.message}</p>}
      <div className="table-wrap">
        <table className="runs">
          <thead>
            <tr>
              <th>
                <input
                  type="checkbox"
                  aria-label="Select all cancellable runs"
                  checked={cancellable.length > 0 && cancellable.every((r) => selected.has(r.id))}
                  onChange={(e) => setSelected(e.target.checked ? new Set(cancellable.map((r) => r.id)) : new Set())}
                />
              </th>
              <th>State</th>
              <th>Run</th>
              <th className="hide-narrow">Deployment</th>
              <th>Created</th>
              <th className="hide-narrow">Duration</th>
            </tr>
          </thead>
          <tbody>
            {list.map((r) => (
              <tr key={r.id} className={selected.has(r.id) ? 'selected' : undefined}>
                <td>
                  <input type="checkbox" aria-label={'Select ' + r.id} disabled={FINAL.has(r.state)} checked={selected.has(r.id)} onChange={() => toggle(r.id)} />
                </td>
                <td>
                  <StateBadge state={r.stateName} />
                </td>
                <td>
                  <Link href={'/runs/' + encodeURIComponent(r.id)} className="mono">
                    {r.flow}
                  </Link>
                  <div className="muted small mono">{r.id}</div>
                </td>
                <td className="hide-narrow">{r.deployment ? <Link href={'/deployments/' + r.deployment}>{r.deployment}</Link> : '—'}</td>
                <td title={time(r.createdAt)}>{ago(r.createdAt)}</td>
                <td className="hide-narrow">{duration(between(r.startedAt, r.endedAt))}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {runs.data && list.length === 0 && <p className="empty">No runs match.</p>}
        {!runs.data && !runs.error && <p className="empty">Loading…</p>}
      </div>
      <Pager query={query} next={runs.data?.continuationToken} clearTo="/runs" />
    </section>
  );
}

/** The tag box's text as the URL's repeated `tag` values (space-separated; none clears the filter). */
function splitTags(text: string): string[] | null {
  const tags = text.split(/\s+/).filter((t) => t.length > 0);
  return tags.length > 0 ? tags : null;
}
