import { describe, expect, it } from 'vitest';
import { parseSiteAddress, parseSiteHost } from './host.ts';

const ulid = '01JD2Z8J6X3Q4R5S6T7V8W9XYZ';

describe('parseSiteHost', () => {
  it('reads a project host as its production alias, with or without a port', () => {
    expect(parseSiteHost('web.localhost:3001')).toEqual({ kind: 'alias', projectId: 'web', alias: 'production' });
    expect(parseSiteHost('web.localhost')).toEqual({ kind: 'alias', projectId: 'web', alias: 'production' });
  });

  it('is case-insensitive and tolerates a trailing dot', () => {
    expect(parseSiteHost('WEB.LocalHost.:80')).toEqual({ kind: 'alias', projectId: 'web', alias: 'production' });
  });

  it('reads <ulid>-<project> as a deployment, lowercased', () => {
    expect(parseSiteHost(`${ulid}-web.localhost:3001`)).toEqual({ kind: 'deployment', projectId: 'web', deploymentId: ulid.toLowerCase() });
  });

  it('keeps hyphens in project ids apart from deployment prefixes', () => {
    expect(parseSiteHost('my-app.localhost')).toEqual({ kind: 'alias', projectId: 'my-app', alias: 'production' });
    expect(parseSiteHost(`${ulid.toLowerCase()}-my-app.localhost`)).toEqual({
      kind: 'deployment', projectId: 'my-app', deploymentId: ulid.toLowerCase(),
    });
    // 26 characters, but not a ULID (contains "u"): a project id.
    expect(parseSiteHost('uuuuuuuuuuuuuuuuuuuuuuuuuu-web.localhost')).toEqual({
      kind: 'alias', projectId: 'uuuuuuuuuuuuuuuuuuuuuuuuuu-web', alias: 'production',
    });
  });

  it('honours another domain', () => {
    expect(parseSiteHost('web.sites.test:8080', 'sites.test')).toEqual({ kind: 'alias', projectId: 'web', alias: 'production' });
    expect(parseSiteHost('web.localhost', 'sites.test')).toBeUndefined();
  });

  it.each([
    [undefined],
    [''],
    ['localhost:3001'],
    ['127.0.0.1:3001'],
    ['[::1]:3001'],
    ['example.com'],
    ['a.web.localhost'],
    ['-web.localhost'],
    ['web-.localhost'],
    ['we_b.localhost'],
    [`${ulid}-.localhost`],
  ])('refuses %s', (host) => {
    expect(parseSiteHost(host)).toBeUndefined();
  });
});

describe('parseSiteAddress', () => {
  it('reads <branch>--<project> as the preview alias of that branch, the whole label kept as a project id', () => {
    expect(parseSiteAddress('feature-login--web.localhost:3001')).toEqual({ kind: 'alias', projectId: 'web', alias: 'preview-feature-login', orProject: 'feature-login--web' });
    expect(parseSiteAddress('Fix--My-App.localhost')).toEqual({ kind: 'alias', projectId: 'my-app', alias: 'preview-fix', orProject: 'fix--my-app' });
  });

  it('reads everything else as parseSiteHost does', () => {
    expect(parseSiteAddress('web.localhost:3001')).toEqual({ kind: 'alias', projectId: 'web', alias: 'production' });
    expect(parseSiteAddress(`${ulid}-web.localhost`)).toEqual({ kind: 'deployment', projectId: 'web', deploymentId: ulid.toLowerCase() });
    expect(parseSiteAddress('login--web-.localhost')).toBeUndefined();
    expect(parseSiteAddress('example.com')).toBeUndefined();
  });
});
