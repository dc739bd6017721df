import { useState } from 'react';
import { ConnectionProvider, useConnectionState } from './lib/connection';
import { hrefOf, pages, useRoute, type Page } from './lib/route';
import { loadSession, mintDevToken, saveSession, type Session } from './lib/session';
import { SignIn } from './pages/SignIn';
import { Payments } from './pages/Payments';
import { Accounts } from './pages/Accounts';
import { Catalog } from './pages/Catalog';
import { Orders } from './pages/Orders';

/** The app: sign-in, then the shell with the pages of the session. */
export function App() {
  const [session, setSession] = useState<Session | null>(loadSession);
  const change = (s: Session | null) => {
    saveSession(s);
    setSession(s);
  };
  if (!session) return <SignIn onSignIn={change} />;
  // Keyed by the token: a new sign-in or organization starts from nothing
  // (new connection, empty caches), so no data of the last one can show.
  return (
    <ConnectionProvider key={session.token} session={session}>
      <Shell session={session} onChange={change} />
    </ConnectionProvider>
  );
}

const stateText = {
  connecting: 'connecting',
  live: 'live',
  reconnecting: 'reconnecting…',
  offline: 'offline',
} as const;

/** The connection badge: always visible, announced to screen readers. */
export function ConnectionBadge() {
  const state = useConnectionState();
  return (
    <span className={`badge badge-${state}`} role="status" aria-live="polite" data-testid="connection">
      <span className="dot" aria-hidden="true" /> {stateText[state]}
    </span>
  );
}

function Shell({ session, onChange }: { session: Session; onChange: (s: Session | null) => void }) {
  const [page, go] = useRoute();
  return (
    <div className="shell">
      <header className="top">
        <span className="brand">Chronicle</span>
        <nav aria-label="Pages">
          {pages.map((p) => (
            <a
              key={p.page}
              href={hrefOf(p.page)}
              aria-current={p.page === page ? 'page' : undefined}
              onClick={(e) => {
                e.preventDefault();
                go(p.page);
              }}
            >
              {p.title}
            </a>
          ))}
        </nav>
        <ConnectionBadge />
        <OrganizationSwitch session={session} onChange={onChange} />
      </header>
      <main>{pageOf(page)}</main>
    </div>
  );
}

function pageOf(page: Page) {
  switch (page) {
    case 'payments':
      return <Payments />;
    case 'accounts':
      return <Accounts />;
    case 'catalog':
      return <Catalog />;
    case 'orders':
      return <Orders />;
  }
}

/** Who is signed in, for which organization; a development session can switch organization. */
function OrganizationSwitch({ session, onChange }: { session: Session; onChange: (s: Session | null) => void }) {
  const [org, setOrg] = useState(session.organization);
  const [error, setError] = useState<string | null>(null);
  return (
    <div className="who">
      <span data-testid="identity">
        {session.actor} @ <strong>{session.organization}</strong>
      </span>
      {session.dev && (
        <form
          className="inline"
          onSubmit={async (e) => {
            e.preventDefault();
            try {
              onChange(await mintDevToken(session.actor, org.trim()));
            } catch (err) {
              setError((err as Error).message);
            }
          }}
        >
          <label>
            <span className="sr-only">Organization</span>
            <input value={org} onChange={(e) => setOrg(e.target.value)} size={10} aria-label="Organization" />
          </label>
          <button type="submit">Switch</button>
        </form>
      )}
      <button type="button" onClick={() => onChange(null)}>
        Sign out
      </button>
      {error && <span role="alert" className="error">{error}</span>}
    </div>
  );
}
