// An automation's trigger and actions in words, for the list and the detail page
// ("when flow-run.Failed for deployment daily-etl/daily"; "expect flow-run.Completed within 30 min after flow-run.Running").
import type { AutomationAction, AutomationTrigger } from './api/types';

/** Seconds as "90 s", "30 min", "1 h 30 min", "26 h", "2 d". */
export function seconds(s: number): string {
  if (s < 120 && s % 60 !== 0) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48 || h % 24 !== 0) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  return `${h / 24} d`;
}

function kinds(patterns: string[] | null | undefined): string {
  const list = patterns ?? [];
  const yes = list.filter((p) => !p.startsWith('!'));
  const no = list.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
  let text = yes.length ? yes.join(' or ') : 'any event';
  if (no.length) text += ' (not ' + no.join(', ') + ')';
  return text;
}

function scope(t: AutomationTrigger): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(t.match ?? {})) {
    const negated = v.startsWith('!');
    const value = negated ? v.slice(1) : v;
    parts.push((negated ? 'not ' : '') + (k === 'id' ? 'for ' + value : `for ${k} ${value}`));
  }
  for (const r of t.matchRelated ?? []) {
    const id = r.id ?? '*';
    parts.push(id.startsWith('!') ? `not related to ${id.slice(1)}` : `related to ${id}`);
  }
  return parts.length ? ' ' + parts.join(', ') : '';
}

function each(t: AutomationTrigger): string {
  if (!t.forEach) return '';
  return t.forEach === 'id' ? ', per resource' : `, per ${t.forEach}`;
}

/** The trigger in one sentence. */
export function triggerSummary(t: AutomationTrigger): string {
  const within = t.within ?? 0;
  if (t.posture === 'proactive') {
    if (t.after?.length) return `expect ${kinds(t.expect)} within ${seconds(within)} after ${kinds(t.after)}${scope(t)}${each(t)}`;
    return `expect ${kinds(t.expect)}${scope(t)} at least every ${seconds(within)}${each(t)}`;
  }
  const threshold = t.threshold ?? 1;
  const count = threshold > 1 ? ` ${threshold} times${within ? ' within ' + seconds(within) : ''}` : '';
  return `when ${kinds(t.expect)}${scope(t)}${count}${each(t)}`;
}

function host(url?: string | null): string {
  if (!url) return '?';
  try {
    return new URL(url).host || url;
  } catch {
    return url;
  }
}

/** One action in a few words. */
export function actionSummary(a: AutomationAction): string {
  switch (a.type) {
    case 'run-deployment':
      return `run ${a.deployment ?? '?'}`;
    case 'pause-deployment':
    case 'resume-deployment':
      return `${a.type.split('-')[0]} deployment ${a.deployment ?? '?'}`;
    case 'pause-pool':
    case 'resume-pool':
      return `${a.type.split('-')[0]} pool ${a.pool ?? '?'}`;
    case 'cancel-run':
      return `cancel ${a.runId ?? 'the run'}`;
    case 'change-run-state':
      return `mark ${a.runId ?? 'the run'} ${a.state ?? '?'}`;
    case 'send-event':
      return `send event ${a.kind ?? '?'}`;
    case 'call-webhook':
      return `call webhook ${host(a.url)}${a.secret ? ' (signed)' : ''}`;
    case 'queue-message':
      return `queue a message on ${a.queue ?? '?'}`;
    default:
      return a.type ?? '?';
  }
}

export function actionsSummary(actions: AutomationAction[]): string {
  return actions.length ? actions.map(actionSummary).join('; ') : 'no actions';
}
