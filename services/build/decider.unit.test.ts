import { describe, expect, it } from 'vitest';
import type { EventData } from '../../events/catalog.ts';
import { deciderSpec } from '../../test/support/decider-spec.ts';
import { buildDecider, decide, evolve, initialState, reconcile, type BuildCommand } from './decider.ts';

const given = deciderSpec(buildDecider);
const request: EventData<'DeploymentRequested'> = {
  projectId: 'web', deploymentId: 'd1', target: 'production', alias: 'production', trigger: 'push', branch: 'main',
  commit: { sha: 'a'.repeat(40), message: 'm', author: { name: 'A', email: 'a@example.com' }, timestamp: '2026-11-22T10:00:00.000Z' },
  repository: { source: 'git', fullName: 'web', cloneUrl: 'http://localhost:3000/git/web.git' },
  buildSettings: { framework: 'nextjs', rootDirectory: '.', nodeVersion: '20.x' }, env: [],
  requestedBy: { kind: 'git', id: 'dev' }, requestedAt: '2026-11-22T10:00:00.000Z',
};
const queue: BuildCommand = { type: 'QueueBuild', request, buildId: 'b1', now: '2026-11-22T10:00:01.000Z' };
const start: BuildCommand = { type: 'StartBuild', runner: 'local', runnerBuildId: '42', now: '2026-11-22T10:00:05.000Z', deadlineAt: '2026-11-22T10:20:05.000Z' };
const complete: BuildCommand = {
  type: 'CompleteBuild', artifact: { uri: 'file:///x', sha256: 'f'.repeat(64), sizeBytes: 1 }, installMs: 1000, buildMs: 2000,
  versions: { next: '16.4.5', opennext: '4.1.12', node: '20.20.2' }, now: '2026-11-22T10:01:00.000Z',
};
const queued = decide(queue, initialState());
const started = [...queued, ...decide(start, queued.reduce(evolve, initialState()))];

describe('build decider', () => {
  it('queues once per deployment, carrying what deploy needs', () => {
    given([]).when(queue).then((e) => expect(e[0]).toMatchObject({ type: 'BuildQueued', data: { sha: request.commit.sha, alias: 'production', requestedAt: request.requestedAt } }));
    given(queued).when(queue).thenNothing();
  });

  it('starts a queued build, and only once', () => {
    given(queued).when(start).thenTypes(['BuildStarted']);
    given(started).when(start).thenNothing();
  });

  it('succeeds with durations measured from the request', () =>
    given(started).when(complete).then((e) =>
      expect(e[0]!.data).toMatchObject({ durations: { queuedMs: 5000, installMs: 1000, buildMs: 2000, totalMs: 60_000 } })));

  it('ends once: nothing after a cancel, a failure or a timeout', () => {
    const cancel: BuildCommand = { type: 'CancelBuild', reason: 'superseded', supersededBy: 'd2' };
    const canceled = [...started, ...decide(cancel, started.reduce(evolve, initialState()))];
    expect(canceled.at(-1)).toMatchObject({ type: 'BuildCanceled', data: { supersededBy: 'd2' } });
    given(canceled).when(complete).thenNothing();
    given(canceled).when({ type: 'TimeOutBuild', limitSeconds: 1200, detectedBy: 'runner' }).thenNothing();
  });

  it('keeps the last 100 log lines of a failure', () =>
    given(started).when({ type: 'FailBuild', reason: 'build-failed', exitCode: 1, message: 'Failed to compile', logTail: Array.from({ length: 150 }, (_, i) => `l${i}`), now: complete.now })
      .then((e) => expect((e[0]!.data as { logTail: string[] }).logTail).toHaveLength(100)));

  it('times out only a running build', () => {
    given(queued).when({ type: 'TimeOutBuild', limitSeconds: 60, detectedBy: 'reconciliation' }).thenNothing();
    given(started).when({ type: 'TimeOutBuild', limitSeconds: 60, detectedBy: 'reconciliation' }).thenTypes(['BuildTimedOut']);
  });

  it('fails an interrupted build with the phase it was in, and only an unfinished one', () => {
    const interrupt: BuildCommand = { type: 'InterruptBuild', phase: 'next build', logTail: ['Creating an optimized production build ...'], now: complete.now };
    given(started).when(interrupt).then((e) =>
      expect(e).toMatchObject([{ type: 'BuildFailed', data: { reason: 'infrastructure', exitCode: null, message: 'interrupted: shiplog restarted during next build', logTail: ['Creating an optimized production build ...'] } }]));
    given(queued).when({ ...interrupt, phase: 'the queue' }).thenTypes(['BuildFailed']);
    given([...started, ...decide(complete, started.reduce(evolve, initialState()))]).when(interrupt).thenNothing();
  });
});

describe('reconcile', () => {
  const state = (events: ReturnType<typeof decide>) => events.reduce(evolve, initialState());
  const succeeded = [...started, ...decide(complete, state(started))];

  it('leaves a build alone while a runner holds it, or once it has ended', () => {
    expect(reconcile(state(started), { active: true, interruptions: 0, maxResumes: 1 })).toBe('none');
    expect(reconcile(state(succeeded), { active: false, interruptions: 0, maxResumes: 1 })).toBe('none');
    expect(reconcile(initialState(), { active: false, interruptions: 0, maxResumes: 1 })).toBe('none');
  });

  it('resumes an orphaned build until it was interrupted maxResumes times, then interrupts it', () => {
    expect(reconcile(state(queued), { active: false, interruptions: 0, maxResumes: 1 })).toBe('resume');
    expect(reconcile(state(started), { active: false, interruptions: 0, maxResumes: 1 })).toBe('resume');
    expect(reconcile(state(started), { active: false, interruptions: 1, maxResumes: 1 })).toBe('interrupt');
    expect(reconcile(state(started), { active: false, interruptions: 0, maxResumes: 0 })).toBe('interrupt');
  });
});
