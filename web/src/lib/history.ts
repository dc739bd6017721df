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
  OrderAtQuery as OrderAt,
  OrderHistoryQuery as OrderHistory,
  PaymentAtQuery as PaymentAt,
  PaymentHistoryQuery as PaymentHistory,
  ProductAtQuery as ProductAt,
  ProductHistoryQuery as ProductHistory,
} from '../gql/graphql';
import {
  AccountAtQuery,
  AccountHistoryQuery,
  OrderAtQuery,
  OrderHistoryQuery,
  PaymentAtQuery,
  PaymentHistoryQuery,
  ProductAtQuery,
  ProductHistoryQuery,
} from './operations';
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

/**
 * stateOf reads an entity at a version into the drawer's state: its
 * version and last change as they were, and its facts.
 */
function stateOf<E extends { version: number; lastChange: LastChange }>(e: E | null | undefined, facts: (e: E) => Fact[]): EntityState | null {
  return e ? { version: e.version, lastChange: e.lastChange, facts: facts(e) } : null;
}

/** Accounts: account(id) { history lastChange } and account(id, atVersion). */
export const accountHistory: HistorySource<AccountHistory, AccountAt> = {
  noun: 'account',
  history: AccountHistoryQuery,
  at: AccountAtQuery,
  entity: (d) => entityOf(d.account),
  state: (d) =>
    stateOf(d.account, (a) => [
      { label: 'Owner', value: a.owner },
      { label: 'Balance', value: formatMoney(a.balance) },
      { label: 'Status', value: a.status },
      { label: 'Updated', value: formatTime(a.updatedAt) },
    ]),
};

/** Payments: payment(id) { history lastChange } and payment(id, atVersion). */
export const paymentHistory: HistorySource<PaymentHistory, PaymentAt> = {
  noun: 'payment',
  history: PaymentHistoryQuery,
  at: PaymentAtQuery,
  entity: (d) => entityOf(d.payment),
  state: (d) =>
    stateOf(d.payment, (p) => [
      { label: 'Customer', value: p.customerName },
      { label: 'Amount', value: formatMoney(p.amount) },
      { label: 'Status', value: p.status },
      { label: 'Refunded', value: formatMoney(p.refunded) },
      ...opt('Failure', p.failureReason),
      ...opt('Order', p.orderId && shortId(p.orderId)),
      { label: 'Updated', value: formatTime(p.updatedAt) },
    ]),
};

const attribute = (attributes: unknown, key: string): string | null => {
  const v = (attributes as Record<string, unknown> | null)?.[key];
  return v === undefined || v === null ? null : String(v);
};

/** Products: product(id) { history lastChange } and product(id, atVersion), its stock as it stood then. */
export const productHistory: HistorySource<ProductHistory, ProductAt> = {
  noun: 'product',
  history: ProductHistoryQuery,
  at: ProductAtQuery,
  entity: (d) => entityOf(d.product),
  state: (d) =>
    stateOf(d.product, (p) => [
      { label: 'Title', value: p.title },
      { label: 'Price', value: formatMoney(p.price) },
      ...opt('Author', attribute(p.attributes, 'author')),
      ...opt('Pages', attribute(p.attributes, 'pages')),
      ...opt('ISBN', attribute(p.attributes, 'isbn')),
      { label: 'Status', value: p.status },
      { label: 'Stock', value: `${p.stock.available} available, ${p.stock.reserved} reserved` },
      { label: 'Updated', value: formatTime(p.updatedAt) },
    ]),
};

/** Orders: order(id) { history lastChange } and order(id, atVersion). */
export const orderHistory: HistorySource<OrderHistory, OrderAt> = {
  noun: 'order',
  history: OrderHistoryQuery,
  at: OrderAtQuery,
  entity: (d) => entityOf(d.order),
  state: (d) =>
    stateOf(d.order, (o) => [
      { label: 'Customer', value: o.customerName },
      { label: 'Total', value: formatMoney(o.total) },
      { label: 'Status', value: o.status },
      ...opt('Reason', o.reason),
      ...opt('Payment', o.paymentId && shortId(o.paymentId)),
      { label: 'Updated', value: formatTime(o.updatedAt) },
    ]),
};
