import { describe, expect, it } from 'vitest';
import { issueSession, openSignIn, readSession, sealSignIn, SIGN_IN_TTL_SECONDS } from '../../dashboard/lib/auth/session.ts';

// The dashboard's signed cookies: the session, and a redirect sign-in waiting for its callback.

const key = Buffer.alloc(32, 1);
const pending = { checks: { state: 'st', nonce: 'no', codeVerifier: 'cv' }, next: '/projects/web' };
const now = Date.UTC(2026, 0, 1);

describe('the pending sign-in cookie', () => {
  it('opens what was sealed, until it expires', () => {
    const sealed = sealSignIn(key, pending, now);
    expect(openSignIn(key, sealed, now + 1000)).toEqual(pending);
    expect(openSignIn(key, sealed, now + SIGN_IN_TTL_SECONDS * 1000)).toBeNull();
  });

  it('refuses a changed payload, another key, a session cookie in its place, and nothing', () => {
    const [v, payload, sig] = sealSignIn(key, pending, now).split('.');
    const forged = Buffer.from(JSON.stringify({ ...pending, checks: { ...pending.checks, state: 'mine' }, exp: now / 1000 + 600 })).toString('base64url');
    expect(openSignIn(key, `${v}.${forged}.${sig}`, now)).toBeNull();
    expect(openSignIn(Buffer.alloc(32, 2), `${v}.${payload}.${sig}`, now)).toBeNull();
    const session = issueSession(key, { id: 'sub', name: 'ada', provider: 'oidc' }, now);
    expect(openSignIn(key, session, now)).toBeNull();
    expect(readSession(key, sealSignIn(key, pending, now), now)).toBeNull();
    expect(openSignIn(key, undefined, now)).toBeNull();
    expect(openSignIn(key, 'v1.e30.x', now)).toBeNull();
  });

  it('leaves sessions as they were: signed, expiring', () => {
    const session = issueSession(key, { id: 'sub', name: 'ada', provider: 'oidc' }, now);
    expect(readSession(key, session, now)?.user).toEqual({ id: 'sub', name: 'ada', provider: 'oidc' });
    expect(readSession(key, session, now + 8 * 24 * 3600_000)).toBeNull();
  });
});
