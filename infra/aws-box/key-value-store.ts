import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KeyValueReader } from '../aws/edge/runner.ts';
import { readText } from './http-body.ts';

// The box's stand-in for CloudFront KeyValueStore, which moto does not serve (404): the data-plane
// API the deploy service writes with (`cloudfront-keyvaluestore`: DescribeKeyValueStore, GetKey,
// PutKey, DeleteKey, UpdateKeys, ListKeys, with ETag preconditions) and, for the front door's
// CloudFront Function, `cf.kvs(id).get`. Updates are visible at once (CloudFront propagates them
// to its edges in seconds).

interface Store {
  arn: string;
  id: string;
  name: string;
  created: Date;
  modified: Date;
  etag: string;
  items: Map<string, string>;
}

/** What {@link keyValueStoreStandIn} answers a request it cannot serve with, as the service does. */
class KvsError extends Error {
  constructor(readonly status: number, readonly type: string, message: string) {
    super(message);
  }
}

/**
 * The box's KeyValueStores: created from the declaration (`create`), read by the front door
 * (`reader`), served over HTTP to the SDK (`handle`, for requests signed for
 * `cloudfront-keyvaluestore`).
 *
 * @example
 * const kvs = keyValueStoreStandIn();
 * kvs.create({ name: 'shiplog-box-sites', arn, id });
 * await kvs.reader(id).get('a:web:production');
 */
export const keyValueStoreStandIn = () => {
  const stores = new Map<string, Store>();
  const byArnOrId = (key: string): Store => {
    const s = stores.get(key) ?? [...stores.values()].find((v) => v.id === key);
    if (!s) throw new KvsError(404, 'ResourceNotFoundException', `no key value store ${key}`);
    return s;
  };
  const size = (s: Store) => [...s.items].reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  const summary = (s: Store) => ({ ItemCount: s.items.size, TotalSizeInBytes: size(s), ETag: s.etag });
  const update = (s: Store, ifMatch: string | undefined, puts: { Key: string; Value: string }[], deletes: { Key: string }[]) => {
    if (!ifMatch) throw new KvsError(400, 'ValidationException', 'IfMatch is required');
    if (ifMatch !== s.etag) throw new KvsError(409, 'ConflictException', 'the key value store changed since its ETag was read');
    for (const p of puts) {
      if (!p.Key || p.Key.length > 512) throw new KvsError(400, 'ValidationException', `key ${String(p.Key).slice(0, 40)} must hold 1 to 512 characters`);
      if (typeof p.Value !== 'string' || p.Value.length > 1024) throw new KvsError(400, 'ValidationException', `the value of ${p.Key} must hold at most 1024 characters`);
    }
    for (const p of puts) s.items.set(p.Key, p.Value);
    for (const d of deletes) s.items.delete(d.Key);
    if (size(s) > 5 * 1024 * 1024) throw new KvsError(402, 'ServiceQuotaExceededException', 'the key value store is past 5 MB');
    s.etag = randomUUID();
    s.modified = new Date();
    return summary(s);
  };

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://box');
    const m = /^\/key-value-stores\/([^/]+)(?:\/keys(?:\/([^/]+))?)?$/.exec(url.pathname);
    if (!m) throw new KvsError(404, 'UnknownOperationException', `${req.method} ${url.pathname}`);
    const s = byArnOrId(decodeURIComponent(m[1]!));
    const key = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    const onKeys = url.pathname.includes('/keys');
    const ifMatch = req.headers['if-match'] as string | undefined;
    let out: Record<string, unknown>;
    if (!onKeys && req.method === 'GET') {
      out = { KvsARN: s.arn, ...summary(s), Created: s.created.getTime() / 1000, LastModified: s.modified.getTime() / 1000, Status: 'READY' };
    } else if (onKeys && key === undefined && req.method === 'POST') {
      const body = JSON.parse((await readText(req)) || '{}') as { Puts?: { Key: string; Value: string }[]; Deletes?: { Key: string }[] };
      out = update(s, ifMatch, body.Puts ?? [], body.Deletes ?? []);
    } else if (onKeys && key === undefined && req.method === 'GET') {
      out = { Items: [...s.items].map(([Key, Value]) => ({ Key, Value })) };
    } else if (key !== undefined && req.method === 'GET') {
      const value = s.items.get(key);
      if (value === undefined) throw new KvsError(404, 'ResourceNotFoundException', `no key ${key}`);
      out = { Key: key, Value: value, ItemCount: s.items.size, TotalSizeInBytes: size(s) };
    } else if (key !== undefined && req.method === 'PUT') {
      const body = JSON.parse((await readText(req)) || '{}') as { Value?: string };
      out = update(s, ifMatch, [{ Key: key, Value: body.Value ?? '' }], []);
    } else if (key !== undefined && req.method === 'DELETE') {
      out = update(s, ifMatch, [], [{ Key: key }]);
    } else {
      throw new KvsError(404, 'UnknownOperationException', `${req.method} ${url.pathname}`);
    }
    res.writeHead(200, { 'content-type': 'application/json', ...(typeof out.ETag === 'string' ? { etag: out.ETag } : {}) });
    res.end(JSON.stringify(out));
  };

  return {
    create(spec: { name: string; arn: string; id: string }) {
      if (!stores.has(spec.arn)) {
        const now = new Date();
        stores.set(spec.arn, { ...spec, created: now, modified: now, etag: randomUUID(), items: new Map() });
      }
    },
    /** The store as the CloudFront Function reads it (`cf.kvs(id)`): `get` rejects for a missing key. */
    reader(id: string): KeyValueReader {
      return {
        get: async (key) => {
          const value = byArnOrId(id).items.get(key);
          if (value === undefined) throw new Error(`key ${key} not found`);
          return value;
        },
      };
    },
    handle(req: IncomingMessage, res: ServerResponse): void {
      serve(req, res).catch((err: unknown) => {
        const e = err instanceof KvsError ? err : new KvsError(500, 'InternalServerException', (err as Error).message);
        if (res.headersSent) return void res.end();
        res.writeHead(e.status, { 'content-type': 'application/json', 'x-amzn-errortype': e.type });
        res.end(JSON.stringify({ message: e.message }));
      });
    },
  };
};

export type KeyValueStoreStandIn = ReturnType<typeof keyValueStoreStandIn>;
