import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The `x-shiplog-signature-256` value of a body: `sha256=` and the hex HMAC-SHA256 of the raw
 * body with the subscription's signing secret (GitHub's `X-Hub-Signature-256` scheme).
 *
 * @example
 * signBody('{"id":"…"}', secret); // 'sha256=5c3…'
 */
export const signBody = (body: string | Buffer, secret: string): string =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/**
 * What a receiver does: recompute the signature of the raw body and compare in constant time.
 *
 * @example
 * if (!verifySignature(rawBody, req.headers['x-shiplog-signature-256'], secret)) return res.writeHead(401).end();
 */
export const verifySignature = (body: string | Buffer, header: string | undefined, secret: string): boolean => {
  if (!header) return false;
  const expected = Buffer.from(signBody(body, secret));
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
};
