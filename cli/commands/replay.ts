import { Command } from 'commander';
import { compilePattern } from '../../events/bus/pattern/index.ts';
import { toEventBridgeEvent, type StoredEvent } from '../../events/index.ts';
import { withLocal } from '../../infra/local/projections.ts';
import { parseAt, replayDeployment, TIMELINE_FIRST, type ReplayedDeployment, cursorAt, replayEntry, type ReplayToBusResult } from '../../projections/index.ts';
import { api, isNamedInstance, output } from '../client.ts';

const seconds = (ms: number | null): string => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);
const short = (sha: string | undefined): string => (sha ? sha.slice(0, 7) : '-');

/**
 * A replayed deployment as `shiplog replay deployment` prints it for people: the state, then
 * the timeline indented by causation (an event sits under the one that caused it).
 *
 * @example
 * process.stdout.write(formatReplay(await replayDeployment(store, 'd1')));
 */
export const formatReplay = (r: ReplayedDeployment): string => {
  const s = r.state;
  const build = s.builds.at(-1);
  const lines = [
    `deployment ${r.deploymentId} (${s.projectId || '?'}) at event ${r.at.event} of ${r.at.of}, ${r.at.time}`,
    `  status     ${s.status}`,
    `  target     ${s.target ?? '-'} (${s.alias ?? '-'}) from ${s.branch ?? '-'}@${short(s.commit?.sha)}${s.commit ? ` "${s.commit.message.split('\n', 1)[0]}" by ${s.commit.author.name}` : ''}`,
    `  trigger    ${s.trigger ?? '-'}${s.requestedBy ? `, requested by ${s.requestedBy.kind}:${s.requestedBy.id} at ${s.requestedAt}` : ''}`,
    `  build      ${build ? `${build.buildId} ${build.status}${build.runner ? ` on ${build.runner}` : ''}${build.logUri ? `, log ${build.logUri}` : ''} (${s.builds.length} attempt${s.builds.length === 1 ? '' : 's'})` : '-'}`,
    `  durations  queued ${seconds(s.durations.queuedMs)}, build ${seconds(s.durations.buildMs)}, deploy ${seconds(s.durations.deployMs)}, total ${seconds(s.durations.totalMs)}`,
    ...(s.url ? [`  url        ${s.url}`] : []),
    ...(s.error ? [`  error      ${s.error.stage}: ${s.error.message}`] : []),
    ...(s.rejection ? [`  rejected   ${s.rejection.reason}${s.rejection.liveDeploymentId ? ` (${s.rejection.liveDeploymentId} stays live)` : ''}`] : []),
    'timeline',
    ...r.timeline.flatMap((t, i) => [
      // Numbered as if whole: those after the gap keep their place in the deployment's events.
      ...(s.timelineOmitted && i === TIMELINE_FIRST ? [`       … ${s.timelineOmitted} events left out here (the store keeps them all)`] : []),
      `  ${String(i + 1 + (i >= TIMELINE_FIRST ? (s.timelineOmitted ?? 0) : 0)).padStart(3)}  ${t.occurredAt}  ${t.source.padEnd(21)} ${'  '.repeat(Math.min(t.depth, 8))}${t.type}: ${t.summary}`,
    ]),
  ];
  return lines.join('\n');
};

const eventLine = (e: StoredEvent): string =>
  `${e.metadata.occurredAt}  ${e.metadata.eventId}  ${e.type.padEnd(24)} ${e.metadata.streamId} v${e.metadata.version}`;

const parsePatternOption = (raw: string | undefined): Record<string, unknown> | null => {
  if (raw === undefined) return null;
  let pattern: unknown;
  try {
    pattern = JSON.parse(raw);
  } catch {
    throw new Error(`--pattern must be JSON (an EventBridge event pattern), got ${raw}`);
  }
  if (typeof pattern !== 'object' || pattern === null || Array.isArray(pattern)) throw new Error('--pattern must be a JSON object (an EventBridge event pattern)');
  compilePattern(pattern);
  return pattern as Record<string, unknown>;
};

const isoTime = (raw: string, option: string): string => {
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(Date.parse(raw))) throw new Error(`${option} must be an ISO 8601 time, got "${raw}"`);
  return new Date(raw).toISOString();
};

/**
 * `shiplog replay deployment <id> [--at <time|n>]` and
 * `shiplog replay events --from <time> --to <time> [--pattern <json>] [--to-bus]`.
 *
 * @example
 * program.addCommand(replayCommand());
 */
export const replayCommand = (): Command => {
  const replay = new Command('replay').description('rebuild the past from the event store: a deployment at a moment, or events back onto the bus');
  replay
    .command('deployment <id>')
    .description("a deployment's state at a moment and its timeline up to it, from the store alone")
    .option('--at <time|n>', 'an ISO 8601 time, or the number of the event in its timeline (default: now)')
    .option('--json', 'print { state, timeline } as JSON')
    .action(async (id: string, o: { at?: string; json?: boolean }) => {
      const at = o.at === undefined ? undefined : parseAt(o.at);
      const r = isNamedInstance()
        ? await api<ReplayedDeployment>('GET', `/api/replay/deployments/${encodeURIComponent(id)}${o.at === undefined ? '' : `?at=${encodeURIComponent(o.at)}`}`)
        : await withLocal(({ store, urls }) => replayDeployment(store, id, { ...(at ? { at } : {}), urls }));
      output({ deploymentId: r.deploymentId, at: r.at, state: r.state, timeline: r.timeline }, o.json, () => formatReplay(r));
    });
  replay
    .command('events')
    .description('republish stored events, in order and marked as replays, to the running bus (without --to-bus: list them)')
    .requiredOption('--from <time>', 'ISO 8601 time: replay events committed at or after it')
    .requiredOption('--to <time>', 'ISO 8601 time: and before it')
    .option('--pattern <json>', 'only events matching this EventBridge pattern')
    .option('--to-bus', 'publish them to the bus of the running instance (through its API)')
    .option('--json', 'print JSON')
    .action(async (o: { from: string; to: string; pattern?: string; toBus?: boolean; json?: boolean }) => {
      const from = isoTime(o.from, '--from');
      const to = isoTime(o.to, '--to');
      if (to <= from) throw new Error(`--to (${to}) must be after --from (${from})`);
      const pattern = parsePatternOption(o.pattern);
      if (o.toBus) {
        const r = await api<ReplayToBusResult>('POST', '/api/replay', { from, to, pattern });
        output(r, o.json, () => `replayed ${r.published} of ${r.scanned} events committed from ${r.from} to ${r.to} onto the bus`);
        return;
      }
      const matches = pattern ? compilePattern(pattern) : () => true;
      const query = new URLSearchParams({ from, to, ...(pattern ? { pattern: JSON.stringify(pattern) } : {}) });
      const listed = isNamedInstance() ? await api<StoredEvent[]>('GET', `/api/replay/events?${query}`) : await withLocal(async ({ store }) => {
        const out: StoredEvent[] = [];
        for await (const e of store.iterateAll({ cursor: cursorAt(from), pageSize: 500 })) {
          if (e.recordedAt >= to) break;
          const entry = replayEntry(e);
          if (matches(toEventBridgeEvent({ type: e.type, data: e.data, metadata: entry.detail.metadata }, entry.source))) out.push(e);
        }
        return out;
      });
      output(listed, o.json, () => [...listed.map(eventLine), `${listed.length} event(s) would be replayed (dry run: add --to-bus to publish them)`].join('\n'));
    });
  return replay;
};
