import { compilePattern, type EventMatcher } from '../../../events/bus/pattern/index.ts';
import { rateRow, type BenchSuite } from '../lib.ts';

// Matcher throughput: ~50 patterns of the kind shiplog's subscriptions use, each compiled once,
// tested against 2,000 bus events. Baseline: a hand-written source + detail-type equality check
// over the same pairs, i.e. the cheapest possible routing.

const TYPES: Record<string, string[]> = {
  'shiplog.build': ['BuildRequested', 'BuildStarted', 'BuildSucceeded', 'BuildFailed', 'BuildCancelled'],
  'shiplog.deploy': ['DeploymentRequested', 'DeploymentStarted', 'DeploymentSucceeded', 'DeploymentFailed', 'AliasAssigned'],
  'shiplog.ingest': ['PushReceived', 'PullRequestOpened', 'PullRequestClosed'],
  'shiplog.observability': ['AlarmRaised', 'AlarmCleared', 'MetricsRolledUp'],
};
const SOURCES = Object.keys(TYPES);
const PROJECTS = ['web', 'docs', 'shop', 'blog', 'admin', 'api', 'landing', 'status'];

/** A small deterministic PRNG so every run matches the same events. */
const prng = (seed: number) => () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
};

const pick = <T>(rand: () => number, items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;

const makeEvents = (n: number): Record<string, unknown>[] => {
  const rand = prng(42);
  return Array.from({ length: n }, (_, i) => {
    const source = pick(rand, SOURCES);
    const type = pick(rand, TYPES[source] ?? []);
    const projectId = pick(rand, PROJECTS);
    const deploymentId = `dpl_${Math.floor(rand() * 500)}`;
    return {
      version: '0',
      id: `evt-${i}`,
      'detail-type': type,
      source,
      account: '000000000000',
      time: '2026-11-22T10:00:00Z',
      region: 'eu-west-1',
      resources: [],
      detail: {
        metadata: {
          eventId: `01JD2Z8J6X3Q4R5S6T7V8W${String(i).padStart(4, '0')}`,
          streamId: `${source.slice(8)}#${deploymentId}`,
          version: 1 + Math.floor(rand() * 20),
          occurredAt: '2026-11-22T10:00:00.000Z',
          schemaVersion: 1,
          correlationId: deploymentId,
          causationId: rand() < 0.2 ? null : `evt-${i - 1}`,
          projectId,
          ...(rand() < 0.8 ? { deploymentId } : {}),
          actor: { kind: pick(rand, ['user', 'service', 'github', 'system']), id: pick(rand, ['admin', 'build', 'ci']) },
          ...(rand() < 0.05 ? { replay: true } : {}),
        },
        data: {
          target: pick(rand, ['production', 'preview']),
          branch: pick(rand, ['main', 'feature/login', 'fix/typo', 'release/1.2']),
          durationMs: Math.floor(rand() * 600_000),
          clientIp: `10.${Math.floor(rand() * 4)}.${Math.floor(rand() * 255)}.${Math.floor(rand() * 255)}`,
          tags: [pick(rand, ['nextjs', 'static', 'edge']), pick(rand, ['eu', 'us'])],
          steps: [{ name: 'install', ok: true }, { name: 'build', ok: rand() < 0.9 }],
        },
      },
    };
  });
};

/** Patterns with their (source, detail-type) pair, used by the naive baseline. */
const makePatterns = (): { pattern: object; source: string; type: string }[] => {
  const out: { pattern: object; source: string; type: string }[] = [];
  const pairs = SOURCES.flatMap((s) => (TYPES[s] ?? []).map((t) => [s, t] as const));
  pairs.forEach(([source, type], i) => {
    const base = { source: [source], 'detail-type': [type] };
    const variants: object[] = [
      base,
      { ...base, detail: { metadata: { projectId: [PROJECTS[i % PROJECTS.length]], replay: [{ exists: false }] } } },
      { ...base, detail: { data: { target: ['production'], durationMs: [{ numeric: ['>=', 60_000, '<', 300_000] }] } } },
    ];
    const extra = [
      { ...base, detail: { data: { branch: [{ prefix: 'release/' }, { wildcard: 'feature/*' }] } } },
      { ...base, detail: { metadata: { actor: { kind: [{ 'anything-but': ['system', 'github'] }] } } } },
      { ...base, detail: { data: { clientIp: [{ cidr: '10.1.0.0/16' }], tags: ['edge'] } } },
      { ...base, detail: { data: { steps: { name: ['build'], ok: [false] } } } },
      { ...base, $or: [{ detail: { metadata: { deploymentId: [{ exists: true }] } } }, { detail: { data: { target: [{ 'equals-ignore-case': 'PREVIEW' }] } } }] },
    ];
    out.push(...[...variants, extra[i % extra.length] as object].map((pattern) => ({ pattern, source, type })));
  });
  return out.slice(0, 50);
};

/** Runs `round` repeatedly for at least `ms` and returns calls per second times `perRound`. */
const rate = (perRound: number, ms: number, round: () => number): { perSecond: number; hits: number } => {
  let rounds = 0;
  let hits = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    hits += round();
    rounds++;
  }
  return { perSecond: (rounds * perRound) / ((performance.now() - t0) / 1000), hits };
};

/**
 * Matcher throughput in pattern×event matches per second, against the naive equality baseline.
 *
 * @example
 * const rows = await matcherBench({ dynamo: () => Promise.reject(new Error('the matcher needs no database')) });
 */
export const matcherBench: BenchSuite = async () => {
  const events = makeEvents(2_000);
  const patterns = makePatterns();
  const matchers: EventMatcher[] = patterns.map((p) => compilePattern(p.pattern));
  const pairs = patterns.map((p) => [p.source, p.type] as const);
  const perRound = events.length * patterns.length;

  const compiled = () => {
    let hits = 0;
    for (const event of events) for (const match of matchers) if (match(event)) hits++;
    return hits;
  };
  const naive = () => {
    let hits = 0;
    for (const event of events) {
      for (const [source, type] of pairs) if (event.source === source && event['detail-type'] === type) hits++;
    }
    return hits;
  };

  rate(perRound, 200, compiled); // warm-up
  rate(perRound, 200, naive);
  const measured = rate(perRound, 1_000, compiled);
  const baseline = rate(perRound, 1_000, naive);
  return [rateRow(`pattern×event matches/s (${patterns.length} patterns × ${events.length} events)`, 'matches/s', measured.perSecond, baseline.perSecond)];
};
