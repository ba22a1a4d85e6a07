import { lazy, Suspense, useEffect, useRef, useState, type ReactNode } from 'react';
import { getKey, onUnauthorized, probe, setKey } from './api/client';
import { Link, match, useLocation } from './router';
import { SignIn } from './views/SignIn';
import { Runs } from './views/Runs';
import { RunPage } from './views/RunPage';
import { Deployments } from './views/Deployments';
import { DeploymentPage } from './views/DeploymentPage';
import { Pools } from './views/Pools';
import { Refused } from './views/Refused';
import { Events } from './views/Events';
import { Automations } from './views/Automations';
import { AutomationPage } from './views/AutomationPage';

// The home page's chart library loads only on the home page.
const Home = lazy(() => import('./views/Home'));

type Auth = 'checking' | 'ok' | 'needed';

const NAV: [string, string][] = [
  ['/', 'Home'],
  ['/runs', 'Runs'],
  ['/deployments', 'Deployments'],
  ['/work-pools', 'Work pools'],
  ['/events', 'Events'],
  ['/automations', 'Automations'],
  ['/refused', 'Refused requests'],
];

export function App() {
  const location = useLocation();
  const [auth, setAuth] = useState<Auth>('checking');
  const [message, setMessage] = useState<string | null>(null);
  const shownPath = useRef<string | null>(null);

  // After following a link, keyboard and screen-reader users start at the new page's content, not at the top of the
  // document; a change of filters (the query string) keeps the focus where it is.
  useEffect(() => {
    if (auth !== 'ok') return;
    if (shownPath.current !== null && shownPath.current !== location.path) document.getElementById('main')?.focus();
    shownPath.current = location.path;
  }, [auth, location.path]);

  useEffect(() => {
    probe(getKey()).then((problem) => {
      if (problem === null) setAuth('ok');
      else {
        if (getKey()) setMessage(problem);
        setKey(null);
        setAuth('needed');
      }
    });
    return onUnauthorized(() => {
      setKey(null);
      setMessage('The API refused the key; sign in again.');
      setAuth('needed');
    });
  }, []);

  if (auth === 'checking') return <div className="splash">Flow</div>;
  if (auth === 'needed')
    return (
      <SignIn
        message={message}
        onSignedIn={() => {
          setMessage(null);
          setAuth('ok');
        }}
      />
    );

  let view: ReactNode = <p className="empty">No page at {location.path}.</p>;
  let p: Record<string, string> | null;
  if (location.path === '/' || location.path === '') view = <Home />;
  else if (location.path === '/runs') view = <Runs query={location.query} />;
  else if ((p = match('/runs/:id', location.path))) view = <RunPage id={p.id} query={location.query} key={p.id} />;
  else if (location.path === '/deployments') view = <Deployments />;
  else if ((p = match('/deployments/:flow/:name', location.path))) view = <DeploymentPage flow={p.flow} name={p.name} query={location.query} key={p.flow + '/' + p.name} />;
  else if (location.path === '/work-pools') view = <Pools />;
  else if (location.path === '/refused') view = <Refused />;
  else if (location.path === '/events') view = <Events query={location.query} />;
  else if (location.path === '/automations') view = <Automations />;
  else if ((p = match('/automations/:name', location.path))) view = <AutomationPage name={p.name} key={p.name} />;

  const section = '/' + (location.path.split('/')[1] ?? '');
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link href="/" className="brand">
          Flow
        </Link>
        <nav aria-label="Main">
          {NAV.map(([href, label]) => (
            <Link key={href} href={href} aria-current={section === href ? 'page' : undefined}>
              {label}
            </Link>
          ))}
        </nav>
        {getKey() && (
          <button
            className="link"
            onClick={() => {
              setKey(null);
              setAuth('needed');
            }}
          >
            Sign out
          </button>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<p className="empty">Loading…</p>}>{view}</Suspense>
      </main>
    </div>
  );
}
