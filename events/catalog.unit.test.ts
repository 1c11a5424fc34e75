import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BuildEvent } from './build.ts';
import {
  catalog, catalogEntries, DetailType, EventType, isKnownEventType, parseEventData, Service, Source, UnknownEventTypeError,
  type CatalogEntry,
} from './catalog.ts';
import { DeployEvent } from './deploy.ts';
import { DomainEvent } from './domains.ts';
import { IngestEvent } from './ingest.ts';
import { ObservabilityEvent } from './observability.ts';
import { streamPrefixOf, streams, StreamPrefix, StreamTemplate } from './streams.ts';
import { SubscriptionEvent } from './subscriptions.ts';

const entries = catalogEntries();

/** Every key path of an object schema, looking through optional, nullable, arrays and unions. */
const keyPaths = (schema: z.core.$ZodType, at = ''): string[] => {
  const def = (schema as z.core.$ZodTypes)._zod.def;
  switch (def.type) {
    case 'object':
      return Object.entries(def.shape).flatMap(([k, v]) => [`${at}${k}`, ...keyPaths(v, `${at}${k}.`)]);
    case 'optional':
    case 'nullable':
      return keyPaths(def.innerType, at);
    case 'array':
      return keyPaths(def.element, at.replace(/\.$/, '[].'));
    case 'union':
      return def.options.flatMap((o) => keyPaths(o, at));
    default:
      return [];
  }
};

describe('the catalog', () => {
  it('has one entry per type, consistent with its constants', () => {
    expect(entries.length).toBe(Object.keys(EventType).length);
    expect(new Set(entries.map((e) => e.type)).size).toBe(entries.length);
    for (const e of entries) {
      expect(EventType[e.type]).toBe(e.type);
      expect(DetailType[e.type]).toBe(e.type);
      expect(e.detailType).toBe(e.type);
      expect(e.type).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(e.source).toBe(`shiplog.${e.service}`);
      expect(e.source).toBe(Source[e.service]);
      expect(e.data).toBeInstanceOf(z.ZodObject);
      expect(Number.isInteger(e.schemaVersion) && e.schemaVersion >= 1).toBe(true);
      expect(e.description.length).toBeGreaterThan(10);
    }
  });

  it('lists entries sorted by type', () => {
    const types = entries.map((e) => e.type);
    expect(types).toEqual([...types].sort());
  });

  it('gives every service a source and every stream prefix exactly one writer', () => {
    expect(Object.keys(Source).sort()).toEqual(Object.values(Service).sort());
    const writers = new Map<string, Set<string>>();
    for (const e of entries) writers.set(e.stream, (writers.get(e.stream) ?? new Set()).add(e.service));
    for (const [stream, services] of writers) expect([stream, [...services]]).toEqual([stream, [...services].slice(0, 1)]);
    expect([...writers.keys()].sort()).toEqual(Object.values(StreamPrefix).sort());
  });

  it("matches each service module's union to the types the catalog gives that service", () => {
    const unions: Record<Service, z.ZodDiscriminatedUnion> = {
      ingest: IngestEvent, build: BuildEvent, deploy: DeployEvent, domains: DomainEvent,
      observability: ObservabilityEvent, subscriptions: SubscriptionEvent,
    };
    for (const [service, union] of Object.entries(unions)) {
      const inUnion = union.options.map((o) => ((o as z.ZodObject).shape.type as z.ZodLiteral<string>).value).sort();
      expect([service, inUnion]).toEqual([service, entries.filter((e) => e.service === service).map((e) => e.type)]);
    }
  });

  it('requires deploymentId in data of deployment-scoped types that name one deployment', () => {
    for (const e of entries.filter((x) => x.deploymentScoped)) {
      const keys = keyPaths(e.data);
      expect([e.type, keys.includes('deploymentId') || keys.includes('toDeploymentId')]).toEqual([e.type, true]);
    }
  });

  it('knows its types and refuses others clearly', () => {
    expect(isKnownEventType('BuildSucceeded')).toBe(true);
    expect(isKnownEventType('toString')).toBe(false);
    expect(() => parseEventData('BuildExploded', {})).toThrow(UnknownEventTypeError);
    expect(() => parseEventData('BuildExploded', {})).toThrow(/Unknown event type "BuildExploded"/);
  });
});

describe('secrets never enter an event', () => {
  const forbiddenEverywhere = /password|passwd|token|private_?key|api_?key|credential/i;
  const secretLike = /secret|^value$/i;
  // Allowed: a reference to a secret, a flag, and public DNS record content.
  const allowed = new Set(['SubscriptionCreated:data.signingSecretRef', 'DomainValidationPending:data.records[].value']);
  const leaks = (e: CatalogEntry) =>
    keyPaths(e.data, 'data.')
      .filter((path) => {
        const key = path.split('.').at(-1)!;
        return forbiddenEverywhere.test(key) || secretLike.test(key);
      })
      .map((path) => `${e.type}:${path}`)
      .filter((id) => !allowed.has(id));

  it('no event schema has a value-, secret-, password- or token-like field', () => {
    expect(entries.flatMap(leaks)).toEqual([]);
  });

  it('env var events carry name, target, version and the sensitive flag, never a value', () => {
    for (const type of [EventType.EnvVarSet, EventType.EnvVarRemoved]) {
      const keys = keyPaths(catalog[type].data);
      expect(keys).not.toContain('value');
      expect(keys).toEqual(expect.arrayContaining(['name', 'target', 'version']));
    }
    expect(keyPaths(catalog.EnvVarSet.data)).toContain('sensitive');
    expect(keyPaths(catalog.DeploymentRequested.data)).toEqual(expect.arrayContaining(['env[].name', 'env[].version']));
  });

  it('the guard itself finds a leak', () => {
    const leaky = { ...catalog.EnvVarSet, data: z.object({ name: z.string(), value: z.string(), nested: z.array(z.object({ apiToken: z.string() })) }) };
    expect(leaks(leaky as unknown as CatalogEntry)).toEqual(['EnvVarSet:data.value', 'EnvVarSet:data.nested[].apiToken']);
  });
});

describe('stream ids', () => {
  it('are built by helpers, per aggregate', () => {
    expect(streams.project('web')).toBe('project#web');
    expect(streams.deployment('d1')).toBe('deployment#d1');
    expect(streams.build('d1')).toBe('build#d1');
    expect(streams.release('web', 'production')).toBe('release#web#production');
    expect(streams.domain('www.example.com')).toBe('domain#www.example.com');
    expect(streams.alarm('web', 'a1')).toBe('alarm#web#a1');
    expect(streams.subscription('s1')).toBe('subscription#s1');
    expect(streams.delivery('s1', 'e1')).toBe('delivery#s1#e1');
  });

  it('escape separators so ids never collide, and refuse empty parts', () => {
    expect(streams.release('a#b', 'c')).toBe('release#a%23b#c');
    expect(streams.release('a#b', 'c')).not.toBe(streams.release('a', 'b#c'));
    expect(streams.project('100%')).toBe('project#100%25');
    expect(() => streams.build('')).toThrow(/deploymentId/);
  });

  it('map back to their prefix', () => {
    expect(streamPrefixOf(streams.release('web', 'production'))).toBe(StreamPrefix.release);
    expect(streamPrefixOf('s#nope')).toBeUndefined();
    for (const e of entries) expect(Object.values(StreamPrefix)).toContain(e.stream);
    for (const prefix of Object.values(StreamPrefix)) expect(streamPrefixOf(StreamTemplate[prefix])).toBe(prefix);
  });
});
