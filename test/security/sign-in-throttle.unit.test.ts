import { describe, expect, it } from 'vitest';
import { clientAddress, trustedProxies } from '../../dashboard/lib/auth/client-address.ts';

describe('clientAddress (the sign-in throttle key)', () => {
  it('is the socket peer, whatever X-Forwarded-For a client sends', () => {
    expect(clientAddress({ peer: '198.51.100.1', forwardedFor: '203.0.113.7', trustedProxies: [] })).toBe('198.51.100.1');
    expect(clientAddress({ peer: '::ffff:127.0.0.1', forwardedFor: '1.2.3.4', trustedProxies: ['10.0.0.2'] })).toBe('127.0.0.1');
  });

  it('takes the rightmost untrusted X-Forwarded-For hop when the peer is a trusted proxy', () => {
    expect(clientAddress({ peer: '10.0.0.2', forwardedFor: '1.1.1.1, 203.0.113.7', trustedProxies: ['10.0.0.2'] })).toBe('203.0.113.7');
    expect(clientAddress({ peer: '10.0.0.2', forwardedFor: '203.0.113.7, 10.0.0.3', trustedProxies: trustedProxies({ SHIPLOG_TRUSTED_PROXY: '10.0.0.2, 10.0.0.3' }) })).toBe('203.0.113.7');
    expect(clientAddress({ peer: '10.0.0.2', forwardedFor: undefined, trustedProxies: ['10.0.0.2'] })).toBe('10.0.0.2');
  });

  it('shares one key when the peer is unknown', () =>
    expect(clientAddress({ peer: undefined, forwardedFor: '203.0.113.7', trustedProxies: [] })).toBe('unknown'));
});
