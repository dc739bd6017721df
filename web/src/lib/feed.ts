import { useEffect, useState } from 'react';
import { print } from 'graphql';
import type { Client as WSClient } from 'graphql-ws';
import { OperationsSubscription } from './operations';
import type { AccountOperationsSubscription } from '../gql/graphql';

export type OperationEdge = AccountOperationsSubscription['accountOperations'];

/**
 * followOperations follows an account's operations feed from the cursor
 * `after` and resumes after every lost connection from the last cursor it
 * received: graphql-ws would re-send the original subscription (with its
 * original cursor) on reconnect, which would replay what was received, so
 * the subscription is ended when the socket closes and started again with
 * the latest cursor. The server sends each operation after the cursor once,
 * in order: nothing is missed or received twice. Returns the stop function.
 */
export function followOperations(
  ws: WSClient,
  id: string,
  after: string | null,
  onEdge: (e: OperationEdge) => void,
  onError: (message: string) => void,
): () => void {
  const query = print(OperationsSubscription);
  let cursor = after;
  let stopped = false;
  let unsubscribe: (() => void) | null = null;
  const start = () => {
    unsubscribe = ws.subscribe<AccountOperationsSubscription>(
      { query, variables: { id, after: cursor } },
      {
        next: (r) => {
          if (r.errors?.length) {
            onError(r.errors[0].message);
            return;
          }
          const edge = r.data?.accountOperations;
          if (!edge) return;
          cursor = edge.cursor;
          onEdge(edge);
        },
        error: () => {},
        complete: () => {},
      },
    );
  };
  const stopClosed = ws.on('closed', () => {
    if (stopped) return;
    unsubscribe?.();
    start(); // waits inside graphql-ws for the next connection
  });
  start();
  return () => {
    stopped = true;
    stopClosed();
    unsubscribe?.();
  };
}

/** The operations of an account, live: every edge once, oldest first. */
export function useOperationsFeed(ws: WSClient, id: string | null): { edges: OperationEdge[]; error: string | null } {
  const [edges, setEdges] = useState<OperationEdge[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setEdges([]);
    setError(null);
    if (!id) return;
    return followOperations(
      ws,
      id,
      null,
      (e) => setEdges((list) => [...list, e]),
      setError,
    );
  }, [ws, id]);
  return { edges, error };
}
