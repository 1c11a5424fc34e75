import type { EventStore } from '../../events/index.ts';
import type { DeploymentView } from '../views/deployment.ts';
import { replayDeployment } from './deployment.ts';

/** One compared field of two deployments. */
export interface DiffRow {
  field: string;
  a: unknown;
  b: unknown;
  same: boolean;
}

/**
 * Two deployments side by side, field by field, from the store alone.
 *
 * @example
 * const d = await diffDeployments(store, 'd1', 'd2');
 * d.rows.filter((r) => !r.same).map((r) => r.field); // ['commit.sha', 'env.API_KEY (production)', …]
 */
export interface DeploymentDiff {
  a: string;
  b: string;
  rows: DiffRow[];
  differences: number;
}

type State = Omit<DeploymentView, 'timeline'>;

const envRows = (a: State, b: State): [string, unknown, unknown][] => {
  const key = (e: { name: string; target: string }) => `${e.name} (${e.target})`;
  const va = new Map(a.env.map((e) => [key(e), e.version]));
  const vb = new Map(b.env.map((e) => [key(e), e.version]));
  return [...new Set([...va.keys(), ...vb.keys()])].sort().map((k) => [`env.${k}`, va.get(k) ?? null, vb.get(k) ?? null]);
};

const settingsRows = (a: State, b: State): [string, unknown, unknown][] => {
  const sa = (a.buildSettings ?? {}) as Record<string, unknown>;
  const sb = (b.buildSettings ?? {}) as Record<string, unknown>;
  return [...new Set([...Object.keys(sa), ...Object.keys(sb)])].sort().map((k) => [`buildSettings.${k}`, sa[k] ?? null, sb[k] ?? null]);
};

/**
 * The rows of a diff of two deployment states: commit, branch, env var names and versions,
 * build settings, versions (shiplog, Next, OpenNext, Node), durations and outcome.
 *
 * @example
 * diffStates(replayA.state, replayB.state).find((r) => r.field === 'status');
 */
export const diffStates = (a: State, b: State): DiffRow[] => {
  const rows: [string, unknown, unknown][] = [
    ['status', a.status, b.status],
    ['error', a.error?.message ?? null, b.error?.message ?? null],
    ['target', a.target, b.target],
    ['alias', a.alias, b.alias],
    ['branch', a.branch, b.branch],
    ['trigger', a.trigger, b.trigger],
    ['commit.sha', a.commit?.sha ?? null, b.commit?.sha ?? null],
    ['commit.message', a.commit?.message.split('\n', 1)[0] ?? null, b.commit?.message.split('\n', 1)[0] ?? null],
    ['commit.author', a.commit?.author.name ?? null, b.commit?.author.name ?? null],
    ['requestedBy', a.requestedBy ? `${a.requestedBy.kind}:${a.requestedBy.id}` : null, b.requestedBy ? `${b.requestedBy.kind}:${b.requestedBy.id}` : null],
    ['requestedAt', a.requestedAt, b.requestedAt],
    ...envRows(a, b),
    ...settingsRows(a, b),
    // TODO(when the catalog records the shiplog version, e.g. BuildSucceeded.versions.shiplog): show it.
    ['versions.shiplog', null, null],
    ['versions.next', a.versions?.next ?? null, b.versions?.next ?? null],
    ['versions.opennext', a.versions?.opennext ?? null, b.versions?.opennext ?? null],
    ['versions.node', a.versions?.node ?? null, b.versions?.node ?? null],
    ['durations.queuedMs', a.durations.queuedMs, b.durations.queuedMs],
    ['durations.buildMs', a.durations.buildMs, b.durations.buildMs],
    ['durations.deployMs', a.durations.deployMs, b.durations.deployMs],
    ['durations.totalMs', a.durations.totalMs, b.durations.totalMs],
    ['builds', a.builds.length, b.builds.length],
    ['liveAt', a.live?.at ?? null, b.live?.at ?? null],
  ];
  return rows.map(([field, va, vb]) => ({ field, a: va, b: vb, same: JSON.stringify(va) === JSON.stringify(vb) }));
};

export const diffDeployments = async (store: EventStore, a: string, b: string): Promise<DeploymentDiff> => {
  const [ra, rb] = await Promise.all([replayDeployment(store, a), replayDeployment(store, b)]);
  const rows = diffStates(ra.state, rb.state);
  return { a, b, rows, differences: rows.filter((r) => !r.same).length };
};
