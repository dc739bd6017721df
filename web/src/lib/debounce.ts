import { useEffect, useRef, useState } from 'react';

/** The value, once it has not changed for `ms` milliseconds (the first one at once). */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    if (Object.is(value, settled)) return;
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, settled, ms]);
  return settled;
}

/**
 * Calls `effect` each time `value` changes after the first render (not on
 * mount): "read again when the live version moves".
 */
export function useOnChange<T>(value: T, effect: () => void): void {
  const last = useRef(value);
  const run = useRef(effect);
  run.current = effect;
  useEffect(() => {
    if (Object.is(last.current, value)) return;
    last.current = value;
    run.current();
  }, [value]);
}
