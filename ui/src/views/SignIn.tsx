import { useState, type FormEvent } from 'react';
import { probe, setKey } from '../api/client';

export function SignIn({ message, onSignedIn }: { message: string | null; onSignedIn: () => void }) {
  const [key, setValue] = useState('');
  const [error, setError] = useState<string | null>(message);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    const problem = await probe(key.trim());
    setBusy(false);
    if (problem === null) {
      setKey(key.trim());
      onSignedIn();
    } else setError(problem);
  };
  return (
    <main className="signin">
      <form onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in to Flow</h1>
        <p>Enter the API key (Flow:App:ApiKey), or a function key under Azure Functions. It is kept for this browser tab only.</p>
        <label htmlFor="api-key">API key</label>
        <input id="api-key" type="password" autoComplete="current-password" value={key} onChange={(e) => setValue(e.target.value)} autoFocus required aria-invalid={error ? true : undefined} aria-describedby={error ? 'signin-error' : undefined} />
        {error && (
          <p id="signin-error" className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy || key.trim() === ''}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
