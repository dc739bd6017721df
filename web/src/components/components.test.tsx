import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen, act } from '@testing-library/react';
import { ConnectionStatus } from '../lib/connection';
import { seriesPoints } from '../lib/analytics';
import { useSyncExternalStore } from 'react';

afterEach(cleanup);

function Badge({ status }: { status: ConnectionStatus }) {
  const s = useSyncExternalStore(status.subscribe, status.get);
  return <span role="status">{s}</span>;
}

describe('ConnectionStatus', () => {
  it('goes connecting, live, then reconnecting (not connecting) after a loss', () => {
    const status = new ConnectionStatus();
    render(<Badge status={status} />);
    expect(screen.getByRole('status').textContent).toBe('connecting');
    act(() => status.set('live'));
    expect(screen.getByRole('status').textContent).toBe('live');
    act(() => status.set('connecting'));
    expect(screen.getByRole('status').textContent).toBe('reconnecting');
    act(() => status.set('live'));
    expect(screen.getByRole('status').textContent).toBe('live');
  });
  it('is offline while the browser is, and live again after', () => {
    const status = new ConnectionStatus();
    status.set('live');
    const online = vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(false);
    status.update();
    expect(status.get()).toBe('offline');
    online.mockReturnValue(true);
    status.update();
    expect(status.get()).toBe('live');
    online.mockRestore();
  });
  it('is offline once the server refused the sign-in', () => {
    const status = new ConnectionStatus();
    status.refused = true;
    status.set('connecting');
    expect(status.get()).toBe('offline');
  });
});

describe('seriesPoints', () => {
  it('counts processed (refunds included), refunded and failed per bucket', () => {
    const points = seriesPoints({
      from: '', to: '', bucket: 'HOUR',
      totals: { payments: 0, byStatus: [], byCurrency: [] },
      series: [{
        start: '2026-12-01T10:00:00Z',
        totals: {
          payments: 6,
          byStatus: [
            { status: 'INITIATED', count: 1 }, { status: 'PROCESSED', count: 2 }, { status: 'FAILED', count: 1 },
            { status: 'PARTIALLY_REFUNDED', count: 1 }, { status: 'REFUNDED', count: 1 },
          ],
        },
      }],
    });
    expect(points).toEqual([{ start: '2026-12-01T10:00:00Z', payments: 6, processed: 4, refunded: 2, failed: 1 }]);
  });
});
