import { apiTarget } from './client.ts';

/**
 * One server-sent event: its `event` name (`message` when the server names none), `id` and
 * `data` (lines joined by `\n`). Comments (keep-alives) are not messages.
 *
 * @example
 * { event: 'deployment-event', id: '01J…', data: '{"type":"BuildStarted",…}' }
 */
export interface SseMessage {
  event: string;
  id: string | undefined;
  data: string;
}

/**
 * The header API Gateway (HTTP APIs) puts on every response. API Gateway buffers whole responses,
 * so an API behind it cannot stream: the CLI polls instead (shiplog on AWS).
 *
 * @example
 * res.headers.has(API_GATEWAY_HEADER); // true on AWS
 */
export const API_GATEWAY_HEADER = 'apigw-requestid';

const streaming = new Map<string, Promise<boolean>>();

/**
 * Whether an API can stream responses: not when it answers through API Gateway (a response of
 * `GET /api/whoami` carries {@link API_GATEWAY_HEADER}). Asked once per API and process.
 *
 * @example
 * if (!(await canStream(apiUrl, token))) pollInstead();
 */
export const canStream = (apiUrl: string, token: string): Promise<boolean> => {
  let known = streaming.get(apiUrl);
  if (!known) {
    known = fetch(new URL('/api/whoami', apiUrl), { headers: { authorization: `Bearer ${token}` } }).then(
      async (res) => {
        await res.body?.cancel();
        return !res.headers.has(API_GATEWAY_HEADER);
      },
      () => true,
    );
    streaming.set(apiUrl, known);
  }
  return known;
};

/**
 * Opens an SSE route of the API (with the CLI's token); the caller checks the status. Behind API
 * Gateway (see {@link canStream}) it answers 405 without asking, so callers poll instead.
 *
 * @example
 * const res = await openEventStream(`/api/deployments/${id}/events?follow=1`, { lastEventId, signal });
 */
export const openEventStream = async (path: string, opts: { lastEventId?: string | undefined; signal?: AbortSignal } = {}): Promise<Response> => {
  const { apiUrl, token } = apiTarget();
  if (!(await canStream(apiUrl, token))) {
    const error = `${apiUrl} answers through API Gateway, which cannot stream; follow by polling instead`;
    return new Response(JSON.stringify({ error }), { status: 405, headers: { 'content-type': 'application/json' } });
  }
  return fetch(new URL(path, apiUrl), {
    headers: { accept: 'text/event-stream', authorization: `Bearer ${token}`, ...(opts.lastEventId ? { 'last-event-id': opts.lastEventId } : {}) },
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
};

/**
 * The messages of an SSE body, as they arrive; ends when the body ends (the stream dropped or
 * the server closed it), throws when reading it fails.
 *
 * @example
 * for await (const m of sseMessages(res.body!)) if (m.event === 'end') break;
 */
export async function* sseMessages(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n');
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const frame = buf.slice(0, i);
      buf = buf.slice(i + 2);
      let event = 'message';
      let id: string | undefined;
      const data: string[] = [];
      let fields = 0;
      for (const line of frame.split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        fields++;
        if (field === 'event') event = value;
        else if (field === 'id') id = value;
        else if (field === 'data') data.push(value);
      }
      if (fields > 0) yield { event, id, data: data.join('\n') };
    }
  }
}
