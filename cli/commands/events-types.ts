import { Command } from 'commander';
import { catalogEntries, StreamTemplate } from '../../events/index.ts';

const columns = ['type', 'source', 'service', 'schemaVersion', 'stream'] as const;

const table = (rows: string[][]): string => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
};

/**
 * The event catalog as `shiplog events types` prints it: an aligned table, or with `json` a JSON
 * array of `{ type, source, detailType, service, schemaVersion, stream, deploymentScoped, description }`.
 * Sorted by type; ends with a newline.
 *
 * @example
 * process.stdout.write(formatTypes(false));
 * // type          source                 service        schemaVersion  stream
 * // AlarmCleared  shiplog.observability  observability  1              alarm#<projectId>#<alarmId>
 */
export const formatTypes = (json: boolean): string => {
  const entries = catalogEntries();
  if (json) {
    const rows = entries.map(({ type, source, detailType, service, schemaVersion, stream, deploymentScoped, description }) =>
      ({ type, source, detailType, service, schemaVersion, stream, deploymentScoped, description }));
    return `${JSON.stringify(rows, null, 2)}\n`;
  }
  const rows = entries.map((e) => [e.type, e.source, e.service, String(e.schemaVersion), StreamTemplate[e.stream]]);
  return `${table([[...columns], ...rows])}\n`;
};

/**
 * `shiplog events types [--json]`: lists every event type of the catalog.
 *
 * @example
 * events.addCommand(typesCommand());
 */
export const typesCommand = (): Command =>
  new Command('types')
    .description('list every event type: source, service, schema version and stream')
    .option('--json', 'print a JSON array instead of a table')
    .action((opts: { json?: boolean }) => {
      process.stdout.write(formatTypes(opts.json === true));
    });
