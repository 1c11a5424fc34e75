import { describe, expect, it } from 'vitest';
import { actorOfPrincipal, servedHosts } from './auth.ts';

const req = (headers: Record<string, string>) => ({ header: (name: string): string | undefined => headers[name] });

describe('servedHosts', () => {
  it('is loopback on the port, plus the names SHIPLOG_HOST and SHIPLOG_PUBLIC_HOSTS give', () => {
    expect(servedHosts(3000, {})).toEqual(['localhost:3000', '127.0.0.1:3000', '[::1]:3000']);
    expect(servedHosts(3000, { SHIPLOG_HOST: '0.0.0.0', SHIPLOG_PUBLIC_HOSTS: 'Ship.Example.com, 10.0.0.5:8443,fd00::1' })).toEqual([
      'localhost:3000', '127.0.0.1:3000', '[::1]:3000', 'ship.example.com', 'ship.example.com:3000', '10.0.0.5:8443', '[fd00::1]', '[fd00::1]:3000',
    ]);
  });
});

describe('actorOfPrincipal', () => {
  it("is the token's name; a user or admin token cannot name another actor", () => {
    expect(actorOfPrincipal({ tokenId: 't', name: 'ci', kind: 'user' }, req({ 'x-shiplog-actor': 'local:admin' }))).toEqual({ kind: 'user', id: 'token:ci' });
    expect(actorOfPrincipal({ tokenId: 't', name: 'admin', kind: 'admin' }, req({ 'x-shiplog-actor': 'local:admin' }))).toEqual({ kind: 'user', id: 'token:admin' });
  });

  it('lets a dashboard token name its signed-in user, when the name is a plain id', () => {
    const dashboard = { tokenId: 't', name: 'dashboard', kind: 'dashboard' } as const;
    expect(actorOfPrincipal(dashboard, req({ 'x-shiplog-actor': 'local:admin' }))).toEqual({ kind: 'user', id: 'local:admin' });
    expect(actorOfPrincipal(dashboard, req({ 'x-shiplog-actor': 'oidc:google-oauth2|1049' }))).toEqual({ kind: 'user', id: 'oidc:google-oauth2|1049' });
    expect(actorOfPrincipal(dashboard, req({}))).toEqual({ kind: 'user', id: 'token:dashboard' });
    expect(actorOfPrincipal(dashboard, req({ 'x-shiplog-actor': 'a b\nc' }))).toEqual({ kind: 'user', id: 'token:dashboard' });
    expect(actorOfPrincipal(dashboard, req({ 'x-shiplog-actor': 'token:admin' }))).toEqual({ kind: 'user', id: 'token:dashboard' });
  });
});
