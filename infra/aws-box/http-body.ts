import type { IncomingMessage } from 'node:http';

/**
 * A request's whole body as UTF-8 text, for the box's stand-ins of JSON and XML APIs.
 *
 * @example
 * const body = JSON.parse((await readText(req)) || '{}');
 */
export const readText = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
