import { describe, expect, it } from 'vitest';
import {
  catalog, catalogEntries, detailSchemaFor, EventType, InvalidEventDataError, parseDetail, parseEvent, parseEventData, type EventData,
} from './catalog.ts';
import type { EventMetadata } from './envelope.ts';

const sha = '9fceb02d0ae598e95dc970b74767f19372d61af8';
const zero = '0000000000000000000000000000000000000000';
const at = '2026-11-22T10:00:00.000Z';
const user = { kind: 'user', id: 'admin' } as const;
const build = { framework: 'nextjs', rootDirectory: '.', nodeVersion: '20.x' } as const;
const settings = { productionBranch: 'main', previewBranches: 'all', autoDeploy: true, build } as const;
const repository = { source: 'github', fullName: 'acme/web', cloneUrl: 'https://github.com/acme/web.git' } as const;
const commit = { sha, message: 'Fix nav', author: { name: 'Ada', email: 'ada@example.com', username: 'ada' } };
const env = [{ name: 'DATABASE_URL', target: 'production', version: 3 }] as const;
const p = { projectId: 'web' } as const;
const d = { ...p, deploymentId: 'd1' } as const;
const b = { ...d, buildId: 'b1' } as const;
const dom = { ...p, host: 'www.example.com' } as const;
const cert = 'arn:aws:acm:us-east-1:123456789012:certificate/abc';
const delivery = { ...p, subscriptionId: 's1', deliveryId: 'dl1', eventId: '01JD2Z8J6X3Q4R5S6T7V8W9XYZ', eventType: 'DeploymentLive', attempt: 1 };

