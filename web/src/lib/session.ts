// A signed-in session: the bearer token and who it names. Kept in
// localStorage so that a reload keeps it; each browser profile has its own.

export interface Session {
  token: string;
  actor: string;
  organization: string;
  /** Whether the token came from the server's development endpoint. */
  dev: boolean;
}

const key = 'chronicle.session';

/** The API's origin: the page's own unless VITE_CHRONICLE_API says otherwise. */
export const apiBase: string = (import.meta.env.VITE_CHRONICLE_API as string | undefined) ?? window.location.origin;

export function loadSession(): Session | null {
  try {
    const s = JSON.parse(localStorage.getItem(key) ?? 'null') as Session | null;
    return s && typeof s.token === 'string' ? s : null;
  } catch {
    return null;
  }
}

export function saveSession(s: Session | null): void {
  if (s) localStorage.setItem(key, JSON.stringify(s));
  else localStorage.removeItem(key);
}

/** Reads the subject and organization of a JWT (without verifying it: the server does). */
export function tokenIdentity(token: string, organizationClaim = 'org'): { actor: string; organization: string } | null {
  const part = token.trim().replace(/^Bearer\s+/i, '').split('.')[1];
  if (!part) return null;
  try {
    const json = JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
    const actor = json.sub;
    const organization = json[organizationClaim];
    if (typeof actor !== 'string' || typeof organization !== 'string') return null;
    return { actor, organization };
  } catch {
    return null;
  }
}

/** Mints a development token (POST /dev/token, development mode only). */
export async function mintDevToken(actor: string, organization: string): Promise<Session> {
  let res: Response;
  try {
    res = await fetch(new URL('/dev/token', apiBase), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ actor, organization, ttl: '12h' }),
    });
  } catch {
    throw new Error('The server cannot be reached');
  }
  if (res.status === 404 || res.status === 405) {
    throw new Error('This server has no development sign-in (it needs CHRONICLE_DEV=true and JWT_HS256_SECRET, as make run sets): paste a token instead');
  }
  const body = (await res.json().catch(() => ({}))) as { token?: string; error?: string };
  if (!res.ok || !body.token) throw new Error(body.error ?? `The server answered ${res.status}`);
  return { token: body.token, actor, organization, dev: true };
}
