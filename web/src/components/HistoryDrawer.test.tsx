import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { Provider, type Client } from 'urql';
import { fromValue } from 'wonka';
import { print } from 'graphql';
import { HistoryDrawer } from './HistoryDrawer';
import { accountHistory, changedSince, eventTypes, sliderVersion, toggleType, versionText } from '../lib/history';

afterEach(cleanup);

const change = (type: string, version: number) => ({
  position: 10 + version, eventId: `e${version}`, type, recordedAt: `2026-12-01T10:0${version}:00Z`,
  actor: version === 1 ? 'alice' : 'bob', commandId: `cmd-0000000${version}`, correlationId: `cor-1000000${version}`,
});
const stream = [
  { version: 1, type: 'AccountOpened' },
  { version: 2, type: 'AccountCredited' },
  { version: 3, type: 'AccountDebited' },
];
const balances = ['100.00', '125.50', '120.00'];

/**
 * A urql client that answers the drawer's two queries from the stream
 * above (the history query filtered by `types`, the state at `atVersion`)
 * and records their variables.
 */
function fakeClient() {
  const calls: { query: string; variables: Record<string, unknown> }[] = [];
  const client = {
    executeQuery: vi.fn((req: { query: Parameters<typeof print>[0]; variables: Record<string, unknown> }) => {
      const query = print(req.query);
      const v = req.variables;
      calls.push({ query, variables: v });
      if (query.includes('atVersion')) {
        const n = v.atVersion as number;
        return fromValue({
          operation: req, stale: false, hasNext: false,
          data: { account: {
            id: 'acc', owner: 'Ada', currency: 'EUR', balance: { amount: balances[n - 1], currency: 'EUR' }, status: 'OPEN',
            version: n, openedAt: '2026-12-01T10:01:00Z', updatedAt: `2026-12-01T10:0${n}:00Z`, lastChange: change(stream[n - 1].type, n),
          } },
        });
      }
      const types = v.types as string[] | null;
      const events = stream.filter((e) => !types || types.includes(e.type));
      return fromValue({
        operation: req, stale: false, hasNext: false,
        data: { account: {
          id: 'acc', version: 3, lastChange: change('AccountDebited', 3),
          all: { edges: stream.map((node) => ({ node })) },
          history: {
            edges: events.map((e) => ({ cursor: `c${e.version}`, node: {
              eventId: `e${e.version}`, position: 10 + e.version, version: e.version, type: e.type, schemaVersion: 1,
              recordedAt: `2026-12-01T10:0${e.version}:00Z`, payload: { n: e.version },
              metadata: { actor: 'alice', correlationId: null, causationId: null, commandId: null },
            } })),
            pageInfo: { hasNextPage: false, endCursor: null },
          },
        } },
      });
    }),
    executeMutation: vi.fn(),
    executeSubscription: vi.fn(),
  };
  return { client: client as unknown as Client, calls };
}

const renderDrawer = (onClose = () => {}) => {
  const fake = fakeClient();
  render(
    <Provider value={fake.client}>
      <HistoryDrawer source={accountHistory} id="0193a1b2-0000-7000-8000-00000000abcd" onClose={onClose} />
    </Provider>,
  );
  return fake;
};

describe('HistoryDrawer', () => {
  it('shows the last change, the events, and the entity now', async () => {
    renderDrawer();
    const last = await screen.findByTestId('last-change');
    expect(within(last).getByText('AccountDebited')).toBeTruthy();
    expect(within(last).getByText('bob')).toBeTruthy();
    expect(within(last).getByText('00000003')).toBeTruthy(); // the command id's tail
    expect(screen.getByTestId('history-events').querySelectorAll('li')).toHaveLength(3);
    expect(screen.getByTestId('travel-version').textContent).toBe('As it was at version 3 of 3');
    await waitFor(() => expect(within(screen.getByTestId('travel-state')).getByText('120.00 EUR')).toBeTruthy());
    expect(screen.getByRole('heading', { name: 'History of account 0000abcd' })).toBeTruthy();
  });

  it('travels to an older version, marking what differs from now', async () => {
    const { calls } = renderDrawer();
    const slider = await screen.findByRole('slider');
    expect(slider.getAttribute('aria-valuetext')).toBe('version 3 of 3, AccountDebited');
    fireEvent.change(slider, { target: { value: '1' } });
    expect(slider.getAttribute('aria-valuetext')).toBe('version 1 of 3, AccountOpened');
    const state = await screen.findByText('100.00 EUR');
    expect(state.closest('div')?.className).toBe('changed');
    expect(within(screen.getByTestId('travel-state')).getByText('Ada').closest('div')?.className).toBe('');
    expect(calls.some((c) => c.variables.atVersion === 1)).toBe(true);
    expect(screen.getByText(/Made by AccountOpened by alice/)).toBeTruthy();
    // The event of that version is the current step of the list.
    expect(screen.getByTestId('history-events').querySelector('[aria-current=step]')?.getAttribute('data-version')).toBe('1');
    fireEvent.click(screen.getByRole('button', { name: 'back to now' }));
    expect(screen.getByTestId('travel-version').textContent).toBe('As it was at version 3 of 3');
  });

  it('filters the events by type through the API (history(types:))', async () => {
    const { calls } = renderDrawer();
    fireEvent.click(await screen.findByRole('button', { name: 'AccountCredited' }));
    await waitFor(() => expect(screen.getByTestId('history-events').querySelectorAll('li')).toHaveLength(1));
    expect(calls.at(-1)?.variables.types).toEqual(['AccountCredited']);
    expect(screen.getByRole('button', { name: 'AccountCredited' }).getAttribute('aria-pressed')).toBe('true');
    // The chips stay those of the whole stream.
    expect(screen.getByRole('button', { name: 'AccountOpened' })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'all types' }));
    await waitFor(() => expect(screen.getByTestId('history-events').querySelectorAll('li')).toHaveLength(3));
  });

  it('closes on Escape', async () => {
    const onClose = vi.fn();
    renderDrawer(onClose);
    await screen.findByTestId('last-change');
    act(() => {
      window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }));
    });
    expect(onClose).toHaveBeenCalledOnce();
  });
});

describe('history helpers', () => {
  it('lists each event type once, in stream order', () => {
    expect(eventTypes([{ type: 'B' }, { type: 'A' }, { type: 'B' }])).toEqual(['B', 'A']);
  });
  it('toggles a type in the filter', () => {
    expect(toggleType([], 'A')).toEqual(['A']);
    expect(toggleType(['A', 'B'], 'A')).toEqual(['B']);
  });
  it('follows the latest version until one is picked', () => {
    expect(sliderVersion(null, 7)).toBe(7);
    expect(sliderVersion(3, 7)).toBe(3);
    expect(sliderVersion(9, 7)).toBe(7);
    expect(sliderVersion(0, 7)).toBe(1);
  });
  it('marks the facts that differ', () => {
    const then = [{ label: 'Balance', value: '1' }, { label: 'Owner', value: 'Ada' }];
    expect([...changedSince(then, [{ label: 'Balance', value: '2' }, { label: 'Owner', value: 'Ada' }])]).toEqual(['Balance']);
  });
  it('speaks the slider\'s value with the version\'s event', () => {
    expect(versionText(2, 3, stream)).toBe('version 2 of 3, AccountCredited');
    expect(versionText(4, 4, stream)).toBe('version 4 of 4');
  });
});
