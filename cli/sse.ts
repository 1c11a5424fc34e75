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
 * Opens an SSE route of the API (with the CLI's token); the caller checks the status.
 *
 * @example
 * const res = await openEventStream(`/api/deployments/${id}/events?follow=1`, { lastEventId, signal });
 */
export const openEventStream = async (path: string, opts: { lastEventId?: string | undefined; signal?: AbortSignal } = {}): Promise<Response> => {
  const { apiUrl, token } = apiTarget();
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
