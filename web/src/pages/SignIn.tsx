import { useState } from 'react';
import { mintDevToken, tokenIdentity, type Session } from '../lib/session';

/**
 * Sign-in: in development mode pick an actor and an organization (the
 * server mints the token); anywhere, paste a token (e.g. `make token`).
 */
export function SignIn({ onSignIn }: { onSignIn: (s: Session) => void }) {
  const [actor, setActor] = useState('developer');
  const [organization, setOrganization] = useState('acme');
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  return (
    <main className="signin">
      <h1>Sign in to Chronicle</h1>
      <section aria-labelledby="dev-title" className="card">
        <h2 id="dev-title">Development mode</h2>
        <p>Choose who you are; the server (started with make run) mints a token.</p>
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            setError(null);
            try {
              onSignIn(await mintDevToken(actor.trim(), organization.trim()));
            } catch (err) {
              setError((err as Error).message);
            }
          }}
        >
          <label>
            Actor <input name="actor" value={actor} onChange={(e) => setActor(e.target.value)} required />
          </label>
          <label>
            Organization{' '}
            <input name="organization" value={organization} onChange={(e) => setOrganization(e.target.value)} required />
          </label>
          <button type="submit">Sign in</button>
        </form>
      </section>
      <section aria-labelledby="token-title" className="card">
        <h2 id="token-title">Paste a token</h2>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const t = token.trim().replace(/^Bearer\s+/i, '');
            const id = tokenIdentity(t);
            if (!id) {
              setError('That is not a JWT with a subject (sub) and an organization (org)');
              return;
            }
            onSignIn({ token: t, ...id, dev: false });
          }}
        >
          <label>
            Bearer token <textarea name="token" rows={3} value={token} onChange={(e) => setToken(e.target.value)} />
          </label>
          <button type="submit">Use token</button>
        </form>
      </section>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </main>
  );
}
