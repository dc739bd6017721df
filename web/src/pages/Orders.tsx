import { useState } from 'react';
import { useMutation, useQuery, useSubscription, type CombinedError } from 'urql';
import { CancelOrder, FailPayment, OrdersQuery, OrderSubscription, PlaceOrder, ProcessPayment, ProductsQuery, ShipOrder } from '../lib/operations';
import type { OrderFieldsFragment } from '../gql/graphql';
import { describeError } from '../lib/errors';
import { addStep, draftOrder, isFinal, nextStep, progress, statusText, type Orderable } from '../lib/shop';
import { formatMoney, formatTime, shortId } from '../lib/format';
import { useRefreshEvery } from '../lib/refresh';
import { useSearchParam } from '../lib/route';
import { ErrorLine } from '../components/ErrorLine';
import { HistoryDrawer } from '../components/HistoryDrawer';
import { orderHistory } from '../lib/history';
import { TableHead } from '../components/TableHead';

/**
 * Orders: place one from the catalog, list them, and follow one live as
 * the fulfilment process manager reserves its stock, asks for its payment
 * and, once paid, takes the stock (orderUpdated: every version once).
 */
export function Orders() {
  const [selected, setSelected] = useSearchParam('order');
  const [list, refetch] = useQuery({ query: OrdersQuery, variables: { first: 25 }, requestPolicy: 'cache-and-network' });
  // No subscription announces new orders: the list reads again each second
  // (the selected order follows its own subscription).
  useRefreshEvery(() => refetch({ requestPolicy: 'network-only' }), 1000);
  const [catalog] = useQuery({ query: ProductsQuery, variables: { orderBy: 'TITLE', first: 100 }, requestPolicy: 'cache-and-network' });
  const products = catalog.data?.products.edges.map((e) => e.node) ?? [];
  const titles = new Map(products.map((p) => [p.id, p.title]));
  const orders = list.data?.orders.edges.map((e) => e.node) ?? [];
  return (
    <div className="with-panel">
      <section className="page" aria-labelledby="orders-title">
        <h1 id="orders-title">Orders</h1>
        {list.error && <p role="alert" className="error">{describeError(list.error)}</p>}
        {selected && <OrderDetail key={selected} id={selected} titles={titles} />}
        <h2>Latest orders</h2>
        {orders.length === 0 ? (
          <p>No orders yet: place one in the panel.</p>
        ) : (
          <table data-testid="orders">
            <TableHead columns={['Customer', 'Lines', 'Total', 'Status', 'Placed']} select />
            <tbody>
              {orders.map((o) => (
                <tr key={o.id} aria-selected={o.id === selected}>
                  <td>{o.customerName}</td>
                  <td>{o.lines.map((l) => `${l.quantity} × ${titles.get(l.productId) ?? shortId(l.productId)}`).join(', ')}</td>
                  <td className="nowrap">{formatMoney(o.total)}</td>
                  <td className="nowrap">
                    <span className={`status order-${o.status}`}>{statusText[o.status]}</span>
                  </td>
                  <td className="nowrap">{formatTime(o.placedAt)}</td>
                  <td>
                    <button type="button" className="secondary" onClick={() => setSelected(o.id)} aria-label={`Follow order ${shortId(o.id)} of ${o.customerName}`}>
                      Follow
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <aside className="panel" aria-label="Order actions">
        <PlaceOrderForm
          products={products.map((p) => ({ id: p.id, title: p.title, price: p.price, available: p.stock.available }))}
          onPlaced={(id) => {
            setSelected(id);
            refetch({ requestPolicy: 'network-only' });
          }}
        />
      </aside>
    </div>
  );
}

function PlaceOrderForm({ products, onPlaced }: { products: Orderable[]; onPlaced: (id: string) => void }) {
  const [name, setName] = useState('Ada Lovelace');
  const [email, setEmail] = useState('ada@example.com');
  const [quantities, setQuantities] = useState<Record<string, number>>({});
  const [result, place] = useMutation(PlaceOrder);
  const draft = draftOrder(products, quantities);
  return (
    <form
      className="card"
      aria-labelledby="place-title"
      data-testid="place-order"
      onSubmit={async (e) => {
        e.preventDefault();
        if (draft.problem) return;
        const r = await place({ input: { lines: draft.lines, customerName: name, customerEmail: email } });
        if (r.data) {
          setQuantities({});
          onPlaced(r.data.placeOrder.orderId);
        }
      }}
    >
      <h2 id="place-title">Place an order</h2>
      <label>
        Customer <input name="customerName" value={name} onChange={(e) => setName(e.target.value)} required />
      </label>
      <label>
        Email <input name="customerEmail" type="email" value={email} onChange={(e) => setEmail(e.target.value)} required />
      </label>
      {products.length === 0 ? (
        <p>The catalog is empty: add a book on the Catalog page first.</p>
      ) : (
        <fieldset className="lines">
          <legend>Products and quantities</legend>
          {products.map((p) => (
            <div className="line" key={p.id}>
              <label htmlFor={`qty-${p.id}`}>
                {p.title}
                <span className="muted">
                  {formatMoney(p.price)} · {p.available} available
                </span>
              </label>
              <input
                id={`qty-${p.id}`}
                className="qty"
                type="number"
                min={0}
                max={10000}
                value={quantities[p.id] ?? 0}
                aria-label={`Quantity of ${p.title}`}
                onChange={(e) => setQuantities({ ...quantities, [p.id]: Math.max(0, Math.floor(Number(e.target.value) || 0)) })}
              />
            </div>
          ))}
        </fieldset>
      )}
      <p className="total" data-testid="draft-total">
        {draft.total ? (
          <>
            Total <strong>{formatMoney({ amount: draft.total, currency: draft.currency ?? '' })}</strong>
          </>
        ) : (
          <span className="muted">{draft.problem}</span>
        )}
      </p>
      <button type="submit" disabled={result.fetching || draft.problem !== null}>
        Place the order
      </button>
      <ErrorLine error={result.error} what="the order" />
    </form>
  );
}

/** One order, live: the stepper of its states, its lines, and the actions its state allows. */
function OrderDetail({ id, titles }: { id: string; titles: Map<string, string> }) {
  const [{ data, error }] = useSubscription({ query: OrderSubscription, variables: { id } }, (steps: OrderFieldsFragment[] = [], d) =>
    addStep(steps, d.orderUpdated),
  );
  const steps = data ?? [];
  const o = steps[steps.length - 1];
  const [, processPayment] = useMutation(ProcessPayment);
  const [, failPayment] = useMutation(FailPayment);
  const [, cancel] = useMutation(CancelOrder);
  const [, ship] = useMutation(ShipOrder);
  const [actionError, setActionError] = useState<{ error: CombinedError; what: string } | null>(null);
  const [drawer, setDrawer] = useState(false);
  const act = async (what: string, p: Promise<{ error?: CombinedError }>) => {
    const r = await p;
    setActionError(r.error ? { error: r.error, what } : null);
  };
  return (
    <section className="card order" aria-labelledby="order-title" data-testid="order-detail">
      <h2 id="order-title">
        Order {shortId(id)}
        {o && <> for {o.customerName}</>}
      </h2>
      {error && <p role="alert" className="error">{describeError(error, 'the order')}</p>}
      {o && (
        <>
          <ol className="stepper" aria-label="Progress">
            {progress(steps).map((s) => (
              <li
                key={s.status}
                className={`step ${s.reached ? 'reached' : ''} step-${s.status}`}
                aria-current={s.status === o.status ? 'step' : undefined}
              >
                <span className="step-dot" aria-hidden="true" />
                <span className="step-name">{statusText[s.status]}</span>
                <span className="muted">{s.at ? formatTime(s.at) : 'not yet'}</span>
              </li>
            ))}
          </ol>
          <p className={`next ${isFinal(o.status) ? 'final' : ''}`} data-testid="order-status" data-status={o.status} aria-live="polite">
            <strong>{statusText[o.status]}.</strong> {nextStep(o.status, o.reason)}
          </p>
          <table>
            <TableHead columns={['Product', 'Quantity', 'Unit price', 'Amount']} />
            <tbody>
              {o.lines.map((l) => (
                <tr key={l.productId}>
                  <td>{titles.get(l.productId) ?? shortId(l.productId)}</td>
                  <td>{l.quantity}</td>
                  <td>{formatMoney(l.unitPrice)}</td>
                  <td>{formatMoney(l.amount)}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row" colSpan={3}>
                  Total
                </th>
                <td>
                  <strong>{formatMoney(o.total)}</strong>
                </td>
              </tr>
            </tfoot>
          </table>
          <div className="actions">
            {o.status === 'AWAITING_PAYMENT' && o.paymentId && (
              <>
                <button type="button" onClick={() => act('the payment', processPayment({ input: { id: o.paymentId! } }))}>
                  Process the payment
                </button>
                <button type="button" className="secondary" onClick={() => act('the payment', failPayment({ input: { id: o.paymentId!, reason: 'card declined' } }))}>
                  Fail the payment
                </button>
              </>
            )}
            {o.status === 'PAID' && (
              <button type="button" onClick={() => act('the order', ship({ input: { id } }))}>
                Ship
              </button>
            )}
            {!isFinal(o.status) && o.status !== 'PAID' && (
              <button type="button" className="danger" onClick={() => act('the order', cancel({ input: { id, reason: 'changed my mind' } }))}>
                Cancel the order
              </button>
            )}
            <button type="button" className="secondary" onClick={() => setDrawer(!drawer)} aria-expanded={drawer}>
              {drawer ? 'Hide history' : 'History'}
            </button>
          </div>
          {drawer && <HistoryDrawer source={orderHistory} id={id} version={o.version} onClose={() => setDrawer(false)} />}
          {actionError && <ErrorLine error={actionError.error} what={actionError.what} />}
          <details className="versions">
            <summary>Every version pushed ({steps.length})</summary>
            <ol>
              {steps.map((s) => (
                <li key={s.version}>
                  v{s.version} · {statusText[s.status]}
                  {s.reason && <> ({s.reason})</>} · {formatTime(s.updatedAt)}
                  {s.paymentId && <> · payment {shortId(s.paymentId)}</>}
                </li>
              ))}
            </ol>
          </details>
        </>
      )}
    </section>
  );
}
