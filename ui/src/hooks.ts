import { useCallback, useEffect, useRef, useState } from 'react';

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  reload: () => void;
}

/** Loads with `load`, again whenever `key` changes, and every `intervalMs` (when given) while the tab is visible. */
export function usePoll<T>(load: (signal: AbortSignal) => Promise<T>, key: string, intervalMs?: number): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<Error>();
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const lastKey = useRef(key);
  useEffect(() => {
    if (lastKey.current !== key) {
      lastKey.current = key;
      setData(undefined);
    }
    const controller = new AbortController();
    loadRef
      .current(controller.signal)
      .then((d) => {
        if (!controller.signal.aborted) {
          setData(d);
          setError(undefined);
        }
      })
      .catch((e: Error) => {
        if (!controller.signal.aborted) setError(e);
      });
    return () => controller.abort();
  }, [key, tick]);
  useEffect(() => {
    if (!intervalMs) return;
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') setTick((t) => t + 1);
    }, intervalMs);
    return () => window.clearInterval(timer);
  }, [intervalMs, key]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, reload };
}
