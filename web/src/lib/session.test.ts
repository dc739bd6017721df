import { describe, expect, it } from 'vitest';
import { tokenIdentity } from './session';

const b64 = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');

describe('tokenIdentity', () => {
  it('reads sub and org of a pasted token, with or without Bearer', () => {
    const t = `${b64({ alg: 'HS256' })}.${b64({ sub: 'alice', org: 'acme', exp: 1 })}.sig`;
    expect(tokenIdentity(t)).toEqual({ actor: 'alice', organization: 'acme' });
    expect(tokenIdentity(`Bearer ${t}`)).toEqual({ actor: 'alice', organization: 'acme' });
  });
  it('refuses what is not a token with both claims', () => {
    expect(tokenIdentity('hello')).toBeNull();
    expect(tokenIdentity(`x.${b64({ sub: 'alice' })}.y`)).toBeNull();
  });
});
