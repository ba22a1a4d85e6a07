import type { Artifact } from '../api/types';
import { time } from '../format';
import { Markdown } from './Markdown';

function Table({ rows }: { rows: unknown }) {
  if (!Array.isArray(rows) || rows.length === 0) return <p className="empty">Empty table.</p>;
  const columns = [...new Set(rows.flatMap((r) => (r && typeof r === 'object' ? Object.keys(r) : [])))];
  const cell = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>{columns.map((c) => <th key={c}>{c}</th>)}</tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>{columns.map((c) => <td key={c}>{cell((r as Record<string, unknown>)[c])}</td>)}</tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Artifacts({ artifacts }: { artifacts: Artifact[] }) {
  if (artifacts.length === 0) return <p className="empty">No artifacts.</p>;
  return (
    <div className="artifacts">
      {artifacts.map((a) => (
        <article key={a.key + a.createdAt} className="card artifact" data-type={a.type}>
          <h3>
            {a.key} <span className="tag">{a.type.toLowerCase()}</span>
          </h3>
          {a.description && <p className="muted">{a.description}</p>}
          {a.type === 'Table' ? (
            <Table rows={a.data} />
          ) : a.type === 'Markdown' ? (
            <Markdown text={String(a.data ?? '')} />
          ) : /^https?:\/\//.test(String(a.data)) ? (
            <a href={String(a.data)} rel="noreferrer noopener" target="_blank">
              {String(a.data)}
            </a>
          ) : (
            <code>{String(a.data)}</code>
          )}
          <p className="muted small">{time(a.createdAt)}</p>
        </article>
      ))}
    </div>
  );
}
