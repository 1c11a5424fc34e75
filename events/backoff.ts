/**
 * Options of {@link backoff}.
 *
 * @example
 * const opts: BackoffOptions = { baseMs: 100, maxMs: 20_000, jitter: 'full' };
 */
export interface BackoffOptions {
  /** The ceiling of the first retry (`attempt` 0). It doubles per attempt. */
  baseMs: number;
  /** The highest ceiling, however many attempts. */
  maxMs: number;
  /**
   * `full`: anywhere in [0, ceiling) (AWS's "full jitter", best against retry storms);
   * `equal`: in [ceiling / 2, ceiling), so a retry never comes back at once;
   * `none`: the ceiling itself.
   */
  jitter?: 'full' | 'equal' | 'none';
  /** A source in [0, 1). Default `Math.random`. */
  random?: () => number;
}

/**
 * Exponential backoff with jitter: the delay before retry number `attempt` (0 for the first
 * retry), within a ceiling of `baseMs * 2 ** attempt` capped at `maxMs`. The one backoff of the
 * EventBridge bus, the local bus, the event store, the projection runner and the view store:
 * each owns its loop (what to retry, how often) and asks this for the wait.
 *
 * @example
 * const delay = backoff({ baseMs: 100, maxMs: 20_000 });
 * for (let attempt = 0; ; attempt++) { try { return await call(); } catch { await sleep(delay(attempt)); } }
 */
export const backoff = ({ baseMs, maxMs, jitter = 'full', random = Math.random }: BackoffOptions) => (attempt: number): number => {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  if (jitter === 'none') return ceiling;
  return jitter === 'full' ? random() * ceiling : ceiling / 2 + random() * (ceiling / 2);
};

/**
 * Waits `ms`, or less if `signal` aborts first (it never rejects): the pause between polls or
 * retries of a loop that a caller may stop.
 *
 * @example
 * await pause(retry(attempt), stopped.signal);
 */
export const pause = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
