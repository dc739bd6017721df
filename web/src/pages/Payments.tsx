import { useEffect, useMemo, useState } from 'react';
import { useMutation, useQuery, useSubscription, type CombinedError } from 'urql';
import {
  AnalyticsSubscription,
  FailPayment,
  InitiatePayment,
  LatestPaymentsQuery,
  PaymentSubscription,
  ProcessPayment,
  RefundPayment,
} from '../lib/operations';
import type { PaymentFieldsFragment } from '../gql/graphql';
import { seriesPoints, windows, type Analytics } from '../lib/analytics';
import { describeError } from '../lib/errors';
import { ErrorLine } from '../components/ErrorLine';
import { TableHead } from '../components/TableHead';
import { formatMoney, formatTime, shortId } from '../lib/format';
import { SeriesChart } from '../components/SeriesChart';
import { HistoryDrawer } from '../components/HistoryDrawer';
import { paymentHistory } from '../lib/history';

/** The performance mark set when the dashboard first renders its analytics. */
export const firstDataMark = 'chronicle:dashboard-first-data';

/** The Payments dashboard: live analytics, latest payments, and actions. */
export function Payments() {
  const [windowId, setWindowId] = useState('24h');
  const w = windows.find((x) => x.id === windowId) ?? windows[0];
  const [{ data, error }] = useSubscription({ query: AnalyticsSubscription, variables: { last: w.last, bucket: w.bucket } });
  const analytics = data?.paymentAnalyticsUpdated;
  // For the web bench (web/e2e/bench.mjs): when the dashboard first shows data.
  useEffect(() => {
    if (analytics && performance.getEntriesByName(firstDataMark).length === 0) performance.mark(firstDataMark);
  }, [analytics]);
  const [latest, refetchLatest] = useQuery({ query: LatestPaymentsQuery, variables: { first: 10 }, requestPolicy: 'network-only' });
  // Every analytics push means a payment changed: the list follows.
  useEffect(() => {
    if (analytics) refetchLatest({ requestPolicy: 'network-only' });
  }, [analytics, refetchLatest]);
  const [selected, setSelected] = useState<string | null>(null);
  const points = useMemo(() => (analytics ? seriesPoints(analytics) : []), [analytics]);
  const payments = latest.data?.payments.edges.map((e) => e.node) ?? [];

  return (
    <div className="with-panel">
      <section className="page" aria-labelledby="payments-title">
        <div className="page-head">
          <h1 id="payments-title">Payments</h1>
          <label>
            Window{' '}
            <select value={windowId} onChange={(e) => setWindowId(e.target.value)}>
              {windows.map((x) => (
                <option key={x.id} value={x.id}>
                  {x.label}
                </option>
              ))}
            </select>
          </label>
        </div>
        {error && <p role="alert" className="error">{describeError(error)}</p>}
        {analytics ? <Tiles analytics={analytics} /> : <p>Loading the analytics…</p>}
        <h2>Payments per {w.bucket === 'HOUR' ? 'hour' : 'day'}</h2>
        <SeriesChart points={points} label={`Payments per ${w.bucket === 'HOUR' ? 'hour' : 'day'}, ${w.label.toLowerCase()}`} />
        {analytics && <StatusBreakdown analytics={analytics} />}
        <h2>Latest payments</h2>
        <PaymentTable payments={payments} selected={selected} onSelect={setSelected} />
      </section>
      <aside className="panel" aria-label="Payment actions">
        <InitiateForm onInitiated={setSelected} />
        {selected && <SelectedPayment id={selected} />}
      </aside>
    </div>
  );
}

function Tiles({ analytics }: { analytics: Analytics }) {
  const t = analytics.totals;
  return (
    <div className="tiles" data-testid="tiles">
      <div className="tile">
        <span className="tile-label">Payments</span>
        <span className="tile-value" data-testid="tile-payments">{t.payments}</span>
      </div>
      {t.byCurrency.map((c) => (
        <div className="tile" key={c.currency}>
          <span className="tile-label">{c.currency}</span>
          <dl>
            <dt>processed</dt>
            <dd>
              {c.processedTotal.amount} ({c.processedCount})
            </dd>
            <dt>refunded</dt>
            <dd>
              {c.refundedTotal.amount} ({c.refundedCount})
            </dd>
            <dt>average processed</dt>
            <dd>{c.processedAverage?.amount ?? '–'}</dd>
            <dt>average refunded</dt>
            <dd>{c.refundedAverage?.amount ?? '–'}</dd>
          </dl>
        </div>
      ))}
    </div>
  );
}

function StatusBreakdown({ analytics }: { analytics: Analytics }) {
  const total = Math.max(1, analytics.totals.payments);
  return (
    <>
      <h2>By status</h2>
      <ul className="statuses" data-testid="statuses">
        {analytics.totals.byStatus.map((s) => (
          <li key={s.status}>
            <span className={`status status-${s.status}`}>{s.status.replace('_', ' ').toLowerCase()}</span>
            <span className="bar" aria-hidden="true" style={{ width: `${(100 * s.count) / total}%` }} />
            <span>{s.count}</span>
          </li>
        ))}
      </ul>
    </>
  );
}

