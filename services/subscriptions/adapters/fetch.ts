import type { WebhookRequest, WebhookResponse, WebhookSender } from '../ports.ts';

/**
 * Sends webhooks with Node's `fetch`, in both runtimes. Redirects are not followed (a 3xx is a
 * failed delivery, as on GitHub), and the response body is drained, never kept.
 *
 * @example
 * const sender = fetchWebhookSender();
 * await sender.send({ url, body, headers, timeoutMs: 10_000 });
 */
export const fetchWebhookSender = (): WebhookSender => ({
  send: async ({ url, body, headers, timeoutMs }: WebhookRequest): Promise<WebhookResponse> => {
    const t0 = performance.now();
    const elapsed = () => Math.round(performance.now() - t0);
    try {
      const res = await fetch(url, { method: 'POST', body, headers, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
      await res.body?.cancel();
      return res.status >= 200 && res.status < 300
        ? { statusCode: res.status, durationMs: elapsed() }
        : { statusCode: res.status, error: res.statusText || `HTTP ${res.status}`, durationMs: elapsed() };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why = e.name === 'TimeoutError' ? `no response within ${timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
      return { statusCode: null, error: why, durationMs: elapsed() };
    }
  },
});
