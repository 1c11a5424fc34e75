import { Command } from 'commander';
import { withLocal } from '../../infra/local/projections.ts';
import { diffDeployments, type DeploymentDiff } from '../../projections/index.ts';
import { output } from '../client.ts';

const cell = (v: unknown): string => (v === null || v === undefined ? '-' : typeof v === 'string' ? v : JSON.stringify(v));

/**
 * A diff as `shiplog diff` prints it: the differing fields (all with `all`), A beside B.
 *
 * @example
 * formatDiff(await diffDeployments(store, 'd1', 'd2'), false);
 */
export const formatDiff = (d: DeploymentDiff, all: boolean): string => {
  const rows = d.rows.filter((r) => all || !r.same);
  if (rows.length === 0) return `${d.a} and ${d.b} do not differ`;
  const table = [['field', d.a, d.b], ...rows.map((r) => [r.field, cell(r.a), cell(r.b)])];
  const widths = [0, 1].map((i) => Math.min(48, Math.max(...table.map((row) => row[i]!.length))));
  const lines = table.map((row, i) => `${i > 0 && !rows[i - 1]!.same ? '*' : ' '} ${row[0]!.padEnd(widths[0]!)}  ${row[1]!.slice(0, 48).padEnd(widths[1]!)}  ${row[2]}`);
  return [...lines, `${d.differences} difference(s)`].join('\n');
};

/**
 * `shiplog diff <deploymentA> <deploymentB>`: commit, branch, env var names and versions, build
 * settings, versions, durations and outcome, from the store alone.
 *
 * @example
 * program.addCommand(diffCommand());
 */
export const diffCommand = (): Command =>
  new Command('diff')
    .description('compare two deployments: commit, branch, env vars, build settings, versions, durations, outcome')
    .argument('<deploymentA>')
    .argument('<deploymentB>')
    .option('--all', 'show the fields that are the same too')
    .option('--json', 'print JSON')
    .action(async (a: string, b: string, o: { all?: boolean; json?: boolean }) => {
      const d = await withLocal(({ store }) => diffDeployments(store, a, b));
      output(d, o.json, () => formatDiff(d, o.all === true));
    });
