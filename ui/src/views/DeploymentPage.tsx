import { useState, type FormEvent } from 'react';
import { ApiError, get, send } from '../api/client';
import type { Deployment, JsonSchema, Occurrence, RunPage } from '../api/types';
import { SchemaFields, toParameters, validate } from '../components/SchemaForm';
import { eventsHref } from '../components/ResourceLink';
import { StateBadge } from '../components/StateBadge';
import { ago, time } from '../format';
import { usePoll } from '../hooks';
import { Link, navigate, setQuery } from '../router';
import { scheduleSummary } from './Deployments';

function RunForm({ deployment, onDone }: { deployment: Deployment; onDone: () => void }) {
  const schema = usePoll((signal) => get<JsonSchema>('/api/flows/' + encodeURIComponent(deployment.flow) + '/schema', signal), deployment.flow);
  const [values, setValues] = useState<Record<string, unknown>>(() => ({ ...(deployment.parameters ?? {}) }));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (deployment.entrypoint.kind !== 'flow' && schema.error) {
    // A process deployment's flow is not registered in the app: parameters as JSON.
  }
  const s: JsonSchema = schema.data ?? { type: 'object', properties: {} };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const local = validate(s, values);
    setErrors(local);
    if (Object.keys(local).length) {
      setMessage('Fix the fields marked below.');
      return;
    }
    setBusy(true);
    try {
      const started = await send<{ id: string }>('POST', `/api/deployments/${encodeURIComponent(deployment.flow)}/${encodeURIComponent(deployment.name)}/runs`, { parameters: toParameters(s, values) });
      onDone();
      navigate('/runs/' + encodeURIComponent(started.id));
    } catch (err) {
      if (err instanceof ApiError) {
        const fields: Record<string, string> = {};
        for (const [k, v] of Object.entries(err.errors)) fields[k.replace(/^parameters\.?/, '') || '(root)'] = v.join('; ');
        setErrors(fields);
        setMessage(err.message);
      } else setMessage(String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card run-form" onSubmit={submit} noValidate aria-label="Run parameters">
      <h2>Run {deployment.fullName}</h2>
      {schema.error && <p className="error">{schema.error.message}</p>}
      {schema.data ? <SchemaFields schema={s} values={values} onChange={setValues} errors={errors} /> : !schema.error && <p className="empty">Loading the parameter schema…</p>}
      {errors['(root)'] && <p className="error field-error">{errors['(root)']}</p>}
      {message && (
        <p className="error" role="alert">
          {message}
        </p>
      )}
      <div className="actions">
        <button type="submit" disabled={busy}>
          {busy ? 'Starting…' : 'Start run'}
        </button>
        <button type="button" className="link" onClick={onDone}>
          Close
        </button>
      </div>
    </form>
  );
}

export function DeploymentPage({ flow, name, query }: { flow: string; name: string; query: URLSearchParams }) {
  const base = `/api/deployments/${encodeURIComponent(flow)}/${encodeURIComponent(name)}`;
  const deployment = usePoll((signal) => get<Deployment>(base, signal), base, 10000);
  const next = usePoll((signal) => get<Occurrence[]>(base + '/schedule?count=5', signal), base + 'next');
  const runs = usePoll((signal) => get<RunPage>(`/api/runs?deployment=${encodeURIComponent(flow + '/' + name)}&pageSize=10`, signal), base + 'runs', 5000);
  const [notice, setNotice] = useState<string | null>(null);
  const d = deployment.data;
  if (deployment.error && !d) return <p className="error" role="alert">{deployment.error.message}</p>;
  if (!d) return <p className="empty">Loading…</p>;
  const formOpen = query.get('run') === '1';
  const toggle = async () => {
    try {
      await send('POST', base + (d.paused ? '/resume' : '/pause'));
      setNotice(d.paused ? 'Resumed.' : 'Paused.');
      deployment.reload();
      next.reload();
    } catch (e) {
      setNotice((e as Error).message);
    }
  };
  return (
    <section aria-labelledby="dep-title">
      <div className="title-row">
        <h1 id="dep-title">
          {d.fullName} {d.paused && <StateBadge state="Paused" />}
        </h1>
        <div className="actions">
          <button type="button" onClick={() => setQuery({ run: formOpen ? null : '1' }, false)} aria-expanded={formOpen}>
            Run…
          </button>
          <button type="button" onClick={toggle}>
            {d.paused ? 'Resume' : 'Pause'}
          </button>
        </div>
      </div>
      {notice && <p className="notice" role="status">{notice}</p>}
      {d.description && <p>{d.description}</p>}
      {formOpen && <RunForm deployment={d} onDone={() => setQuery({ run: null })} />}
      <div className="grid2">
        <div className="card">
          <h2>Schedules</h2>
          {d.schedules.length === 0 && <p className="muted">No schedules: runs start when triggered.</p>}
          <ul>
            {d.schedules.map((s) => (
              <li key={s.id}>
                <strong>{s.id}</strong>: {scheduleSummary(s)} {!s.active && <span className="tag">inactive</span>}
              </li>
            ))}
          </ul>
          <h3>Next occurrences</h3>
          {next.data?.length ? (
            <ul className="mono small">
              {next.data.map((o) => (
                <li key={o.schedule + o.utc}>
                  {o.time} <span className="muted">(UTC{o.utcOffset}, {o.schedule})</span>
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted">{d.paused ? 'Paused.' : 'None.'}</p>
          )}
        </div>
        <div className="card">
          <h2>Details</h2>
          <dl className="facts">
            <dt>Flow</dt>
            <dd>{d.flow}</dd>
            <dt>Pool</dt>
            <dd>{d.pool}</dd>
            <dt>Entrypoint</dt>
            <dd>{d.entrypoint.kind}{d.entrypoint.command ? ': ' + d.entrypoint.command : ''}</dd>
            <dt>Parameters</dt>
            <dd>
              <code>{d.parameters ? JSON.stringify(d.parameters) : '—'}</code>
            </dd>
          </dl>
        </div>
      </div>
      <h2>Recent runs</h2>
      <table>
        <tbody>
          {runs.data?.runs.map((r) => (
            <tr key={r.id}>
              <td>
                <StateBadge state={r.stateName} />
              </td>
              <td>
                <Link href={'/runs/' + encodeURIComponent(r.id)} className="mono">
                  {r.id}
                </Link>
              </td>
              <td title={time(r.createdAt)}>{ago(r.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        <Link href={'/runs?deployment=' + encodeURIComponent(d.fullName)}>All runs of this deployment →</Link>{' '}
        · <Link href={eventsHref('deployment/' + d.fullName)}>Events of this deployment →</Link>
      </p>
    </section>
  );
}
