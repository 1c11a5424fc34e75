const normalize = (address: string): string => address.trim().replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1').toLowerCase();

/**
 * The address a sign-in attempt is throttled on: the socket's peer (which the mount passes in
 * its own header, see `infra/local/dashboard.ts`). `X-Forwarded-For` counts only when that peer
 * is a trusted proxy (`SHIPLOG_TRUSTED_PROXY`, comma-separated addresses): then the rightmost
 * address that is not itself a trusted proxy is the client. Without a known peer, every
 * attempt shares one key (`unknown`): stricter, never looser.
 *
 * @example
 * clientAddress({ peer: '10.0.0.2', forwardedFor: '203.0.113.7, 10.0.0.2', trustedProxies: ['10.0.0.2'] }); // '203.0.113.7'
 * clientAddress({ peer: '198.51.100.1', forwardedFor: '203.0.113.7', trustedProxies: [] }); // '198.51.100.1'
 */
export const clientAddress = (input: { peer: string | null | undefined; forwardedFor: string | null | undefined; trustedProxies: readonly string[] }): string => {
  const peer = input.peer ? normalize(input.peer) : '';
  if (!peer) return 'unknown';
  const trusted = new Set(input.trustedProxies.map(normalize).filter(Boolean));
  if (!trusted.has(peer) || !input.forwardedFor) return peer;
  const hops = input.forwardedFor.split(',').map(normalize).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) if (!trusted.has(hops[i]!)) return hops[i]!;
  return peer;
};

/** `SHIPLOG_TRUSTED_PROXY` as a list. */
export const trustedProxies = (env: NodeJS.ProcessEnv = process.env): string[] =>
  (env.SHIPLOG_TRUSTED_PROXY ?? '').split(',').map((s) => s.trim()).filter(Boolean);
