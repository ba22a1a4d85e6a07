// The event list: newest first, server paging, filters in the URL (kind prefix, resource, time), and a follow mode that polls
// for newer events and puts them on top without moving what the reader is looking at.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { get } from '../api/client';
import type { EventPage, FlowEvent } from '../api/types';
import { EventRow } from '../components/EventRow';
import { compareEvents, newcomers } from '../eventOrder';
import { usePoll } from '../hooks';
import { Pager } from '../components/Pager';
import { setQuery } from '../router';

const RANGES: Record<string, number> = { '15m': 900e3, '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3, '30d': 30 * 86400e3 };
const KINDS = ['flow-run.', 'flow-run.Failed', 'flow-run.Crashed', 'flow-run.Completed', 'flow-run.Running', 'flow-run.AwaitingRetry', 'flow-run.Cancelled', 'automation.'];
const FOLLOW_MS = 2000;
const LOOKBACK_MS = 60_000;

/** The first event row at or below the top of the window, and where it is. */
function firstVisibleRow(): { id: string; top: number } | null {
  for (const row of document.querySelectorAll<HTMLTableRowElement>('table.events tr[data-event]')) {
    const top = row.getBoundingClientRect().top;
    if (top >= 0) return { id: row.dataset.event!, top };
  }
  return null;
}

/** The API filters for the Events view's URL (without paging). */
export function eventFilters(query: URLSearchParams, now = Date.now()): URLSearchParams {
  const api = new URLSearchParams();
  for (const k of ['kind', 'resource', 'until']) if (query.get(k)) api.set(k, query.get(k)!);
  const range = query.get('range');
  if (range && RANGES[range]) api.set('since', new Date(Math.floor((now - RANGES[range]) / 60000) * 60000).toISOString());
  else if (query.get('since')) api.set('since', query.get('since')!);
  return api;
}

/** A datetime-local input's value for an ISO time, in the browser's zone. */
function toLocalInput(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

export function Events({ query }: { query: URLSearchParams }) {
  // A range counts back from when the URL last changed, so the list does not reload by itself every minute.
  const search = query.toString();
  const now = useMemo(() => Date.now(), [search]);
  const filters = eventFilters(query, now);
  const paged = new URLSearchParams(filters);
  paged.set('pageSize', query.get('pageSize') ?? '50');
  if (query.get('token')) paged.set('continuationToken', query.get('token')!);
  const path = '/api/events?' + paged.toString();
  const page = usePoll((signal) => get<EventPage>(path, signal), path);
  const [fresh, setFresh] = useState<FlowEvent[]>([]);
  const [open, setOpen] = useState<Set<string>>(new Set());
  const [followError, setFollowError] = useState<string | null>(null);
  const anchor = useRef<{ id: string; top: number } | null>(null);
  const filterKey = filters.toString();

  // Follow needs the newest page: not on an older page, and not with an end time in the past.
  const until = query.get('until');
  const canFollow = !query.get('token') && (!until || Date.parse(until) > Date.now());
  const follow = canFollow && query.get('follow') === '1';
  const events = useMemo(() => (fresh.length ? [...fresh, ...(page.data?.events ?? [])].sort(compareEvents) : page.data?.events ?? []), [fresh, page.data]);
  const shownRef = useRef({ events, morePages: false });
  shownRef.current = { events, morePages: !!page.data?.continuationToken };

  useEffect(() => {
    setFresh([]);
    setOpen(new Set());
  }, [path]);

  useEffect(() => {
    if (!follow || !page.data) return;
    let stopped = false;
    let timer = 0;
    const controller = new AbortController();
    const pull = async () => {
      const shown = shownRef.current;
      const q = new URLSearchParams(filterKey);
      // From a minute before the newest event shown: an event can reach the list after a newer one (a relay, a sender's
      // own time); those already shown are skipped by id, and the new ones are put in their place in the order.
      if (shown.events.length) {
        const since = new Date(Date.parse(shown.events[0].occurredAt) - LOOKBACK_MS).toISOString();
        if (!q.get('since') || Date.parse(since) > Date.parse(q.get('since')!)) q.set('since', since);
      }
      q.set('pageSize', '200');
      try {
        // Usually one request; a burst of more than a page is read on (at most 5 pages a poll).
        const polled: FlowEvent[] = [];
        for (let i = 0; i < 5; i++) {
          const got = await get<EventPage>('/api/events?' + q.toString(), controller.signal);
          polled.push(...got.events);
          if (!got.continuationToken || !shown.events.length) break;
          q.set('continuationToken', got.continuationToken);
        }
        if (stopped) return;
        const added = newcomers(polled, shown.events, shown.morePages);
        if (added.length) {
          anchor.current = window.scrollY > 0 ? firstVisibleRow() : null;
          setFresh((f) => [...added, ...f]);
        }
        setFollowError(null);
      } catch (e) {
        if (!stopped) setFollowError((e as Error).message);
      }
      if (!stopped) timer = window.setTimeout(pull, FOLLOW_MS);
    };
    timer = window.setTimeout(pull, FOLLOW_MS);
    return () => {
      stopped = true;
      controller.abort();
      window.clearTimeout(timer);
    };
  }, [follow, filterKey, page.data]);

  // New rows above the one the reader was looking at push it down: scroll by as much, so it stays where it was.
  useLayoutEffect(() => {
    const a = anchor.current;
    anchor.current = null;
    if (!a) return;
    const row = document.querySelector(`tr[data-event="${CSS.escape(a.id)}"]`);
    if (row) window.scrollBy(0, row.getBoundingClientRect().top - a.top);
  }, [fresh]);

  const toggle = (id: string) =>
    setOpen((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
  const kindHref = (kind: string) => {
    const q = new URLSearchParams(query);
    q.set('kind', kind);
    q.delete('token');
    return '/events?' + q.toString();
  };
  const range = query.get('range') ?? (query.get('since') || until ? 'custom' : '');

  return (
    <section aria-labelledby="events-title">
      <div className="title-row">
        <h1 id="events-title">Events</h1>
        <span className="muted" aria-live="polite">
          {page.data ? `${events.length} shown${follow ? ' · following' : ''}${fresh.length ? ` · ${fresh.length} new` : ''}` : ''}
        </span>
      </div>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <label>
          Kind starts with
          <input
            key={'k' + (query.get('kind') ?? '')}
            name="kind"
            list="event-kinds"
            defaultValue={query.get('kind') ?? ''}
            placeholder="any (flow-run.Failed)"
            onKeyDown={(e) => e.key === 'Enter' && setQuery({ kind: e.currentTarget.value.trim(), token: null })}
            onBlur={(e) => e.currentTarget.value.trim() !== (query.get('kind') ?? '') && setQuery({ kind: e.currentTarget.value.trim(), token: null })}
          />
          <datalist id="event-kinds">
            {KINDS.map((k) => (
              <option key={k} value={k} />
            ))}
          </datalist>
        </label>
        <label>
          Resource
          <input
            key={'r' + (query.get('resource') ?? '')}
            name="resource"
            defaultValue={query.get('resource') ?? ''}
            placeholder="any (flow-run/…, deployment/…)"
            onKeyDown={(e) => e.key === 'Enter' && setQuery({ resource: e.currentTarget.value.trim(), token: null })}
            onBlur={(e) => e.currentTarget.value.trim() !== (query.get('resource') ?? '') && setQuery({ resource: e.currentTarget.value.trim(), token: null })}
          />
        </label>
        <label>
          Time
          <select
            value={range}
            onChange={(e) =>
              setQuery(
                e.target.value === 'custom'
                  ? { range: null, since: query.get('since') ?? new Date(Date.now() - 3600e3).toISOString(), token: null }
                  : { range: e.target.value, since: null, until: null, token: null },
              )
            }
          >
            <option value="">any time</option>
            <option value="15m">last 15 min</option>
            <option value="1h">last hour</option>
            <option value="24h">last 24 h</option>
            <option value="7d">last 7 days</option>
            <option value="30d">last 30 days</option>
            <option value="custom">between…</option>
          </select>
        </label>
        {range === 'custom' && (
          <>
            <label>
              From
              <input type="datetime-local" key={'s' + query.get('since')} defaultValue={toLocalInput(query.get('since'))} onChange={(e) => e.currentTarget.validity.valid && setQuery({ since: fromLocalInput(e.currentTarget.value), token: null })} />
            </label>
            <label>
              To
              <input type="datetime-local" key={'u' + until} defaultValue={toLocalInput(until)} onChange={(e) => e.currentTarget.validity.valid && setQuery({ until: fromLocalInput(e.currentTarget.value), token: null })} />
            </label>
          </>
        )}
        <label className="check" title={canFollow ? 'Show new events as they happen' : 'Only on the newest page, without an end time in the past'}>
          <input type="checkbox" checked={follow} disabled={!canFollow} onChange={(e) => setQuery({ follow: e.target.checked ? '1' : null })} /> Follow
        </label>
      </form>
      {page.error && (
        <p className="error" role="alert">
          {page.error.message}
        </p>
      )}
      {followError && <p className="error">{followError}</p>}
      <div className="table-wrap">
        <table className="events">
          <thead>
            <tr>
              <th>
                <span className="sr-only">Details</span>
              </th>
              <th>Time</th>
              <th>Kind</th>
              <th>Resource</th>
              <th className="hide-narrow">Related</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <EventRow key={e.id} event={e} open={open.has(e.id)} onToggle={() => toggle(e.id)} kindHref={kindHref(e.kind)} />
            ))}
          </tbody>
        </table>
        {page.data && events.length === 0 && <p className="empty">No events match.</p>}
        {!page.data && !page.error && <p className="empty">Loading…</p>}
      </div>
      <Pager query={query} next={page.data?.continuationToken} clearTo="/events" olderAlso={{ follow: null }} />
    </section>
  );
}
