import { useEffect, useState } from 'react';

/** The app's pages, by path under the base (/app/). */
export type Page = 'payments' | 'accounts' | 'catalog' | 'orders';
export const pages: { page: Page; title: string }[] = [
  { page: 'payments', title: 'Payments' },
  { page: 'accounts', title: 'Accounts' },
  { page: 'catalog', title: 'Catalog' },
  { page: 'orders', title: 'Orders' },
];

const base = import.meta.env.BASE_URL; // "/app/"

function current(): Page {
  const name = window.location.pathname.slice(base.length).split('/')[0];
  return pages.some((p) => p.page === name) ? (name as Page) : 'payments';
}

/** The page the address names, and a function to go to another (history API). */
export function useRoute(): [Page, (p: Page) => void] {
  const [page, setPage] = useState<Page>(current);
  useEffect(() => {
    const onPop = () => setPage(current());
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const go = (p: Page) => {
    window.history.pushState(null, '', base + p);
    setPage(p);
  };
  return [page, go];
}

/** The href of a page. */
export const hrefOf = (p: Page): string => base + p;

/**
 * The value of a search parameter of the address (`?account=<id>`), and a
 * function to set it (replacing the history entry): what a page has
 * selected, so a reload or a second window opens the same.
 */
export function useSearchParam(name: string): [string | null, (value: string) => void] {
  const [value, setValue] = useState<string | null>(() => new URLSearchParams(window.location.search).get(name));
  const set = (v: string) => {
    const url = new URL(window.location.href);
    url.searchParams.set(name, v);
    window.history.replaceState(null, '', url);
    setValue(v);
  };
  return [value, set];
}
