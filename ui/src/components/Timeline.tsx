// The run's Gantt chart: one row per task call, subflow, timer or event wait; bars for attempts, retry waits, cache hits.
// Rows are virtualized (only the visible ones are in the DOM), so a run with thousands of task runs scrolls smoothly.
import { useMemo, useState } from 'react';
import type { RunTimeline } from '../api/types';
import { duration } from '../format';
import { Link } from '../router';

const ROW = 26;
const VIEW = 420;

export function Timeline({ timeline }: { timeline: RunTimeline }) {
  const [scroll, setScroll] = useState(0);
  const rows = timeline.rows;
  const [min, max] = useMemo(() => {
    let lo = timeline.startedAt ? Date.parse(timeline.startedAt) : Infinity;
    let hi = timeline.endedAt ? Date.parse(timeline.endedAt) : -Infinity;
    for (const r of rows)
      for (const s of r.segments) {
        lo = Math.min(lo, Date.parse(s.start));
        hi = Math.max(hi, s.end ? Date.parse(s.end) : Date.now());
      }
    if (!Number.isFinite(lo)) lo = Date.now();
    if (!Number.isFinite(hi) || hi <= lo) hi = lo + 1000;
    return [lo, hi];
  }, [timeline, rows]);
  if (rows.length === 0) return <p className="empty">No task runs yet.</p>;
  const span = max - min;
  const first = Math.max(0, Math.floor(scroll / ROW) - 5);
  const last = Math.min(rows.length, Math.ceil((scroll + VIEW) / ROW) + 5);
  const pct = (t: number) => ((t - min) / span) * 100;
  return (
    <div className="timeline" role="table" aria-label="Task runs timeline" aria-rowcount={rows.length}>
      <div className="tl-legend small muted">
        <span className="seg attempt" /> attempt <span className="seg failed" /> failed attempt <span className="seg retry-wait" /> retry wait <span className="seg cache-hit" /> cache hit <span className="seg wait" /> subflow / wait · span {duration(span)}
      </div>
      <div className="tl-scroll" style={{ height: Math.min(VIEW, rows.length * ROW + 2) }} onScroll={(e) => setScroll(e.currentTarget.scrollTop)} tabIndex={0} aria-label="Scroll the timeline">
        <div style={{ height: rows.length * ROW, position: 'relative' }}>
          {rows.slice(first, last).map((r, i) => {
            const index = first + i;
            return (
              <div className="tl-row" role="row" key={r.callId + r.kind} style={{ top: index * ROW }} data-kind={r.kind} data-state={r.state}>
                <div className="tl-name" role="cell" title={`${r.kind} ${r.name}: ${r.state}`}>
                  {r.kind === 'subflow' && r.childRunId ? (
                    <Link href={'/runs/' + encodeURIComponent(r.childRunId)}>↳ {r.name}</Link>
                  ) : (
                    <span>
                      {r.kind !== 'task' ? r.kind + ': ' : ''}
                      {r.name}
                    </span>
                  )}
                  {r.cached && <span className="tag">cached</span>}
                  {r.segments.filter((s) => s.kind === 'attempt').length > 1 && <span className="tag">{r.segments.filter((s) => s.kind === 'attempt').length} attempts</span>}
                </div>
                <div className="tl-bars" role="cell">
                  {r.segments.map((s, j) => {
                    const start = Date.parse(s.start);
                    const end = s.end ? Date.parse(s.end) : Date.now();
                    const cls = s.kind === 'attempt' && s.outcome === 'Failed' ? 'failed' : s.kind === 'attempt' && s.outcome === 'Running' ? 'running' : s.kind;
                    return (
                      <span
                        key={j}
                        className={'seg ' + cls}
                        style={{ left: pct(start) + '%', width: Math.max(0.4, pct(end) - pct(start)) + '%' }}
                        title={`${s.kind} ${s.attempt}: ${s.outcome}, ${duration(end - start)}`}
                      />
                    );
                  })}
                </div>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