/** One valid `data` per event type; the type makes sure no type is forgotten. */
const samples: { [T in EventType]: EventData<T> } = {
  ProjectCreated: { ...p, name: 'Web', repository, settings },
  ProjectSettingsChanged: { ...p, settings: { ...settings, productionBranch: 'trunk' }, changed: ['productionBranch'] },
  ProjectMountsChanged: { ...p, mounts: [{ prefix: '/outreach', project: 'outreach' }], change: { op: 'add', prefix: '/outreach', project: 'outreach' } },
  EnvVarSet: { ...p, name: 'API_KEY', target: 'production', version: 2, sensitive: true },
  EnvVarRemoved: { ...p, name: 'API_KEY', target: 'preview', version: 2 },
  PushReceived: {
    ...p, deliveryId: 'gh-1', source: 'github', repository: 'acme/web', ref: 'refs/heads/main', branch: 'main',
    before: zero, after: sha, headCommit: commit, pusher: { name: 'ada' }, forced: false,
  },
  PushIgnored: { ...p, deliveryId: 'gh-2', ref: 'refs/tags/v1', sha, reason: 'tag' },
  DeploymentRequested: {
    ...d, target: 'production', alias: 'production', trigger: 'push', branch: 'main', commit, repository,
    buildSettings: build, env: [...env], requestedBy: user, requestedAt: at, pushDeliveryId: 'gh-1',
  },
  RollbackRequested: { ...p, alias: 'production', reason: '500s on /cart', requestedBy: user },
  PromoteRequested: { ...d, alias: 'production', requestedBy: user },
  BuildQueued: {
    ...b, target: 'production', alias: 'production', branch: 'main', sha, repository, buildSettings: build, env: [...env], requestedAt: at,
  },
  BuildStarted: { ...b, runner: 'codebuild', runnerBuildId: 'shiplog-build:1f2e', startedAt: at, deadlineAt: '2026-11-22T10:30:00.000Z' },
  BuildSucceeded: {
    ...b, target: 'production', alias: 'production', sha, requestedAt: at,
    artifact: { uri: 's3://artifacts/web/d1.zip', sha256: 'a'.repeat(64), sizeBytes: 1024 },
    durations: { queuedMs: 900, buildMs: 61000, totalMs: 62000 },
    versions: { next: '15.1.0', opennext: '3.4.0', node: '20.19.0' },
  },
  BuildFailed: { ...b, reason: 'build-failed', exitCode: 1, message: 'next build exited with code 1', logTail: ['Type error: x'] },
  BuildCanceled: { ...b, reason: 'superseded', supersededBy: 'd2' },
  BuildTimedOut: { ...b, limitSeconds: 1800, startedAt: at, detectedBy: 'reconciliation' },
  AssetsUploaded: { ...d, sha: 'a'.repeat(40), requestedAt: at, assetsUri: 's3://assets/web/d1/', fileCount: 412, totalBytes: 5242880, durationMs: 2100 },
  FunctionVersionPublished: { ...d, role: 'server', functionName: 'shiplog-web-server', version: '42', codeSha256: 'q1w2e3' },
  AliasShifted: { ...p, alias: 'production', fromDeploymentId: null, toDeploymentId: 'd1', reason: 'deploy' },
  DeploymentLive: {
    ...d, target: 'production', alias: 'production', sha, url: 'https://web-d1.shiplog.example.com',
    aliasUrls: ['https://web.shiplog.example.com'], previousDeploymentId: null, totalMs: 95000,
  },
  DeploymentFailed: { ...d, stage: 'build', message: 'next build exited with code 1', buildId: 'b1' },
  DeploymentRejected: { ...d, alias: 'production', reason: 'stale', liveDeploymentId: 'd2' },
  RolledBack: { ...p, alias: 'production', fromDeploymentId: 'd2', toDeploymentId: 'd1', requestedBy: user, reason: '500s' },
  RollbackRejected: { ...p, alias: 'production', reason: 'no earlier ready deployment', requestedBy: user },
  Promoted: { ...d, alias: 'production', fromDeploymentId: 'd0', requestedBy: user },
  DomainAdded: { ...dom, alias: 'production' },
  CertificateRequested: { ...dom, certificateId: cert, provider: 'acm', subjectAlternativeNames: [] },
  DomainValidationPending: {
    ...dom, certificateId: cert, expiresAt: at,
    records: [{ purpose: 'certificate-validation', name: '_x.www.example.com', type: 'CNAME', value: '_y.acm-validations.aws' }],
  },
  CertificateIssued: { ...dom, certificateId: cert, issuer: 'Amazon', notBefore: at, notAfter: '2027-12-21T23:59:59.000Z' },
  DomainActive: { ...dom, alias: 'production', certificateId: cert },
  DomainFailed: { ...dom, reason: 'validation-timed-out', retryable: true },
  DomainRemoved: { ...dom },
  AlarmRuleSet: {
    ...p, alarmId: 'error-rate', metric: '5xx-rate', maxErrorRate: 0.05, windowSeconds: 300, minRequests: 20, autoRollback: true, watchSeconds: 600, setBy: user,
  },
  AlarmRaised: {
    ...p, alarmId: 'a1', alias: 'production', deploymentId: 'd1', metric: '5xx-rate', severity: 'critical',
    threshold: 0.05, observed: 0.12, windowSeconds: 300, since: at,
  },
  AlarmCleared: { ...p, alarmId: 'a1', metric: '5xx-rate', observed: 0.01, raisedAt: at },
  SubscriptionCreated: {
    ...p, subscriptionId: 's1', targetUrl: 'https://hooks.example.com/shiplog', eventPattern: '{"source":["shiplog.deploy"]}',
    signingSecretRef: 'ssm:/shiplog/subscriptions/s1/signing-secret', createdBy: user,
  },
  SubscriptionRemoved: { ...p, subscriptionId: 's1', reason: 'user' },
  DeliverySucceeded: { ...delivery, statusCode: 200, durationMs: 120 },
  DeliveryFailed: { ...delivery, attempt: 2, statusCode: null, error: 'ETIMEDOUT', willRetry: true, nextAttemptAt: at },
};

const errorOf = (f: () => unknown): Error => {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
};

