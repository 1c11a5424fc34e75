// Preloaded into the Playwright runner (NODE_OPTIONS=--import): Node does not resolve
// `<project>.localhost` (Chromium does), and the suite's `request` fixture and fetch() calls
// run in Node. Every *.localhost name answers 127.0.0.1, as in the browser.
import dns from 'node:dns';

const local = (host) => typeof host === 'string' && /(^|\.)localhost\.?$/i.test(host);
const lookup = dns.lookup;
dns.lookup = function (host, options, callback) {
  if (!local(host)) return lookup.apply(this, arguments);
  const cb = typeof options === 'function' ? options : callback;
  const all = typeof options === 'object' && options !== null && options.all;
  process.nextTick(() => (all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)));
  return {};
};
const plookup = dns.promises.lookup;
dns.promises.lookup = async function (host, options) {
  if (!local(host)) return plookup.apply(this, arguments);
  return options && options.all ? [{ address: '127.0.0.1', family: 4 }] : { address: '127.0.0.1', family: 4 };
};
