import { timingSafeEqual } from 'node:crypto';
import type { RefUpdate } from './pkt-line.ts';
import type { Ingest, PushOutcome } from './commands.ts';
import type { GitRepos, Ids } from './ports.ts';
import { branchOf, isZeroSha } from './rules.ts';

const sameSecret = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

const describe = (o: PushOutcome, ref: string): string => {
  switch (o.status) {
    case 'deploying':
      return `shiplog: ${o.target} deployment ${o.deploymentId} requested for ${o.branch} (${o.sha.slice(0, 7)}) -> ${o.alias}`;
    case 'ignored':
      return `shiplog: ${ref} not deployed (${o.reason}${o.detail ? `: ${o.detail}` : ''})`;
    case 'duplicate':
      return `shiplog: ${ref} was already recorded`;
  }
};

/**
 * Pushes to shiplog's own git remote, as ingest sees them: who may push (the project's push
 * token, compared in constant time), and what a push that git accepted records. Every ref it
 * moved is recorded exactly as a GitHub webhook push would be (`PushReceived`, then
 * `DeploymentRequested` or `PushIgnored`), with the commit's message and author read from the
 * repository; the answer is one line per ref for the pusher's terminal.
 *
 * @example
 * const pushes = gitPushes({ ingest, repos, ids });
 * if (await pushes.mayPush('web', token)) lines = await pushes.record('web', 'ada', updates, report);
 */
export const gitPushes = ({ ingest, repos, ids }: { ingest: Pick<Ingest, 'credentials' | 'receivePush'>; repos: GitRepos; ids: Ids }) => ({
  mayPush: async (projectId: string, token: string): Promise<boolean> => {
    const creds = await ingest.credentials(projectId);
    return !!creds && sameSecret(token, creds.pushToken);
  },

  /** The pusher's own claim (the token is per project), kept printable and short. */
  pusherName: (user: string): string => [...user].filter((c) => c >= ' ' && c !== '\x7f').join('').slice(0, 100) || 'git',

  record: async (projectId: string, pusher: string, updates: RefUpdate[], report: Map<string, string> | undefined): Promise<string[]> => {
    const lines: string[] = [];
    const repository = { source: 'git' as const, fullName: projectId, cloneUrl: repos.cloneUrl(projectId) };
    for (const u of updates) {
      // Only refs the push really moved: receive-pack may have refused some. Without a report, the ref itself says.
      const moved = report ? report.get(u.ref) === 'ok' : (await repos.resolveRef(projectId, u.ref)) === (isZeroSha(u.after) ? null : u.after);
      if (!moved) continue;
      const created = isZeroSha(u.before);
      const deleted = isZeroSha(u.after);
      const push = {
        deliveryId: ids(),
        source: 'git' as const,
        repository: projectId,
        ref: u.ref,
        branch: branchOf(u.ref),
        before: u.before,
        after: u.after,
        headCommit: deleted ? null : await repos.readCommit(projectId, u.after),
        pusher: { name: pusher },
        forced: !created && !deleted && !(await repos.isAncestor(projectId, u.before, u.after)),
      };
      lines.push(describe(await ingest.receivePush(projectId, push, { actor: { kind: 'git', id: pusher }, repository }), u.ref));
    }
    return lines;
  },
});
