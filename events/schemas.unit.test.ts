import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalog, catalogEntries } from './catalog.ts';
import { generateSchemaFiles, schemasDir } from './generate-schemas.ts';

const fix = 'run `npm run schemas` and commit events/schemas/';
const generated = generateSchemaFiles();
const onDisk = existsSync(schemasDir) ? readdirSync(schemasDir).filter((f) => f.endsWith('.json')) : [];

describe('committed JSON Schemas (events/schemas/)', () => {
  it('has no missing file', () => {
    const missing = [...generated.keys()].filter((f) => !onDisk.includes(f));
    expect(missing, `missing schema files: ${missing.join(', ')}; ${fix}`).toEqual([]);
  });

  it('has no extra file', () => {
    const extra = onDisk.filter((f) => !generated.has(f));
    expect(extra, `schema files for no catalog type: ${extra.join(', ')}; ${fix}`).toEqual([]);
  });

  it('has no stale file', () => {
    const stale = [...generated].filter(([f, content]) => onDisk.includes(f) && readFileSync(join(schemasDir, f), 'utf8') !== content);
    expect(stale.map(([f]) => f), `stale schema files; ${fix}`).toEqual([]);
  });

  it('describes the detail of each type with its shiplog info', () => {
    expect(generated.size).toBe(catalogEntries().length + 1);
    const schema = JSON.parse(generated.get('BuildFailed.json')!);
    expect(schema).toMatchObject({
      $id: 'urn:shiplog:events:BuildFailed:v2',
      title: 'BuildFailed',
      required: ['metadata', 'data'],
      'x-shiplog': { source: 'shiplog.build', 'detail-type': 'BuildFailed', schemaVersion: 2, service: 'build' },
    });
    expect(schema.properties.metadata.required).toContain('deploymentId');
    expect(schema.properties.data.additionalProperties).toBeUndefined();
    const index = JSON.parse(generated.get('index.json')!);
    expect(index.schemas.map((s: { type: string }) => s.type)).toEqual(catalogEntries().map((e) => e.type));
    expect(index.schemas.find((s: { type: string }) => s.type === 'DeploymentLive').source).toBe(catalog.DeploymentLive.source);
  });

  it('is deterministic', () => {
    expect(generateSchemaFiles()).toEqual(generated);
    for (const content of generated.values()) expect(content.endsWith('}\n')).toBe(true);
  });
});