function PaymentTable({
  payments,
  selected,
  onSelect,
}: {
  payments: PaymentFieldsFragment[];
  selected: string | null;
  onSelect: (id: string) => void;
}) {
  if (payments.length === 0) return <p>No payments yet: initiate one in the panel.</p>;
  return (
    <table data-testid="latest-payments">
      <TableHead columns={['Customer', 'Amount', 'Status', 'Initiated']} select />
      <tbody>
        {payments.map((p) => (
          <tr key={p.id} aria-selected={p.id === selected}>
            <td>{p.customerName}</td>
            <td>{formatMoney(p.amount)}</td>
            <td>
              <span className={`status status-${p.status}`}>{p.status}</span>
            </td>
            <td>{formatTime(p.initiatedAt)}</td>
            <td>
              <button type="button" onClick={() => onSelect(p.id)} aria-label={`Open payment ${shortId(p.id)} of ${p.customerName}`}>
                Open
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}


function InitiateForm({ onInitiated }: { onInitiated: (id: string) => void }) {
  const [name, setName] = useState('Ada Lovelace');
  const [email, setEmail] = useState('ada@example.com');
  const [amount, setAmount] = useState('100.00');
  const [currency, setCurrency] = useState('EUR');
  const [result, initiate] = useMutation(InitiatePayment);
  return (
    <form
      className="card"
      aria-labelledby="initiate-title"
      onSubmit={async (e) => {
        e.preventDefault();
        const r = await initiate({ input: { customerName: name, customerEmail: email, amount, currency } });
        if (r.data) onInitiated(r.data.initiatePayment.paymentId);
      }}
    >
      <h2 id="initiate-title">Initiate a payment</h2>
      <label>
        Customer <input name="customerName" value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Email <input name="customerEmail" type="email" value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <label>
        Amount <input name="amount" inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} />
      </label>
      <label>
        Currency <input name="currency" value={currency} onChange={(e) => setCurrency(e.target.value.toUpperCase())} size={4} />
      </label>
      <button type="submit" disabled={result.fetching}>
        Initiate
      </button>
      <ErrorLine error={result.error} />
    </form>
  );
}

function SelectedPayment({ id }: { id: string }) {
  const [{ data, error }] = useSubscription({ query: PaymentSubscription, variables: { id } });
  const p = data?.paymentUpdated;
  const [drawer, setDrawer] = useState(false);
  const [, process] = useMutation(ProcessPayment);
  const [, fail] = useMutation(FailPayment);
  const [, refund] = useMutation(RefundPayment);
  const [reason, setReason] = useState('customer request');
  const [amount, setAmount] = useState('');
  // The error of the last action only: a later success clears it.
  const [actionError, setActionError] = useState<CombinedError | undefined>();
  const act = async (p: Promise<{ error?: CombinedError }>) => setActionError((await p).error);
  return (
    <section className="card" aria-labelledby="selected-title" data-testid="selected-payment">
      <h2 id="selected-title">Payment {shortId(id)}</h2>
      {error && <p role="alert" className="error">{describeError(error)}</p>}
      {p && (
        <dl className="facts">
          <dt>Customer</dt>
          <dd>{p.customerName}</dd>
          <dt>Amount</dt>
          <dd>{formatMoney(p.amount)}</dd>
          <dt>Status</dt>
          <dd data-testid="selected-status">{p.status}</dd>
          <dt>Refunded</dt>
          <dd>{formatMoney(p.refunded)}</dd>
          <dt>Refundable</dt>
          <dd>{formatMoney(p.refundable)}</dd>
          {p.failureReason && (
            <>
              <dt>Failure</dt>
              <dd>{p.failureReason}</dd>
            </>
          )}
        </dl>
      )}
      <div className="actions">
        <button type="button" onClick={() => act(process({ input: { id } }))}>
          Process
        </button>
        <label>
          Reason <input value={reason} onChange={(e) => setReason(e.target.value)} />
        </label>
        <button type="button" onClick={() => act(fail({ input: { id, reason } }))}>
          Fail
        </button>
        <label>
          Refund amount <input value={amount} placeholder="all" onChange={(e) => setAmount(e.target.value)} size={8} />
        </label>
        <button type="button" onClick={() => act(refund({ input: { id, reason, amount: amount.trim() || null } }))}>
          Refund
        </button>
      </div>
      <ErrorLine error={actionError} what="the payment" />
      <button type="button" className="secondary" onClick={() => setDrawer(!drawer)} aria-expanded={drawer}>
        {drawer ? 'Hide history' : 'History'}
      </button>
      {drawer && <HistoryDrawer source={paymentHistory} id={id} version={p?.version} onClose={() => setDrawer(false)} />}
    </section>
  );
}
