// The event list's order (newest first; events of the same time by id) with the API's microsecond times, and which events a
// follow poll may add to a page without showing ones that merely fell beyond the page's end.
import type { FlowEvent } from './api/types';

/** Microseconds since 1970 of an ISO 8601 time with up to 7 fractional digits (Date.parse keeps milliseconds only). */
export function micros(iso: string): number {
  const ms = Date.parse(iso);
  const fraction = /\.(\d+)/.exec(iso)?.[1] ?? '';
  return ms * 1000 + Number(fraction.padEnd(6, '0').slice(3, 6));
}

/** Newest first; events of the same time by id (ordinal), as the API orders them. */
export function compareEvents(a: FlowEvent, b: FlowEvent): number {
  const d = micros(b.occurredAt) - micros(a.occurredAt);
  return d !== 0 ? d : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * The events of a poll that belong in the list: not shown yet, and — when the shown page has older pages after it — later
 * than the oldest event shown (an unshown event at or before it may just be on the next page).
 */
export function newcomers(polled: FlowEvent[], shown: FlowEvent[], morePages: boolean): FlowEvent[] {
  const ids = new Set(shown.map((e) => e.id));
  const oldest = shown.length ? micros(shown[shown.length - 1].occurredAt) : -Infinity;
  const seen = new Set<string>();
  return polled.filter((e) => {
    if (ids.has(e.id) || seen.has(e.id)) return false;
    seen.add(e.id);
    return !morePages || micros(e.occurredAt) > oldest;
  });
}
