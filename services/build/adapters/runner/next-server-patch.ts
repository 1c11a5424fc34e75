// What shiplog adds to Next's server inside an OpenNext server function, locally and on AWS.

/**
 * A JavaScript function, as source, that wraps `attachRequestMeta` of Next's `NextNodeServer`
 * class (the one `next/dist/server/next-server.js` exports as default) once, for every request
 * the server handles:
 *
 * - `res.revalidate()` in a Pages Router API route: Next calls the `revalidate` of the router
 *   server `next start` runs, found in the request's meta, else fails with "Invariant: missing
 *   internal router-server-methods". OpenNext runs the Next server without that router, so
 *   on-demand revalidation of a Pages Router page answered 500. The meta gets the server's own
 *   `revalidate` (what `next start`'s router hands over): a request for the path with the
 *   preview id in `x-prerender-revalidate`, handled in this process, which regenerates the page
 *   into OpenNext's cache. It resolves once that write is done: OpenNext's cache handler
 *   registers a page's write with the request's pending work, so without the wait the route's
 *   answer could reach the client before the page was written, and the next request got the
 *   old page.
 * - with `httpFromForwardedProto` (locally): Next's initial URL takes the scheme of
 *   `x-forwarded-proto` when that says http. OpenNext runs Next with `trustHostHeader`, which
 *   writes `request.url` as https://<host>…; `next start` on http says http.
 *
 * Called as `(NextNodeServer, { httpFromForwardedProto })`; a class without `attachRequestMeta`
 * (another Next) is left as it is.
 *
 * @example
 * const patch = new Function(`return ${nextServerPatchSource}`)();
 * patch(require('next/dist/server/next-server.js').default, { httpFromForwardedProto: true });
 */
export const nextServerPatchSource = `function shiplogPatchNextServer(server, opts) {
  const attach = server && server.prototype && server.prototype.attachRequestMeta;
  if (typeof attach !== 'function' || attach.shiplog) return;
  server.prototype.attachRequestMeta = Object.assign(function (req, ...rest) {
    const out = attach.call(this, req, ...rest);
    const meta = req && req[Symbol.for('NextInternalRequestMeta')];
    if (!meta) return out;
    if (meta.revalidate === undefined && typeof this.revalidate === 'function') {
      meta.revalidate = async (args) => {
        const done = await this.revalidate(args);
        // OpenNext's cache handler leaves a page's write pending on the request (its response is
        // sent first); res.revalidate() resolves once the page is written, as under next start.
        const store = globalThis.__openNextAls && globalThis.__openNextAls.getStore();
        if (store && store.pendingPromiseRunner) await store.pendingPromiseRunner.await();
        return done;
      };
    }
    if (opts && opts.httpFromForwardedProto) {
      const proto = String((req.headers && req.headers['x-forwarded-proto']) || '').split(',')[0].trim();
      if (proto === 'http' && typeof meta.initURL === 'string' && meta.initURL.startsWith('https://')) meta.initURL = 'http://' + meta.initURL.slice(8);
    }
    return out;
  }, { shiplog: true });
}`;
