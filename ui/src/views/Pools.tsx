import { useState } from 'react';
import { get, send } from '../api/client';
import type { Schemas } from '../api/client';
import { StateBadge } from '../components/StateBadge';
import { usePoll } from '../hooks';
import { Link } from '../router';

type PoolStatus = Schemas['PoolStatusView'];

export function PoolTable({ pools, onChange }: { pools: PoolStatus[]; onChange?: () => void }) {
  const [notice, setNotice] = useState<string | null>(null);
  const toggle = async (p: PoolStatus) => {
    try {
      await send('POST', `/api/work-pools/${encodeURIComponent(p.name)}/${p.paused ? 'resume' : 'pause'}`);
      setNotice(`${p.name} ${p.paused ? 'resumed' : 'paused'}.`);
      onChange?.();
    } catch (e) {
      setNotice((e as Error).message);
    }
  };
  return (
    <>
      {notice && <p className="notice" role="status">{notice}</p>}
      <div className="table-wrap">
        <table className="pools">
          <thead>
            <tr>
              <th>Pool</th>
              <th className="hide-narrow">Type</th>
              <th>Slots in use</th>
              <th>Queued</th>
              <th className="hide-narrow">Paused runs</th>
              <th>Status</th>
              {onChange && <th />}
            </tr>
          </thead>
          <tbody>
            {pools.map((p) => (
              <tr key={p.name} data-pool={p.name}>
                <td>
                  {p.name}
                  {p.description && <div className="muted small">{p.description}</div>}
                </td>
                <td className="hide-narrow">{p.type}</td>
                <td>
                  {p.running} / {p.concurrencyLimit ?? '∞'}
                </td>
                <td>
                  <Link href="/runs?state=Pending">{p.queued}</Link>
                </td>
                <td className="hide-narrow">{p.waiting}</td>
                <td>{p.paused ? <StateBadge state="Paused" /> : 'ready'}</td>
                {onChange && (
                  <td>
                    <button type="button" onClick={() => toggle(p)} aria-label={(p.paused ? 'Resume ' : 'Pause ') + p.name}>
                      {p.paused ? 'Resume' : 'Pause'}
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

export function Pools() {
  const pools = usePoll((signal) => get<PoolStatus[]>('/api/work-pools/status', signal), 'pools', 5000);
  return (
    <section aria-labelledby="pools-title">
      <h1 id="pools-title">Work pools</h1>
      {pools.error && <p className="error">{pools.error.message}</p>}
      {pools.data && <PoolTable pools={pools.data} onChange={pools.reload} />}
    </section>
  );
}
