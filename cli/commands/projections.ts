import { Command } from 'commander';
import { defaultProjections, projectionNamed, rebuildProjection, type RebuildResult, projectionStatus, type ProjectionStatus, verifyProjections, type VerifyResult } from '../../projections/index.ts';
import { withLocal } from '../../infra/local/projections.ts';
import { output } from '../client.ts';

const table = (rows: string[][]): string => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
};

const lag = (ms: number): string => (ms < 1000 ? `${ms} ms` : ms < 120_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60_000)} min`);

/**
 * `projections status` for people: one row per projection.
 *
 * @example
 * formatStatus(await projectionStatus({ store, views, projections }));
 */
export const formatStatus = (rows: ProjectionStatus[]): string =>
  table([
    ['projection', 'serving', 'behind', 'lag', 'checkpoint', 'state'],
    ...rows.map((s) => [
      s.name,
      s.generation ? `${s.generation} (v${s.builtByVersion})` : '-',
      String(s.behind),
      s.behind ? lag(s.lagMs) : '-',
      s.checkpoint ?? 'start of the store',
      [
        s.rebuilding ? `rebuilding into ${s.rebuilding.generation} (${s.rebuilding.state})` : s.behind ? 'catching up' : 'up to date',
        ...(s.needsRebuild ? [`code is v${s.version}: rebuild`] : []),
      ].join(', '),
    ]),
  ]);

/** `projections verify` for people: per projection, ok or its differences (the first 20). */
export const formatVerify = (results: VerifyResult[]): string =>
  results.map((r) => {
    const head = `${r.name} (${r.generation ?? 'none'}): ${r.docs} documents from ${r.events} events, ${r.differences.length ? `${r.differences.length} difference(s)` : 'no differences'}${r.streamsBehind ? `, ${r.streamsBehind} stream(s) behind` : ''}`;
    const shown = r.differences.slice(0, 20).map((d) => `  ${d.kind.padEnd(9)} ${d.key.pk} ${d.key.sk}${d.path ? `  at ${d.path}` : ''}`);
    return [head, ...shown, ...(r.differences.length > 20 ? [`  … and ${r.differences.length - 20} more`] : [])].join('\n');
  }).join('\n');

const formatRebuild = (r: RebuildResult, kept: boolean): string =>
  `${r.name}: rebuilt into ${r.generation} from ${r.events} events (${r.docs} documents, ${r.streams} streams, ${r.caughtUp} caught up) in ${r.seconds.toFixed(1)} s; ` +
  (r.previous ? `${r.previous} ${kept ? 'kept' : `dropped (${r.dropped} items, ${r.dropSeconds.toFixed(1)} s)`}` : 'first generation');

/**
 * `shiplog projections status|rebuild [name]|verify [name]`.
 *
 * @example
 * program.addCommand(projectionsCommand());
 */
export const projectionsCommand = (): Command => {
  const cmd = new Command('projections').description('the read models: lag, rebuild, verify');
  cmd
    .command('status')
    .description('per projection: the serving generation, and how many events of the store it has not applied')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const rows = await withLocal(({ store, views }) => projectionStatus({ store, views, projections: defaultProjections() }));
      output(rows, o.json, () => formatStatus(rows));
    });
  cmd
    .command('rebuild [name]')
    .description('replay the store into a new generation while the current one serves, then switch (all projections without a name)')
    .option('--force', 'take over from a rebuild that died')
    .option('--keep-old', 'keep the previous generation instead of deleting it')
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, o: { force?: boolean; keepOld?: boolean; json?: boolean }) => {
      const chosen = name ? [projectionNamed(name)] : defaultProjections();
      const results = await withLocal(async ({ store, views }) => {
        const out: RebuildResult[] = [];
        for (const projection of chosen) {
          out.push(await rebuildProjection({
            store, views, projection, force: o.force === true, keepPrevious: o.keepOld === true,
            ...(o.json ? {} : { onProgress: (step: string) => process.stderr.write(`${step}\n`) }),
          }));
        }
        return out;
      });
      output(results, o.json, () => results.map((r) => formatRebuild(r, o.keepOld === true)).join('\n'));
    });
  cmd
    .command('verify [name]')
    .description('rebuild in memory and compare with the serving read model; exit 1 on any difference')
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, o: { json?: boolean }) => {
      const chosen = name ? [projectionNamed(name)] : defaultProjections();
      const results = await withLocal(({ store, views }) => verifyProjections({ store, views, projections: chosen }));
      output(results, o.json, () => formatVerify(results));
      const differing = results.filter((r) => r.differences.length > 0);
      if (differing.length > 0) {
        throw new Error(`verify: ${differing.map((r) => `${r.name} has ${r.differences.length} difference(s)`).join(', ')} from a rebuild of the store`);
      }
    });
  return cmd;
};
