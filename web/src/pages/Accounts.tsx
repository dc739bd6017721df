import { useState } from 'react';
import { useMutation, useQuery, useSubscription, type CombinedError } from 'urql';
import { AccountSubscription, AccountsQuery, CreditAccount, DebitAccount, OpenAccount } from '../lib/operations';
import { useConnection, useConnectionState } from '../lib/connection';
import { useOperationsFeed } from '../lib/feed';
import { describeError } from '../lib/errors';
import { ErrorLine } from '../components/ErrorLine';
import { TableHead } from '../components/TableHead';
import { HistoryDrawer } from '../components/HistoryDrawer';
import { accountHistory } from '../lib/history';
import { useRefreshEvery } from '../lib/refresh';
import { useSearchParam } from '../lib/route';
import { formatMoney, formatTime, shortId } from '../lib/format';

/** Accounts: open one, credit and debit it, and follow its operations live. */
export function Accounts() {
  const [selected, setSelected] = useSearchParam('account');
  const [list, refetch] = useQuery({ query: AccountsQuery, variables: { first: 50 } });
  // No subscription announces new accounts: the list reads again each second.
  useRefreshEvery(() => refetch({ requestPolicy: 'network-only' }), 1000);
  const accounts = list.data?.accounts.edges.map((e) => e.node) ?? [];
  return (
    <div className="with-panel">
      <section className="page" aria-labelledby="accounts-title">
        <h1 id="accounts-title">Accounts</h1>
        {list.error && <p role="alert" className="error">{describeError(list.error)}</p>}
        {accounts.length === 0 ? (
          <p>No accounts yet: open one in the panel.</p>
        ) : (
          <table data-testid="accounts">
            <TableHead columns={['Owner', 'Balance', 'Status']} select />
            <tbody>
              {accounts.map((a) => (
                <tr key={a.id} aria-selected={a.id === selected}>
                  <td>{a.owner}</td>
                  <td>{formatMoney(a.balance)}</td>
                  <td>{a.status}</td>
                  <td>
                    <button type="button" onClick={() => setSelected(a.id)} aria-label={`Open account ${shortId(a.id)} of ${a.owner}`}>
                      Open
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {selected && <AccountDetail key={selected} id={selected} />}
      </section>
      <aside className="panel" aria-label="Account actions">
        <OpenForm
          onOpened={(id) => {
            setSelected(id);
            refetch({ requestPolicy: 'network-only' });
          }}
        />
        {selected && <MoveForm id={selected} />}
      </aside>
    </div>
  );
}


function OpenForm({ onOpened }: { onOpened: (id: string) => void }) {
  const [owner, setOwner] = useState('Ada');
  const [ownerEmail, setOwnerEmail] = useState('');
  const [currency, setCurrency] = useState('EUR');
  const [initial, setInitial] = useState('100.00');
  const [result, open] = useMutation(OpenAccount);
  return (
    <form
      className="card"
      aria-labelledby="open-title"
      onSubmit={async (e) => {
        e.preventDefault();
        const r = await open({ input: { owner, ownerEmail: ownerEmail.trim() || null, currency, initialBalance: initial } });
        if (r.data) onOpened(r.data.openAccount.accountId);
      }}
    >
      <h2 id="open-title">Open an account</h2>
      <label>
        Owner <input name="owner" value={owner} onChange={(e) => setOwner(e.target.value)} />
      </label>
      <label>
        E-mail (optional){' '}
        <input name="ownerEmail" type="email" value={ownerEmail} onChange={(e) => setOwnerEmail(e.target.value)} />
      </label>
      <label>
        Currency <input name="currency" value={currency} onChange={(e) => setCurrency(e.target.value.toUpperCase())} size={4} />
      </label>
      <label>
        Initial balance <input name="initialBalance" value={initial} onChange={(e) => setInitial(e.target.value)} />
      </label>
      <button type="submit" disabled={result.fetching}>
        Open
      </button>
      <ErrorLine error={result.error} />
    </form>
  );
}

function MoveForm({ id }: { id: string }) {
  const [amount, setAmount] = useState('10.00');
  const [description, setDescription] = useState('');
  const [, credit] = useMutation(CreditAccount);
  const [, debit] = useMutation(DebitAccount);
  const [error, setError] = useState<CombinedError | null>(null);
  const run = async (kind: 'credit' | 'debit') => {
    const input = { id, amount, description: description || null };
    const r = kind === 'credit' ? await credit({ input }) : await debit({ input });
    setError(r.error ?? null);
  };
  return (
    <form className="card" aria-labelledby="move-title" onSubmit={(e) => e.preventDefault()}>
      <h2 id="move-title">Credit or debit {shortId(id)}</h2>
      <label>
        Amount <input name="amount" inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} />
      </label>
      <label>
        Description <input name="description" value={description} onChange={(e) => setDescription(e.target.value)} />
      </label>
      <div className="actions">
        <button type="button" onClick={() => run('credit')}>
          Credit
        </button>
        <button type="button" onClick={() => run('debit')}>
          Debit
        </button>
      </div>
      <ErrorLine error={error} what="the account" />
    </form>
  );
}

function AccountDetail({ id }: { id: string }) {
  const { ws } = useConnection();
  const state = useConnectionState();
  const [{ data, error }] = useSubscription({ query: AccountSubscription, variables: { id } });
  const a = data?.accountUpdated;
  const feed = useOperationsFeed(ws, id);
  const [drawer, setDrawer] = useState(false);
  return (
    <section aria-labelledby="account-title" data-testid="account-detail">
      <h2 id="account-title">
        {a ? `${a.owner}'s account` : 'Account'} {shortId(id)}
      </h2>
      {error && <p role="alert" className="error">{describeError(error)}</p>}
      {a && (
        <p>
          Balance <strong data-testid="balance">{formatMoney(a.balance)}</strong>, {a.status.toLowerCase()}, version {a.version}
        </p>
      )}
      <button type="button" onClick={() => setDrawer(!drawer)} aria-expanded={drawer}>
        {drawer ? 'Hide history' : 'History'}
      </button>
      <h3>
        Operations{' '}
        {state !== 'live' && (
          <span className="feed-state" data-testid="feed-state">
            ({state === 'offline' ? 'offline' : 'reconnecting: the feed resumes where it stopped'})
          </span>
        )}
      </h3>
      {feed.error && <p role="alert" className="error">{feed.error}</p>}
      <ol className="feed" data-testid="operations">
        {feed.edges.map((e) => (
          <li key={e.cursor} data-version={e.node.version}>
            <span className={`kind kind-${e.node.kind}`}>{e.node.kind.toLowerCase()}</span> {formatMoney(e.node.amount)}
            {e.node.description && <> · {e.node.description}</>} → {e.node.balanceAfter.amount}{' '}
            <span className="muted">v{e.node.version} · {formatTime(e.node.recordedAt)}</span>
          </li>
        ))}
      </ol>
      {drawer && <HistoryDrawer source={accountHistory} id={id} version={a?.version} onClose={() => setDrawer(false)} />}
    </section>
  );
}

