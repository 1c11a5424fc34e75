import { describe, expect, it } from 'vitest';
import { aliasFor } from '../ingest/index.ts';
import { aliasHostLabel, branchOfHostLabel } from './aliases.ts';
import { localSiteHost } from './adapters/site-host/local.ts';

describe('preview branch URLs', () => {
  it('label a preview alias <branch slug>--<project>; production has none of its own', () => {
    expect(aliasHostLabel('web', 'preview-feature-login')).toBe('feature-login--web');
    expect(aliasHostLabel('web', aliasFor('preview', 'Feature/Login_Form'))).toBe('feature-login-form--web');
    expect(aliasHostLabel('web', 'production')).toBeUndefined();
    expect(aliasHostLabel('web', 'preview-')).toBeUndefined();
  });

  it('read back to the alias the branch deploys on, whatever the branch name', () => {
    for (const branch of ['feature/Login', 'fix--double', `long/${'x'.repeat(80)}`, 'UPPER_case.v2']) {
      const alias = aliasFor('preview', branch);
      const label = aliasHostLabel('my-app', alias)!;
      expect(label.indexOf('--')).toBe(label.length - '--my-app'.length);
      expect(branchOfHostLabel(label)).toEqual({ projectId: 'my-app', alias, branch: alias.slice('preview-'.length) });
    }
  });

  it('split a label at its first --: the project keeps its own hyphens', () => {
    expect(branchOfHostLabel('login--my--app')).toEqual({ projectId: 'my--app', alias: 'preview-login', branch: 'login' });
    expect(branchOfHostLabel('web')).toBeUndefined();
    expect(branchOfHostLabel('--web')).toBeUndefined();
    expect(branchOfHostLabel('login--')).toBeUndefined();
  });

  it('are what the local site host reports for an alias, beside the deployment and production URLs', () => {
    const host = localSiteHost({ dataDir: '/nonexistent', port: 3001 });
    const d = '01JD2Z8J6X3Q4R5S6T7V8W9XYZ';
    expect(host.urls({ projectId: 'web', deploymentId: d, alias: 'preview-login' })).toEqual({
      deployment: 'http://01jd2z8j6x3q4r5s6t7v8w9xyz-web.localhost:3001',
      production: 'http://web.localhost:3001',
      alias: 'http://login--web.localhost:3001',
    });
    expect(host.urls({ projectId: 'web', deploymentId: d, alias: 'production' }).alias).toBe('http://web.localhost:3001');
    expect(host.urls({ projectId: 'web', deploymentId: d })).not.toHaveProperty('alias');
  });
});
