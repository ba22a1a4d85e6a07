// An event's resource id (`flow-run/{id}`, `deployment/{flow}/{name}`, `work-pool/{pool}`) as a link to the dashboard's page
// for it, where there is one, and a link to the events of that resource.
import { Link } from '../router';

/** The dashboard page of a resource id, or null when the dashboard has none. */
export function resourceHref(id: string): string | null {
  const slash = id.indexOf('/');
  if (slash < 0) return null;
  const kind = id.slice(0, slash);
  const rest = id.slice(slash + 1);
  if (!rest) return null;
  if (kind === 'flow-run') return '/runs/' + encodeURIComponent(rest);
  if (kind === 'deployment' && rest.split('/').length === 2) return '/deployments/' + rest.split('/').map(encodeURIComponent).join('/');
  if (kind === 'work-pool') return '/work-pools';
  if (kind === 'automation') return '/automations/' + encodeURIComponent(rest);
  return null;
}

/** The Events view filtered to one resource (its own events and those it is related to). */
export function eventsHref(resource: string, extra?: Record<string, string>): string {
  return '/events?' + new URLSearchParams({ resource, ...extra }).toString();
}

export function ResourceLink({ id }: { id: string }) {
  const href = resourceHref(id);
  return (
    <span className="resource">
      {href ? (
        <Link href={href} className="mono">
          {id}
        </Link>
      ) : (
        <span className="mono">{id}</span>
      )}{' '}
      <Link href={eventsHref(id)} className="small" aria-label={'Events of ' + id}>
        events
      </Link>
    </span>
  );
}
