import { useEffect, useMemo, useRef, useState } from 'react';
import { get } from '../api/client';
import type { LogLine } from '../api/types';
import { time } from '../format';
import { setQuery } from '../router';

const LEVELS = ['Trace', 'Debug', 'Information', 'Warning', 'Error', 'Critical'];

/** A run's logs: level filter and search (in the URL), follow mode polls for new lines and keeps the end in view. */
export function Logs({ runId, query, live }: { runId: string; query: URLSearchParams; live: boolean }) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [error, setError] = useState<string | null>(null);
  const token = useRef<string | null>(null);
  const [follow, setFollow] = useState(live);
  const end = useRef<HTMLDivElement>(null);
  const level = query.get('level') ?? '';
  const search = query.get('q') ?? '';

  useEffect(() => {
    let stopped = false;
    let timer = 0;
    const pull = async () => {
      try {
        for (;;) {
          const path = `/api/runs/${encodeURIComponent(runId)}/logs?pageSize=1000` + (token.current ? '&continuationToken=' + encodeURIComponent(token.current) : '');
          const page = await get<{ lines: LogLine[]; continuationToken?: string | null }>(path);
          if (stopped) return;
          if (page.lines.length) setLines((l) => [...l, ...page.lines]);
          if (!page.continuationToken) break;
          token.current = page.continuationToken;
        }
        setError(null);
      } catch (e) {
        if (!stopped) setError((e as Error).message);
      }
      if (!stopped && follow) timer = window.setTimeout(pull, 2000);
    };
    pull();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [runId, follow]);

  const shown = useMemo(() => {
    const min = level ? LEVELS.indexOf(level) : -1;
    const needle = search.toLowerCase();
    return lines.filter((l) => (min < 0 || LEVELS.indexOf(l.level) >= min) && (!needle || l.message.toLowerCase().includes(needle)));
  }, [lines, level, search]);

  useEffect(() => {
    if (follow) end.current?.scrollIntoView({ block: 'nearest' });
  }, [shown.length, follow]);

  return (
    <div className="logs">
      <div className="filters">
        <label>
          Level
          <select value={level} onChange={(e) => setQuery({ level: e.target.value })}>
            <option value="">all</option>
            {LEVELS.map((l) => (
              <option key={l} value={l}>
                {l} and above
              </option>
            ))}
          </select>
        </label>
        <label>
          Search
          <input type="search" defaultValue={search} onChange={(e) => setQuery({ q: e.target.value })} placeholder="text in the message" />
        </label>
        <label className="check">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow
        </label>
        <span className="muted small">
          {shown.length} of {lines.length} lines
        </span>
      </div>
      {error && <p className="error">{error}</p>}
      <div className="log-lines" role="log" aria-live={follow ? 'polite' : 'off'}>
        {shown.map((l, i) => (
          <div key={i} className={'log level-' + l.level}>
            <span className="muted">{time(l.timestamp)}</span> <span className="lvl">{l.level}</span>
            {l.callId > 0 && <span className="muted"> [task {l.callId}{l.attempt > 1 ? ` #${l.attempt}` : ''}]</span>} <span>{l.message}</span>
          </div>
        ))}
        {lines.length === 0 && <p className="empty">No log lines yet.</p>}
        <div ref={end} />
      </div>
    </div>
  );
}
