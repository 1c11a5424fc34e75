import { describe, expect, it } from 'vitest';
import { CreateProjectInput, SettingsInput } from './inputs.ts';

describe('healthPath setting', () => {
  it('takes a path on the deployment (with a query), and null to go back to /', () => {
    expect(SettingsInput.parse({ healthPath: '/api/health?deep=1' })).toEqual({ healthPath: '/api/health?deep=1' });
    expect(SettingsInput.parse({ healthPath: null })).toEqual({ healthPath: null });
    expect(CreateProjectInput.parse({ name: 'web', healthPath: '/status' }).healthPath).toBe('/status');
  });

  it('refuses what is not a path on the deployment itself', () => {
    for (const bad of ['health', '//evil.example/x', 'http://x/', '/a b', '']) {
      expect(SettingsInput.safeParse({ healthPath: bad }).success, bad).toBe(false);
    }
  });
});
