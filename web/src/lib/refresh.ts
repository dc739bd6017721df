import { useEffect, useRef } from 'react';

/**
 * useRefreshEvery calls `refresh` every `ms` milliseconds while the page is
 * visible (and once when it becomes visible again). It keeps the lists
 * that the API has no organization-wide subscription for (accounts,
 * orders) in step with other windows: a new account or order shows within
 * `ms`. Entities that are open on the page follow their own subscriptions.
 */
export function useRefreshEvery(refresh: () => void, ms: number): void {
  const latest = useRef(refresh);
  latest.current = refresh;
  useEffect(() => {
    const visible = () => typeof document === 'undefined' || document.visibilityState === 'visible';
    const tick = () => {
      if (visible()) latest.current();
    };
    const timer = setInterval(tick, ms);
    const onVisible = () => visible() && latest.current();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [ms]);
}
