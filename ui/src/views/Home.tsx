import { useEffect, useRef } from 'react';
import { BarChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { get } from '../api/client';
import type { Schemas } from '../api/client';
import type { RunPage, RunStats } from '../api/types';
import { ago, time } from '../format';
import { usePoll } from '../hooks';
import { Link, setQuery, useLocation } from '../router';
import { PoolTable } from './Pools';

echarts.use([BarChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

const COLORS: Record<string, string> = {
  Completed: '#2e9d5b', Cached: '#56b27f', Failed: '#d64545', Crashed: '#a3213b', Late: '#e0a020', Running: '#3b82f6',
  Pending: '#8aa4c8', Scheduled: '#9aa5b1', Paused: '#a66bd3', AwaitingRetry: '#f08c3a', Cancelling: '#777', Cancelled: '#555',
};

function StatsChart({ stats }: { stats: RunStats }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    const dark = window.matchMedia('(prefers-color-scheme: dark)').matches;
    const chart = echarts.init(ref.current, dark ? 'dark' : undefined, { renderer: 'canvas' });
    const states = Object.keys(COLORS).filter((s) => stats.totals[s]);
    const hours = Number(stats.bucketSeconds) < 86400;
    chart.setOption({
      backgroundColor: 'transparent',
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      legend: { top: 0 },
      grid: { left: 40, right: 10, top: 36, bottom: 28 },
      xAxis: {
        type: 'category',
        data: stats.buckets.map((b) => {
          const d = new Date(b.start);
          return hours ? d.toLocaleString(undefined, { weekday: stats.buckets.length > 24 ? 'short' : undefined, hour: '2-digit', minute: '2-digit' }) : d.toLocaleDateString();
        }),
      },
      yAxis: { type: 'value', minInterval: 1 },
      series: states.map((s) => ({ name: s, type: 'bar', stack: 'runs', color: COLORS[s], data: stats.buckets.map((b) => b.counts[s] ?? 0) })),
    });
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, [stats]);
  return <div ref={ref} className="chart" role="img" aria-label="Runs by state over time" />;
}

export default function Home() {
  const { query } = useLocation();
  const win = query.get('window') === '7d' ? '7d' : '24h';
  const from = new Date(Math.floor((Date.now() - (win === '7d' ? 7 * 86400e3 : 86400e3)) / 3600e3) * 3600e3 + 3600e3).toISOString();
  const stats = usePoll((signal) => get<RunStats>(`/api/runs/stats?from=${from}&bucketMinutes=${win === '7d' ? 360 : 60}`, signal), win, 15000);
  const upcoming = usePoll((signal) => get<RunPage>('/api/runs?state=Scheduled&pageSize=10', signal), 'upcoming', 15000);
  const pools = usePoll((signal) => get<Schemas['PoolStatusView'][]>('/api/work-pools/status', signal), 'pools', 15000);
  const totals = stats.data?.totals ?? {};
  return (
    <section aria-labelledby="home-title">
      <div className="title-row">
        <h1 id="home-title">Overview</h1>
        <div className="segmented" role="group" aria-label="Window">
          <button type="button" aria-pressed={win === '24h'} onClick={() => setQuery({ window: null })}>
            24 h
          </button>
          <button type="button" aria-pressed={win === '7d'} onClick={() => setQuery({ window: '7d' })}>
            7 d
          </button>
        </div>
      </div>
      <div className="counters">
        {(['Failed', 'Crashed', 'Late'] as const).map((s) => (
          <Link key={s} href={'/runs?state=' + s + '&range=' + win} className={'counter state-' + s}>
            <span className="n">{totals[s] ?? 0}</span> {s}
          </Link>
        ))}
        <Link href={'/runs?range=' + win} className="counter">
          <span className="n">{Object.values(totals).reduce<number>((a, b) => a + Number(b), 0)}</span> runs
        </Link>
      </div>
      <div className="card">{stats.data ? <StatsChart stats={stats.data} /> : stats.error ? <p className="error">{stats.error.message}</p> : <div className="chart" />}</div>
      <div className="grid2">
        <div className="card">
          <h2>Upcoming runs</h2>
          {upcoming.data?.runs.length ? (
            <ul>
              {upcoming.data.runs
                .slice()
                .sort((a, b) => Date.parse(a.scheduledAt) - Date.parse(b.scheduledAt))
                .map((r) => (
                  <li key={r.id}>
                    <Link href={'/runs/' + encodeURIComponent(r.id)}>{r.deployment ?? r.flow}</Link> <span className="muted" title={time(r.scheduledAt)}>{ago(r.scheduledAt)}</span>
                  </li>
                ))}
            </ul>
          ) : (
            <p className="muted">Nothing scheduled.</p>
          )}
        </div>
        <div className="card">
          <h2>Work pools</h2>
          {pools.data && <PoolTable pools={pools.data} />}
        </div>
      </div>
    </section>
  );
}
