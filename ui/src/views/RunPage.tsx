import { useState, type FormEvent } from 'react';
import { ApiError, get, send } from '../api/client';
import type { Artifact, Run, RunJournal, RunTimeline } from '../api/types';
import { Artifacts } from '../components/Artifacts';
import { Journal } from '../components/Journal';
import { Logs } from '../components/Logs';
import { eventsHref } from '../components/ResourceLink';
import { Tabs } from '../components/Tabs';
import { StateBadge } from '../components/StateBadge';
import { Timeline } from '../components/Timeline';
import { between, duration, FINAL, time } from '../format';
import { usePoll } from '../hooks';
import { Link, navigate, setQuery } from '../router';

const TABS = ['timeline', 'logs', 'artifacts', 'history', 'result', 'journal'] as const;

export function RunPage({ id, query }: { id: string; query: URLSearchParams }) {
  const base = '/api/runs/' + encodeURIComponent(id);
  const run = usePoll((signal) => get<Run>(base, signal), base, 2000);
  const live = run.data ? !FINAL.has(run.data.state) : true;
  const tab = TABS.find((t) => t === query.get('tab')) ?? 'timeline';
  const timeline = usePoll((signal) => (tab === 'timeline' ? get<RunTimeline>(base + '/timeline', signal) : Promise.resolve(undefined)), base + tab, live ? 2000 : undefined);
  const artifacts = usePoll((signal) => (tab === 'artifacts' ? get<Artifact[]>(base + '/artifacts', signal) : Promise.resolve(undefined)), base + tab, live ? 3000 : undefined);
  const journal = usePoll((signal) => (tab === 'journal' ? get<RunJournal>(base + '/journal', signal) : Promise.resolve(undefined)), base + tab, live ? 3000 : undefined);
  const [notice, setNotice] = useState<string | null>(null);
  const [resumeOpen, setResumeOpen] = useState(false);
  const [resumeText, setResumeText] = useState('{}');
  const [resumeError, setResumeError] = useState<string | null>(null);

  if (run.error && !run.data) return <p className="error" role="alert">{run.error.message}</p>;
  const r = run.data;
  if (!r) return <p className="empty">Loading…</p>;

  const act = async (label: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
      setNotice(label);
      run.reload();
    } catch (e) {
      setNotice((e as Error).message);
    }
  };
  const resume = async (e: FormEvent) => {
    e.preventDefault();
    let body: unknown;
    try {
      body = resumeText.trim() ? JSON.parse(resumeText) : undefined;
    } catch (err) {
      setResumeError('Not valid JSON: ' + (err as Error).message);
      return;
    }
    try {
      await send('POST', base + '/resume', body);
      setResumeOpen(false);
      setResumeError(null);
      setNotice('Resume sent.');
      run.reload();
    } catch (err) {
      setResumeError(err instanceof ApiError ? err.message : String(err));
    }
  };
  const again = async () => {
    if (!r.deployment) return;
    try {
      const [flow, name] = r.deployment.split('/');
      const started = await send<{ id: string }>('POST', `/api/deployments/${encodeURIComponent(flow)}/${encodeURIComponent(name)}/runs`, { parameters: r.parameters ?? undefined });
      navigate('/runs/' + encodeURIComponent(started.id));
    } catch (e) {
      setNotice((e as Error).message);
    }
  };

  return (
    <section aria-labelledby="run-title">
      <div className="title-row">
        <h1 id="run-title">
          {r.flow} <StateBadge state={r.stateName} />
        </h1>
        <div className="actions">
          {!FINAL.has(r.state) && r.state !== 'Cancelling' && (
            <button type="button" onClick={() => act('Cancellation requested.', () => send('POST', base + '/cancel', { reason: 'Cancelled from the dashboard' }))}>
              Cancel
            </button>
          )}
          {r.state === 'Paused' && (
            <button type="button" onClick={() => setResumeOpen((o) => !o)} aria-expanded={resumeOpen}>
              Resume…
            </button>
          )}
          {r.deployment && (
            <button type="button" onClick={again}>
              Trigger again
            </button>
          )}
        </div>
      </div>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {resumeOpen && (
        <form className="card resume" onSubmit={resume}>
          <label htmlFor="resume-input">Input for the paused flow (JSON)</label>
          <textarea id="resume-input" rows={4} value={resumeText} onChange={(e) => setResumeText(e.target.value)} aria-invalid={resumeError ? true : undefined} />
          {resumeError && <p className="error" role="alert">{resumeError}</p>}
          <button type="submit">Resume run</button>
        </form>
      )}
      <dl className="facts">
        <dt>Run</dt>
        <dd className="mono">{r.id}</dd>
        <dt>Deployment</dt>
        <dd>{r.deployment ? <Link href={'/deployments/' + r.deployment}>{r.deployment}</Link> : '—'}</dd>
        <dt>Pool</dt>
        <dd>{r.pool}</dd>
        <dt>Started</dt>
        <dd>{time(r.startedAt)}</dd>
        <dt>Duration</dt>
        <dd>{duration(between(r.startedAt, r.endedAt))}</dd>
        <dt>Attempt</dt>
        <dd>{r.attempt}</dd>
        {r.parentRunId && (
          <>
            <dt>Parent</dt>
            <dd>
              <Link href={'/runs/' + encodeURIComponent(r.parentRunId)}>{r.parentRunId}</Link>
            </dd>
          </>
        )}
        <dt>State</dt>
        <dd>{r.stateMessage ?? r.stateName} · {time(r.stateTime)}</dd>
        <dt>Events</dt>
        <dd>
          <Link href={eventsHref('flow-run/' + r.id)}>Events of this run →</Link>
        </dd>
        <dt>Parameters</dt>
        <dd>
          <code className="params">{r.parameters === undefined || r.parameters === null ? '—' : JSON.stringify(r.parameters)}</code>
        </dd>
      </dl>
      <Tabs id="run" label="Run details" tabs={TABS} selected={tab} onSelect={(t) => setQuery({ tab: t === 'timeline' ? null : t })}>
        {tab === 'timeline' && (timeline.data ? <Timeline timeline={timeline.data} /> : <p className="empty">Loading…</p>)}
        {tab === 'logs' && <Logs runId={id} query={query} live={live} />}
        {tab === 'artifacts' && (artifacts.data ? <Artifacts artifacts={artifacts.data} /> : <p className="empty">Loading…</p>)}
        {tab === 'history' && (
          <table>
            <thead>
              <tr>
                <th>Time</th>
                <th>From</th>
                <th>To</th>
                <th>Message</th>
              </tr>
            </thead>
            <tbody>
              {(r.history ?? []).map((h) => (
                <tr key={h.index}>
                  <td>{time(h.timestamp)}</td>
                  <td>{h.from ?? '—'}</td>
                  <td>
                    <StateBadge state={h.to} />
                  </td>
                  <td>{h.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {tab === 'journal' && (journal.data ? <Journal journal={journal.data} /> : <p className="empty">Loading…</p>)}
        {tab === 'result' &&
          (r.failure ? (
            <div className="failure">
              <h3>
                {r.failure.type}: {r.failure.message}
              </h3>
              {r.failure.stackTrace && <pre>{r.failure.stackTrace}</pre>}
            </div>
          ) : r.result !== undefined && r.result !== null ? (
            <pre>{JSON.stringify(r.result, null, 2)}</pre>
          ) : (
            <p className="empty">No result yet.</p>
          ))}
      </Tabs>
    </section>
  );
}
