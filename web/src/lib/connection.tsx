import { createContext, useContext, useEffect, useMemo, useSyncExternalStore, type ReactNode } from 'react';
import { Client, Provider, cacheExchange, fetchExchange, subscriptionExchange } from 'urql';
import { createClient as createWSClient, type Client as WSClient } from 'graphql-ws';
import { apiBase, type Session } from './session';

/**
 * The state of the live connection (the WebSocket that carries every
 * subscription): live while it is open and acknowledged, reconnecting while
 * graphql-ws retries after a loss, offline when the browser has no network
 * or the server refused the sign-in.
 */
export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'offline';

/**
 * A small observable of the connection state, for useSyncExternalStore. It
 * keeps what the socket does (set by graphql-ws's events) apart from what
 * is shown, which also depends on the browser being online and on the
 * server having accepted the token.
 */
export class ConnectionStatus {
  private socket: 'connecting' | 'live' = 'connecting';
  private everConnected = false;
  private shown: ConnectionState = 'connecting';
  private listeners = new Set<() => void>();
  /** Set when the server refused the token (close code 4403). */
  refused = false;

  get = (): ConnectionState => this.shown;

  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  /** Records what the socket did: connecting (or closed), or live (acknowledged). */
  set(socket: 'connecting' | 'live'): void {
    this.socket = socket;
    if (socket === 'live') this.everConnected = true;
    this.update();
  }

  /** Recomputes the state shown (call it when the browser goes on- or offline). */
  update(): void {
    const online = typeof navigator === 'undefined' || navigator.onLine;
    let state: ConnectionState;
    if (this.refused || !online) state = 'offline';
    else if (this.socket === 'live') state = 'live';
    else state = this.everConnected ? 'reconnecting' : 'connecting';
    if (state === this.shown) return;
    this.shown = state;
    this.listeners.forEach((l) => l());
  }
}

export interface Connection {
  client: Client;
  ws: WSClient;
  status: ConnectionStatus;
}

/** The close code with which the server refuses a connection_init. */
const closeAuthFailed = 4403;

/**
 * createConnection builds the GraphQL clients of a session: urql over HTTP
 * for queries and mutations, and graphql-ws (the graphql-transport-ws
 * protocol) for subscriptions, the token sent as Authorization on HTTP and
 * in connection_init. graphql-ws connects at once (not lazily), so the
 * state badge is true even without a subscription, and retries forever
 * with a capped back-off, except when the server refused the token.
 */
export function createConnection(session: Session): Connection {
  const status = new ConnectionStatus();
  const url = new URL('/query', apiBase);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = createWSClient({
    url: url.toString(),
    lazy: false,
    connectionParams: { Authorization: `Bearer ${session.token}` },
    retryAttempts: Number.POSITIVE_INFINITY,
    retryWait: async (retries) => {
      await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** retries, 3000)));
    },
    shouldRetry: (e) => {
      const code = (e as { code?: number } | null)?.code;
      if (code === closeAuthFailed) {
        status.refused = true;
        status.update();
        return false;
      }
      return true;
    },
    keepAlive: 10_000,
    on: {
      connecting: () => status.set('connecting'),
      connected: () => status.set('live'),
      closed: () => status.set('connecting'),
    },
  });
  const client = new Client({
    url: url.toString().replace(/^ws/, 'http'),
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? '' };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
    fetchOptions: () => ({ headers: { Authorization: `Bearer ${session.token}` } }),
    requestPolicy: 'cache-and-network',
  });
  return { client, ws, status };
}

const ConnectionContext = createContext<Connection | null>(null);

/** Provides the session's connection (urql's Provider included) to its subtree. */
export function ConnectionProvider({ session, children }: { session: Session; children: ReactNode }) {
  const conn = useMemo(() => createConnection(session), [session]);
  useEffect(() => {
    const update = () => conn.status.update();
    window.addEventListener('online', update);
    window.addEventListener('offline', update);
    return () => {
      window.removeEventListener('online', update);
      window.removeEventListener('offline', update);
      void conn.ws.dispose();
    };
  }, [conn]);
  return (
    <ConnectionContext.Provider value={conn}>
      <Provider value={conn.client}>{children}</Provider>
    </ConnectionContext.Provider>
  );
}

/** The current session's connection. */
export function useConnection(): Connection {
  const c = useContext(ConnectionContext);
  if (!c) throw new Error('useConnection outside ConnectionProvider');
  return c;
}

/** The live connection's state, re-rendering on change. */
export function useConnectionState(): ConnectionState {
  const { status } = useConnection();
  return useSyncExternalStore(status.subscribe, status.get);
}
