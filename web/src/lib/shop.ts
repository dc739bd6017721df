// The shop's page logic, apart from React: the add-a-book form's input,
// the order being put together, and the order's lifecycle in words.
import type { AddProductInput, OrderReason, OrderStatus } from '../gql/graphql';
import { sum, times } from './money';

/** A SKU for a book from its title, as a default the form can edit: "BK-LEFT-HAND-OF-DARKNESS". */
export function skuFromTitle(title: string): string {
  const words = title
    .normalize('NFKD')
    .replace(/[^\p{L}\p{N}\s-]/gu, '')
    .toUpperCase()
    .split(/[\s-]+/)
    .filter((w) => w && !['THE', 'A', 'AN', 'OF'].includes(w));
  return `BK-${words.join('-')}`.slice(0, 64).replace(/-+$/, '');
}

/** The fields of the add-a-book form, as typed. */
export interface BookForm {
  sku: string;
  title: string;
  author: string;
  pages: string;
  isbn: string;
  price: string;
  currency: string;
  description: string;
}

/**
 * bookInput turns the form into addProduct's input (category books; author,
 * pages and isbn in attributes), or says what to fix. The server checks
 * everything again (and the ISBN's check digit): this catches what the
 * form can see, before a round trip.
 */
export function bookInput(f: BookForm): { input: AddProductInput } | { problem: string } {
  const title = f.title.trim();
  if (!title) return { problem: 'The book needs a title' };
  if (!f.author.trim()) return { problem: 'The book needs an author' };
  const pages = Number(f.pages);
  if (!Number.isInteger(pages) || pages < 1 || pages > 100000) return { problem: 'Pages: a whole number from 1 to 100000' };
  if (!/^\d+(\.\d+)?$/.test(f.price.trim()) || Number(f.price) <= 0) return { problem: 'Price: a positive decimal such as 12.50' };
  const attributes: Record<string, string | number> = { author: f.author.trim(), pages };
  const isbn = f.isbn.replace(/[\s-]/g, '');
  if (isbn) attributes.isbn = isbn;
  return {
    input: {
      sku: f.sku.trim() || skuFromTitle(title),
      title,
      category: 'books',
      price: f.price.trim(),
      currency: f.currency.trim().toUpperCase(),
      description: f.description.trim() || null,
      attributes,
    },
  };
}

/** A product as the order form sees it. */
export interface Orderable {
  id: string;
  title: string;
  price: { amount: string; currency: string };
  available: number;
}

/** The order being put together: its lines, total, and what stops it from being placed. */
export interface Draft {
  lines: { productId: string; quantity: number }[];
  total: string | null;
  currency: string | null;
  problem: string | null;
}

/**
 * draftOrder reads the quantities typed per product into an order: lines
 * of positive quantities, their exact total, and a problem when there is
 * none or they mix currencies (the API takes one currency per order).
 * Asking for more than is available is allowed: the fulfilment process
 * rejects the order as OUT_OF_STOCK, which the page then shows.
 */
export function draftOrder(products: Orderable[], quantities: Record<string, number>): Draft {
  const chosen = products.filter((p) => (quantities[p.id] ?? 0) > 0);
  const lines = chosen.map((p) => ({ productId: p.id, quantity: quantities[p.id] }));
  const currencies = [...new Set(chosen.map((p) => p.price.currency))];
  if (lines.length === 0) return { lines, total: null, currency: null, problem: 'Choose a quantity of at least one product' };
  if (currencies.length > 1) return { lines, total: null, currency: null, problem: `One currency per order: these lines are in ${currencies.join(' and ')}` };
  const total = sum(chosen.map((p) => times(p.price.amount, quantities[p.id]) ?? 'x'));
  return { lines, total, currency: currencies[0], problem: null };
}

/** The statuses of an order that goes well, in order. */
export const happyPath: OrderStatus[] = ['PLACED', 'STOCK_RESERVED', 'AWAITING_PAYMENT', 'PAID', 'SHIPPED'];

export const statusText: Record<OrderStatus, string> = {
  PLACED: 'Placed',
  STOCK_RESERVED: 'Stock reserved',
  AWAITING_PAYMENT: 'Awaiting payment',
  PAID: 'Paid',
  SHIPPED: 'Shipped',
  REJECTED: 'Rejected',
  CANCELLED: 'Cancelled',
};

export const reasonText: Record<OrderReason, string> = {
  OUT_OF_STOCK: 'Not enough units in stock for every line',
  PAYMENT_FAILED: 'Its payment failed',
  CUSTOMER: 'The customer cancelled it',
  PAYMENT_TIMEOUT: 'Its payment did not come in time',
};

/** Whether nothing more happens to an order in this status. */
export const isFinal = (s: OrderStatus): boolean => s === 'SHIPPED' || s === 'REJECTED' || s === 'CANCELLED';

/** What happens next to an order, or why it ended, in a sentence (shown after its status). */
export function nextStep(status: OrderStatus, reason: OrderReason | null): string {
  switch (status) {
    case 'PLACED':
      return 'The fulfilment process is reserving the stock…';
    case 'STOCK_RESERVED':
      return 'Stock reserved; the fulfilment process is asking for the payment…';
    case 'AWAITING_PAYMENT':
      return 'Waiting for the payment: process it here or on the Payments page.';
    case 'PAID':
      return 'Paid and the stock taken: ship it.';
    case 'SHIPPED':
      return 'Nothing more to do.';
    case 'REJECTED':
    case 'CANCELLED':
      return `${reason ? reasonText[reason] : 'No reason given'}.`;
  }
}

/** An order at one version, as orderUpdated pushes it. */
export interface OrderStep {
  version: number;
  status: OrderStatus;
  updatedAt: string;
}

/**
 * addStep adds a pushed version of the order to the steps seen, once and
 * in version order: orderUpdated sends every version from PLACED, and again
 * from PLACED when graphql-ws re-subscribes after a lost connection.
 */
export function addStep<T extends OrderStep>(steps: T[], step: T): T[] {
  if (steps.some((s) => s.version === step.version)) return steps;
  return [...steps, step].sort((a, b) => a.version - b.version);
}

/** The stepper of an order: each status of the happy path, reached or not, with when; then how it ended when it did otherwise. */
export function progress(steps: OrderStep[]): { status: OrderStatus; reached: boolean; at: string | null }[] {
  const firstAt = (s: OrderStatus) => steps.find((x) => x.status === s)?.updatedAt ?? null;
  const last = steps[steps.length - 1]?.status;
  const ended = last === 'REJECTED' || last === 'CANCELLED';
  const reachedIndex = Math.max(-1, ...steps.map((s) => happyPath.indexOf(s.status)));
  const out = happyPath
    .map((status, i) => ({ status, reached: i <= reachedIndex, at: firstAt(status) }))
    .filter((s) => !ended || s.reached);
  if (ended) out.push({ status: last, reached: true, at: firstAt(last) });
  return out;
}
