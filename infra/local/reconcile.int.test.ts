import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monotonicFactory } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streams, eventTypes, type EventData } from '../../events/index.ts';
import { createEventStoreTable, dynamoEventStore } from '../../events/store/index.ts';
import { localLogStore } from '../../services/build/adapters/log-store/local.ts';
import { groupMembers, recordProcess } from '../../services/build/adapters/runner/process-record.ts';
import { localScheduler } from '../../services/build/adapters/scheduler/local.ts';
import { buildDecider, buildService, describeArtifactDir, type BuildOutcome, type BuildRunner, type BuildCommand } from '../../services/build/index.ts';
import { execute } from '../../services/shell/index.ts';
import { testDynamoClient, uniqueTableName } from '../../test/support/dynamo.ts';
import { buildReconciler } from './reconcile.ts';

// The store is DynamoDB Local; the runner is the port with outcomes the test decides (a real
// build is the crash suite's business, test/crash).
const client = testDynamoClient();
const tableName = uniqueTableName(import.meta.url, 'events');
const store = dynamoEventStore({ client, tableName, types: eventTypes });
const ulid = monotonicFactory();
const now = () => new Date().toISOString();
const root = mkdtempSync(join(tmpdir(), 'shiplog-reconcile-'));
const dataDir = join(root, 'data');
const workRoot = join(dataDir, 'builds', 'work');
const artifact = join(root, 'artifact');
const logs = localLogStore(dataDir);

const request = (deploymentId: string): EventData<'DeploymentRequested'> => ({
  projectId: 'web', deploymentId, target: 'production', alias: 'production', trigger: 'push', branch: `b-${deploymentId}`,
  commit: { sha: 'a'.repeat(40), message: 'm', author: { name: 'A', email: 'a@example.com' }, timestamp: now() },
  repository: { source: 'git', fullName: 'web', cloneUrl: 'http://localhost:3000/git/web.git' },
  buildSettings: { framework: 'nextjs', rootDirectory: '.', nodeVersion: '20.x' }, env: [],
  requestedBy: { kind: 'git', id: 'dev' }, requestedAt: now(),
});
const ctx = { ids: ulid, now, cause: null, actor: { kind: 'service', id: 'build' } } as const;
const run = (id: string, cmd: BuildCommand) => execute(store, streams.build(id), buildDecider, () => cmd, ctx);
const types = async (id: string) => (await store.readStream(streams.build(id))).map((e) => e.type);

const ok: BuildOutcome = { ok: true, artifactDir: artifact, durationsMs: { checkout: 1, install: 1, build: 1, package: 1 }, versions: { next: '16', openNext: '3' } };
/** A runner whose builds end with `outcome`, or only when canceled (`'never'`). */
const runner = (outcome: (() => Promise<BuildOutcome>) | 'never'): BuildRunner => ({
  start: () => {
    if (outcome !== 'never') return { outcome: outcome(), cancel: () => undefined };
    let cancel!: (reason: string) => void;
    const canceled = new Promise<BuildOutcome>((r) => (cancel = (message) => r({ ok: false, reason: 'canceled', exitCode: null, message, logTail: [] })));
    return { outcome: canceled, cancel };
  },
});
const service = () => buildService({ store, ids: ulid, now, repoFor: () => '/repo.git', describeArtifact: describeArtifactDir, timeoutMs: 60_000 });
const scheduler = (r: BuildRunner, build = service(), concurrency = 1) => {
  const s = localScheduler({ dataDir, runner: r, logs, envFor: async () => ({}), events: build.schedulerEvents, concurrency });
  build.attach(s);
  return { s, build };
};

