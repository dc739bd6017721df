import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, render, renderHook, screen } from '@testing-library/react';
import { Provider, type Client } from 'urql';
import { fromValue, makeSubject } from 'wonka';
import { print } from 'graphql';
import { Catalog } from './Catalog';
import { useRefreshEvery } from '../lib/refresh';

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

const product = (n: number) => ({
  id: `p${n}`, sku: `BK-${n}`, title: `Book ${n}`, category: 'books', description: '', price: { amount: '10.00', currency: 'EUR' },
  attributes: { author: 'Ursula K. Le Guin', pages: 100 + n }, status: 'ACTIVE', version: 1, addedAt: '2026-12-01T10:00:00Z',
  updatedAt: '2026-12-01T10:00:00Z', stock: { productId: `p${n}`, onHand: 0, reserved: 0, available: 0, version: 0 },
});

/** A catalog server in a urql client: the products it holds, and productAdded pushes by hand. */
function fakeCatalog() {
  const products = [product(1)];
  const added = makeSubject<unknown>();
  const policies: string[] = [];
  const client = {
    executeQuery: vi.fn((req: { query: Parameters<typeof print>[0] }, opts?: { requestPolicy?: string }) => {
      const q = print(req.query);
      if (q.includes('products(')) {
        policies.push(opts?.requestPolicy ?? 'default');
        return fromValue({ operation: req, stale: false, hasNext: false, data: { products: { edges: products.map((node) => ({ node })), pageInfo: { hasNextPage: false, endCursor: null } } } });
      }
      return fromValue({ operation: req, stale: false, hasNext: false, data: { categories: [{ name: 'books', productCount: products.length }] } });
    }),
    executeSubscription: vi.fn((req: { query: Parameters<typeof print>[0] }) => {
      if (print(req.query).includes('productAdded')) return added.source;
      return makeSubject().source; // stockChanged: quiet
    }),
    executeMutation: vi.fn(),
  };
  const push = (n: number) => {
    const p = product(n);
    products.unshift(p);
    added.next({ operation: {}, stale: false, hasNext: true, data: { productAdded: p } });
  };
  return { client: client as unknown as Client, push, policies };
}

describe('Catalog', () => {
  it('shows a book added elsewhere at once: productAdded makes the list and the counts read again', async () => {
    const { client, push, policies } = fakeCatalog();
    render(
      <Provider value={client}>
        <Catalog />
      </Provider>,
    );
    await screen.findByText('Book 1');
    expect(screen.getByRole('button', { name: 'books 1' })).toBeTruthy();
    act(() => push(2));
    expect(await screen.findByText('Book 2')).toBeTruthy();
    expect(policies).toContain('network-only');
    expect(screen.getByRole('button', { name: 'books 2' })).toBeTruthy();
    // Marked as new, the older one not.
    expect(screen.getByText('Book 2').closest('tr')?.className).toBe('fresh');
    expect(screen.getByText('Book 1').closest('tr')?.className).toBe('');
  });
});

describe('useRefreshEvery', () => {
  it('calls back every interval while the page is visible, not while hidden', () => {
    vi.useFakeTimers();
    const refresh = vi.fn();
    let state: DocumentVisibilityState = 'visible';
    vi.spyOn(document, 'visibilityState', 'get').mockImplementation(() => state);
    const { unmount } = renderHook(() => useRefreshEvery(refresh, 1000));
    vi.advanceTimersByTime(3000);
    expect(refresh).toHaveBeenCalledTimes(3);
    state = 'hidden';
    vi.advanceTimersByTime(3000);
    expect(refresh).toHaveBeenCalledTimes(3);
    state = 'visible';
    document.dispatchEvent(new Event('visibilitychange'));
    expect(refresh).toHaveBeenCalledTimes(4);
    unmount();
    vi.advanceTimersByTime(3000);
    expect(refresh).toHaveBeenCalledTimes(4);
  });
});
