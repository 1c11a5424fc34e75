import { describe, expect, it } from 'vitest';
import { catalogEntries } from '../../events/catalog.ts';
import { formatTypes, typesCommand } from './events-types.ts';

describe('shiplog events types', () => {
  it('prints an aligned table with one row per type', () => {
    const lines = formatTypes(false).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^type\s+source\s+service\s+schemaVersion\s+stream$/);
    expect(lines).toHaveLength(catalogEntries().length + 1);
    const sourceColumn = lines[0]!.indexOf('source');
    for (const line of lines.slice(1)) expect(line.slice(sourceColumn)).toMatch(/^shiplog\.[a-z]+ /);
    expect(lines.find((l) => l.startsWith('BuildFailed '))).toMatch(/BuildFailed\s+shiplog\.build\s+build\s+2\s+build#<deploymentId>$/);
  });

  it('prints a JSON array with --json', () => {
    const rows = JSON.parse(formatTypes(true));
    expect(rows).toHaveLength(catalogEntries().length);
    expect(rows.find((r: { type: string }) => r.type === 'DeploymentLive')).toEqual({
      type: 'DeploymentLive', source: 'shiplog.deploy', detailType: 'DeploymentLive', service: 'deploy',
      schemaVersion: 1, stream: 'release', deploymentScoped: true, description: 'The deployment serves traffic.',
    });
  });

  it('is a commander command named types with a --json option', () => {
    const cmd = typesCommand();
    expect(cmd.name()).toBe('types');
    expect(cmd.options.map((o) => o.long)).toEqual(['--json']);
  });
});