describe('event samples', () => {
  it.each(catalogEntries().map((e) => e.type))('a valid %s parses unchanged', (type) => {
    expect(parseEventData(type, samples[type])).toEqual(samples[type]);
  });

  it('parses a whole event into the discriminated union', () => {
    const e = parseEvent({ type: EventType.BuildFailed, data: samples.BuildFailed });
    expect(e.type === EventType.BuildFailed && e.data.reason).toBe('build-failed');
  });

  it.each([
    ['BuildSucceeded', { ...samples.BuildSucceeded, sha: 'abc' }, 'sha', 'full lowercase hex commit sha'],
    ['DeploymentRequested', { ...samples.DeploymentRequested, requestedAt: 'yesterday' }, 'requestedAt', 'datetime'],
    ['PushIgnored', { ...samples.PushIgnored, reason: 'bored' }, 'reason', 'tag'],
    ['EnvVarSet', { ...samples.EnvVarSet, name: '1BAD' }, 'name', 'environment variable name'],
    ['ProjectCreated', { ...samples.ProjectCreated, projectId: 'Web App' }, 'projectId', 'lowercase slug'],
    ['SubscriptionCreated', { ...samples.SubscriptionCreated, eventPattern: '[1]' }, 'eventPattern', 'JSON object'],
    ['SubscriptionCreated', { ...samples.SubscriptionCreated, signingSecretRef: 'hunter2' }, 'signingSecretRef', 'secret reference'],
    ['DomainAdded', { ...samples.DomainAdded, host: 'https://Example.com' }, 'host', 'host name'],
    ['AliasShifted', { ...samples.AliasShifted, alias: '123' }, 'alias', 'Lambda alias'],
    ['ProjectMountsChanged', { ...samples.ProjectMountsChanged, mounts: [{ prefix: '/outreach/', project: 'outreach' }] }, 'mounts', 'no trailing slash'],
    ['ProjectMountsChanged', { ...samples.ProjectMountsChanged, mounts: [{ prefix: '/_next/x', project: 'outreach' }] }, 'mounts', 'not be under /_next'],
  ] as const)('an invalid %s fails on %s with a useful message', (type, data, field, hint) => {
    const err = errorOf(() => parseEventData(type, data));
    expect(err).toBeInstanceOf(InvalidEventDataError);
    expect(err.message).toContain(`Invalid data for event ${type}`);
    expect(err.message).toContain(field);
    expect(err.message).toContain(hint);
    expect((err as InvalidEventDataError).issues[0]?.path).toContain(field);
  });

  it('reports a missing required field by name', () => {
    const { buildId: _omit, ...noBuildId } = samples.BuildStarted;
    const err = errorOf(() => parseEventData(EventType.BuildStarted, noBuildId));
    expect(err.message).toMatch(/buildId/);
  });
});

describe('detail schemas', () => {
  const metadata = (type: EventType, extra: Partial<EventMetadata> = {}): EventMetadata => ({
    eventId: '01JD2Z8J6X3Q4R5S6T7V8W9XYZ', streamId: 'x#1', version: 1, occurredAt: at,
    schemaVersion: catalog[type].schemaVersion, correlationId: 'd1', causationId: null, projectId: 'web',
    ...(catalog[type].deploymentScoped ? { deploymentId: 'd1' } : {}),
    actor: { kind: 'service', id: 'test' }, ...extra,
  });

  it.each(catalogEntries().map((e) => e.type))('a valid %s detail parses', (type) => {
    expect(detailSchemaFor(type).parse({ metadata: metadata(type), data: samples[type] }).data).toEqual(samples[type]);
  });

  it('requires metadata.deploymentId on deployment-scoped types only', () => {
    const { deploymentId: _omit, ...unscoped } = metadata(EventType.BuildStarted);
    expect(() => parseDetail(EventType.BuildStarted, { metadata: unscoped, data: samples.BuildStarted })).toThrow(/deploymentId/);
    expect(parseDetail(EventType.DomainAdded, { metadata: metadata(EventType.DomainAdded), data: samples.DomainAdded }).data.host)
      .toBe('www.example.com');
  });

  it('pins metadata.schemaVersion to the current version', () => {
    const old = { metadata: metadata(EventType.BuildFailed, { schemaVersion: 1 }), data: samples.BuildFailed };
    expect(() => parseDetail(EventType.BuildFailed, old)).toThrow(/schemaVersion/);
  });

  it('rejects ids in data that disagree with metadata', () => {
    const other = { metadata: metadata(EventType.BuildStarted, { projectId: 'shop' }), data: samples.BuildStarted };
    expect(() => parseDetail(EventType.BuildStarted, other)).toThrow(/projectId in data \("web"\)/);
    const alias = { metadata: metadata(EventType.AliasShifted, { deploymentId: 'd9' }), data: samples.AliasShifted };
    expect(() => parseDetail(EventType.AliasShifted, alias)).toThrow(/deploymentId in data \("d1"\)/);
  });
});
