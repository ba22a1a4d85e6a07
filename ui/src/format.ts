export function time(value?: string | null): string {
  if (!value) return '—';
  const d = new Date(value);
  return d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

export function duration(ms?: number | null): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function between(start?: string | null, end?: string | null): number | null {
  if (!start) return null;
  return (end ? Date.parse(end) : Date.now()) - Date.parse(start);
}

function span(s: number): string {
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

/** "5 min ago", or "in 3 h" for a time ahead. */
export function ago(value?: string | null): string {
  if (!value) return '—';
  const s = (Date.now() - Date.parse(value)) / 1000;
  if (s < 0) return -s < 3600 ? 'in ' + duration(-s * 1000) : 'in ' + span(-s);
  return span(s) + ' ago';
}

export const STATES = ['Scheduled', 'Late', 'Pending', 'Running', 'AwaitingRetry', 'Paused', 'Completed', 'Cached', 'Failed', 'Crashed', 'Cancelling', 'Cancelled'];

export const FINAL = new Set(['Completed', 'Cached', 'Failed', 'Crashed', 'Cancelled']);
