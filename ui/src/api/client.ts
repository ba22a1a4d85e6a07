// The dashboard's only door to the API: adds the key, remembers ETags (304s cost nothing), turns problems into errors.
import type { components } from './schema';

export type Schemas = components['schemas'];

const KEY = 'flow.apiKey';

export function getKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function setKey(key: string | null): void {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
}

/** A problem+json answer, with the fields at fault. */
export class ApiError extends Error {
  constructor(
    public readonly status: number,
    message: string,
    public readonly errors: Record<string, string[]> = {},
  ) {
    super(message);
  }
}

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

/** Counts requests, for the benchmark (window.__flowRequests). */
declare global {
  interface Window {
    __flowRequests?: number;
  }
}

const etags = new Map<string, { tag: string; body: unknown }>();

function headers(extra?: Record<string, string>): Record<string, string> {
  const h: Record<string, string> = { Accept: 'application/json', ...extra };
  const key = getKey();
  if (key) {
    h['X-Flow-Api-Key'] = key;
    h['x-functions-key'] = key;
  }
  return h;
}

async function fail(response: Response): Promise<never> {
  let message = `${response.status} ${response.statusText}`;
  let errors: Record<string, string[]> = {};
  try {
    const body = await response.json();
    message = body.detail ?? body.title ?? message;
    errors = body.errors ?? {};
  } catch {
    /* not JSON */
  }
  if (response.status === 401) unauthorizedListeners.forEach((l) => l());
  throw new ApiError(response.status, message, errors);
}

export async function get<T>(path: string, signal?: AbortSignal): Promise<T> {
  window.__flowRequests = (window.__flowRequests ?? 0) + 1;
  const cached = etags.get(path);
  const response = await fetch(path, {
    headers: headers(cached ? { 'If-None-Match': cached.tag } : undefined),
    signal,
  });
  if (response.status === 304 && cached) return cached.body as T;
  if (!response.ok) return fail(response);
  const body = (await response.json()) as T;
  const tag = response.headers.get('ETag');
  if (tag) {
    if (etags.size > 200) etags.clear();
    etags.set(path, { tag, body });
  }
  return body;
}

export async function send<T>(method: string, path: string, body?: unknown): Promise<T> {
  window.__flowRequests = (window.__flowRequests ?? 0) + 1;
  const response = await fetch(path, {
    method,
    headers: headers(body === undefined ? undefined : { 'Content-Type': 'application/json' }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) return fail(response);
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Checks a key: null when it works, else the reason (a wrong key, or anonymous access refused). */
export async function probe(key: string | null): Promise<string | null> {
  const h: Record<string, string> = { Accept: 'application/json' };
  if (key) {
    h['X-Flow-Api-Key'] = key;
    h['x-functions-key'] = key;
  }
  const response = await fetch('/api/work-pools', { headers: h });
  if (response.ok) return null;
  if (response.status === 401 || response.status === 403) {
    try {
      const body = await response.json();
      return key ? 'That key was refused: ' + (body.detail ?? 'wrong key') : body.detail ?? 'An API key is required.';
    } catch {
      return key ? 'That key was refused.' : 'An API key is required.';
    }
  }
  return `The API answered ${response.status}.`;
}