beforeAll(async () => {
  await createEventStoreTable(client, tableName);
  mkdirSync(artifact, { recursive: true });
  writeFileSync(join(artifact, 'open-next.output.json'), '{}');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('build reconciliation after a restart', () => {
  it('resumes an interrupted build once, fails it on the second interruption, and resumes a build that was never queued to a runner', async () => {
    const [d1, d2, d3] = [ulid(), ulid(), ulid()];
    for (const d of [d1, d2, d3]) await run(d, { type: 'QueueBuild', request: request(d), buildId: ulid(), now: now() });

    // The first run: d1 and d2 start and never end (shiplog is killed); d2 was already resumed once.
    const first = scheduler(runner('never'), service(), 2);
    await first.s.submit(await scheduled(d1));
    await first.s.resubmit(await scheduled(d2), 1);
    await expect.poll(() => Promise.all([types(d1), types(d2)])).toEqual([['BuildQueued', 'BuildStarted'], ['BuildQueued', 'BuildStarted']]);
    // d2's `next build` is still running in its own process group, as after a `kill -9` of shiplog.
    mkdirSync(join(workRoot, d2), { recursive: true });
    const orphan = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    recordProcess(join(workRoot, d2), { phase: 'build', pgid: orphan.pid! });
    expect(groupMembers(orphan.pid!)).toEqual([orphan.pid]);

    // The restart: a new scheduler on the same data dir, and one reconciliation pass.
    const second = scheduler(runner(async () => ok));
    const reconciler = buildReconciler({ store, build: second.build, scheduler: second.s, logs, workRoot, maxResumes: 1, log: () => undefined });
    expect(await reconciler.pass()).toEqual({ resumed: 2, interrupted: 1 });

    await expect.poll(() => types(d1)).toEqual(['BuildQueued', 'BuildStarted', 'BuildSucceeded']);
    await expect.poll(() => types(d3)).toEqual(['BuildQueued', 'BuildStarted', 'BuildSucceeded']);
    const failed = (await store.readStream(streams.build(d2))).at(-1)!;
    expect(failed.type).toBe('BuildFailed');
    expect(failed.data).toMatchObject({ reason: 'infrastructure', exitCode: null, message: 'interrupted: shiplog restarted during next build' });
    expect(groupMembers(orphan.pid!)).toEqual([]);
    expect(existsSync(join(workRoot, d2))).toBe(false);
    // Nothing is left to reconcile, and the journal is empty once every end is stored.
    await expect.poll(() => second.s.journaled().length).toBe(0);
    expect(await reconciler.pass()).toEqual({ resumed: 0, interrupted: 0 });
    await Promise.all([first.s.stop(), second.s.stop()]);
  }, 60_000);

  it('stores a build\'s end before its queue entry goes, retrying while the store is unreachable', async () => {
    const d = ulid();
    await run(d, { type: 'QueueBuild', request: request(d), buildId: ulid(), now: now() });
    const build = service();
    const seen: boolean[] = [];
    let failures = 2;
    const s = localScheduler({
      dataDir, runner: runner(async () => ok), logs, envFor: async () => ({}),
      events: {
        ...build.schedulerEvents,
        finished: async (b, outcome) => {
          seen.push(s.journaled().some((j) => j.build.deploymentId === d));
          if (failures-- > 0) throw new Error('connect ECONNREFUSED (DynamoDB Local restarting)');
          await build.schedulerEvents.finished(b, outcome);
        },
      },
    });
    await s.submit(await scheduled(d));
    await expect.poll(() => types(d), { timeout: 20_000 }).toEqual(['BuildQueued', 'BuildStarted', 'BuildSucceeded']);
    await expect.poll(() => s.active()).toEqual([]);
    expect(seen).toEqual([true, true, true]);
    expect(s.journaled()).toEqual([]);
    await s.stop();
  }, 60_000);
});

/** The ScheduledBuild the build service would submit for a queued deployment. */
async function scheduled(deploymentId: string) {
  const q = (await store.readStream(streams.build(deploymentId)))[0]!;
  const data = q.data as EventData<'BuildQueued'>;
  return {
    deploymentId, projectId: data.projectId, lane: `${data.projectId}#${data.branch}#${data.target}`, requestedAt: data.requestedAt,
    target: data.target, causeEventId: q.metadata.eventId,
    job: { deploymentId, projectId: data.projectId, repo: '/repo.git', sha: data.sha, rootDir: '.', installCommand: 'npm ci', buildCommand: 'npx next build', timeoutMs: 60_000 },
  };
}
