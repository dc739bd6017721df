import { describe, expect, it } from 'vitest';
import type { Client as WSClient, Sink } from 'graphql-ws';
import { followOperations, type OperationEdge } from './feed';

// A stand-in for graphql-ws's client that records each subscribe call and
// lets the test close "the socket", as graphql-ws would on a lost
// connection (it then re-sends the subscriptions it still has, unchanged).
function fakeWS() {
  const subs: { variables: Record<string, unknown>; sink: Sink; active: boolean }[] = [];
  const closed = new Set<() => void>();
  const ws = {
    subscribe(payload: { variables: Record<string, unknown> }, sink: Sink) {
      const s = { variables: { ...payload.variables }, sink, active: true };
      subs.push(s);
      return () => {
        s.active = false;
      };
    },
    on(event: string, l: () => void) {
      if (event === 'closed') closed.add(l);
      return () => closed.delete(l);
    },
  } as unknown as WSClient;
  return { ws, subs, close: () => closed.forEach((l) => l()) };
}

const edge = (version: number): OperationEdge => ({
  cursor: `c${version}`,
  node: {
    kind: 'CREDIT',
    amount: { amount: '1.00', currency: 'EUR' },
    balanceAfter: { amount: `${version}.00` },
    description: '',
    version,
    recordedAt: '2026-12-01T00:00:00Z',
  },
});

describe('followOperations', () => {
  it('resubscribes after a lost connection from the last cursor it received', () => {
    const { ws, subs, close } = fakeWS();
    const seen: number[] = [];
    const stop = followOperations(ws, 'acc', null, (e) => seen.push(e.node.version), () => {});
    expect(subs).toHaveLength(1);
    expect(subs[0].variables).toEqual({ id: 'acc', after: null });
    subs[0].sink.next({ data: { accountOperations: edge(1) } });
    subs[0].sink.next({ data: { accountOperations: edge(2) } });
    close();
    // The old subscription (which graphql-ws would re-send with after: null,
    // replaying 1 and 2) is ended; a new one starts after c2.
    expect(subs[0].active).toBe(false);
    expect(subs).toHaveLength(2);
    expect(subs[1].variables).toEqual({ id: 'acc', after: 'c2' });
    subs[1].sink.next({ data: { accountOperations: edge(3) } });
    expect(seen).toEqual([1, 2, 3]);
    stop();
    expect(subs[1].active).toBe(false);
    close();
    expect(subs).toHaveLength(2);
  });

  it('reports a GraphQL error instead of an edge', () => {
    const { ws, subs } = fakeWS();
    const errors: string[] = [];
    followOperations(ws, 'acc', null, () => {}, (m) => errors.push(m));
    subs[0].sink.next({ errors: [{ message: 'account not found' }] } as never);
    expect(errors).toEqual(['account not found']);
  });
});
