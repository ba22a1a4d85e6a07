// Server paging for newest-first lists: Older follows the continuation token (a new history entry, so Back is Newer), and a
// link clears the filters.
import { navigate, setQuery } from '../router';

export function Pager({ query, next, clearTo, olderAlso }: { query: URLSearchParams; next?: string | null; clearTo: string; olderAlso?: Record<string, string | null> }) {
  return (
    <div className="pager">
      <button type="button" disabled={!query.get('token')} onClick={() => window.history.back()}>
        ← Newer
      </button>
      <button type="button" disabled={!next} onClick={() => setQuery({ ...olderAlso, token: next! }, false)}>
        Older →
      </button>
      <button type="button" className="link" onClick={() => navigate(clearTo)}>
        Clear filters
      </button>
    </div>
  );
}
