// The history drawer's model: what it needs of an entity (its provenance,
// its stored events, its state at a version) whatever the entity is, and
// the sources that read it for each entity type. The drawer
// (components/HistoryDrawer.tsx) is one component; a source is the only
// per-type part: two typed documents and how to read their results.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type {
  AccountAtQuery as AccountAt,
  AccountHistoryQuery as AccountHistory,
  HistoryPageFieldsFragment,
  LastChangeFieldsFragment,
  PaymentAtQuery as PaymentAt,
  PaymentHistoryQuery as PaymentHistory,
} from '../gql/graphql';
import { AccountAtQuery, AccountHistoryQuery, PaymentAtQuery, PaymentHistoryQuery } from './operations';
import { formatMoney, formatTime, shortId } from './format';

export type LastChange = LastChangeFieldsFragment;
export type StoredEvent = HistoryPageFieldsFragment['edges'][number]['node'];

/** One line of an entity's state, as the drawer shows it. */
export interface Fact {
  label: string;
  value: string;
}

/** What the drawer shows of an entity now: read by a source's history query. */
export interface EntityHistory {
  /** The entity's current version (the number of events in its stream). */
  version: number;
  lastChange: LastChange;
  /** Every version's event type, oldest first, unfiltered (for the slider's labels and the type filter). */
  versions: { version: number; type: string }[];
  /** The events shown: only the filter's types, when there is a filter. */
  events: StoredEvent[];
  hasMore: boolean;
}

/** The entity as it was at a version (time travel): read by a source's `at` query. */
export interface EntityState {
  version: number;
  lastChange: LastChange;
  facts: Fact[];
}

/** The variables of a source's history query. */
export interface HistoryVars {
  id: string;
  first: number;
  types?: string[] | null;
}

/** The variables of a source's time-travel query. */
export interface AtVars {
  id: string;
  atVersion: number;
}

/**
 * HistorySource is how the drawer reads one entity type: the query of its
 * history (lastChange, history(first, types) and the unfiltered types) and
 * the query of its state at a version (`atVersion`), with how to read each.
 * H and A are the generated result types of the two queries.
 */
export interface HistorySource<H, A> {
  /** The entity type, in lower case for sentences ("account"). */
  noun: string;
  history: TypedDocumentNode<H, HistoryVars>;
  at: TypedDocumentNode<A, AtVars>;
  entity(data: H): EntityHistory | null;
  state(data: A): EntityState | null;
}

type HistoryShape = {
  version: number;
  lastChange: LastChange;
  all: { edges: { node: { version: number; type: string } }[] };
  history: HistoryPageFieldsFragment;
};

/** entityOf reads the shape every entity's history query shares (see operations.ts). */
export function entityOf(e: HistoryShape | null | undefined): EntityHistory | null {
  if (!e) return null;
  return {
    version: e.version,
    lastChange: e.lastChange,
    versions: e.all.edges.map((x) => x.node),
    events: e.history.edges.map((x) => x.node),
    hasMore: e.history.pageInfo.hasNextPage,
  };
}

/** The distinct event types of a stream, in the order they first occur. */
export function eventTypes(versions: { type: string }[]): string[] {
  return [...new Set(versions.map((v) => v.type))];
}

/** Toggles a type in a filter (an empty filter means every type). */
export function toggleType(filter: string[], type: string): string[] {
  return filter.includes(type) ? filter.filter((t) => t !== type) : [...filter, type];
}

/**
 * The version the time-travel slider stands at: the one picked, or the
 * latest while none is (the slider follows the entity as it changes).
 * A pick past the latest (it cannot be, but a stale one) is the latest.
 */
export function sliderVersion(picked: number | null, latest: number): number {
  if (picked === null || picked > latest) return latest;
  return Math.max(1, picked);
}

/** The labels of the facts that differ between the state then and now. */
export function changedSince(then: Fact[], now: Fact[]): Set<string> {
  const current = new Map(now.map((f) => [f.label, f.value]));
  return new Set(then.filter((f) => current.get(f.label) !== f.value).map((f) => f.label));
}

/** "AccountCredited by alice, 01/12/2026, 10:00:00": the last change in a sentence. */
export function describeChange(c: LastChange): string {
  return `${c.type} by ${c.actor ?? 'an unknown actor'}, ${formatTime(c.recordedAt)}`;
}

/** The slider's spoken value: "version 3 of 5, AccountCredited". */
export function versionText(version: number, latest: number, versions: { version: number; type: string }[]): string {
  const type = versions.find((v) => v.version === version)?.type;
  return `version ${version} of ${latest}${type ? `, ${type}` : ''}`;
}

const opt = (label: string, value: string | null | undefined): Fact[] => (value ? [{ label, value }] : []);

/** Accounts: account(id) { history lastChange } and account(id, atVersion). */
export const accountHistory: HistorySource<AccountHistory, AccountAt> = {
  noun: 'account',
  history: AccountHistoryQuery,
  at: AccountAtQuery,
  entity: (d) => entityOf(d.account),
  state: (d) => {
    const a = d.account;
    if (!a) return null;
    return {
      version: a.version,
      lastChange: a.lastChange,
      facts: [
        { label: 'Owner', value: a.owner },
        { label: 'Balance', value: formatMoney(a.balance) },
        { label: 'Status', value: a.status },
        { label: 'Updated', value: formatTime(a.updatedAt) },
      ],
    };
  },
};

/** Payments: payment(id) { history lastChange } and payment(id, atVersion). */
export const paymentHistory: HistorySource<PaymentHistory, PaymentAt> = {
  noun: 'payment',
  history: PaymentHistoryQuery,
  at: PaymentAtQuery,
  entity: (d) => entityOf(d.payment),
  state: (d) => {
    const p = d.payment;
    if (!p) return null;
    return {
      version: p.version,
      lastChange: p.lastChange,
      facts: [
        { label: 'Customer', value: p.customerName },
        { label: 'Amount', value: formatMoney(p.amount) },
        { label: 'Status', value: p.status },
        { label: 'Refunded', value: formatMoney(p.refunded) },
        ...opt('Failure', p.failureReason),
        ...opt('Order', p.orderId && shortId(p.orderId)),
        { label: 'Updated', value: formatTime(p.updatedAt) },
      ],
    };
  },
};
