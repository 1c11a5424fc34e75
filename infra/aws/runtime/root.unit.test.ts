import { afterEach, describe, expect, it } from 'vitest';
import type { SiteHost } from '../../../services/deploy/ports.ts';
import { awsBuild, awsDeploy, AwsRuntimeEnv, convergingAliases } from './root.ts';

/** One alias on AWS and the release stream's `live`, shared by every "Lambda" of a test. */
const world = () => {
  const state = { live: 'd2', alias: undefined as string | undefined, shifts: [] as string[] };
  const host: SiteHost = {
    publish: async () => ({ assets: 0, functionVersion: '1' }),
    shiftAlias: async ({ deploymentId }) => {
      state.alias = deploymentId;
      state.shifts.push(deploymentId);
    },
    aliasTarget: async () => state.alias,
    urls: () => ({ deployment: '', production: '' }),
  };
  return { state, host };
};

/** What the deploy service's `applyAlias` does under the lock: read the stream, compare, shift. */
const applyAlias = (c: ReturnType<typeof convergingAliases>, state: { live: string }, between?: () => Promise<void>) => {
  let rounds = 0;
  return c.withLock('web#production', async () => {
    rounds += 1;
    const live = state.live;
    if (rounds === 1) await between?.();
    if ((await c.host.aliasTarget('web', 'production')) !== live) await c.host.shiftAlias({ projectId: 'web', alias: 'production', deploymentId: live });
    return rounds;
  });
};

describe('convergingAliases', () => {
  it('lets the last writer of a race fix a stale shift: the alias ends on what the stream says', async () => {
    const { state, host } = world();
    const [x, y] = [convergingAliases(host), convergingAliases(host)]; // two Lambdas
    // X reads live = d2; before X shifts, d3 goes live and Y shifts to it; then X shifts its stale d2.
    const rounds = await applyAlias(x, state, async () => {
      state.live = 'd3';
      await applyAlias(y, state);
    });
    expect(state.shifts).toEqual(['d3', 'd2', 'd3']);
    expect(state.alias).toBe('d3');
    expect(rounds).toBe(3); // stale shift, correcting shift, quiet round
  });

  it('costs one quiet round after a shift and none when nothing moves', async () => {
    const { state, host } = world();
    const c = convergingAliases(host);
    expect(await applyAlias(c, state)).toBe(2);
    expect(await applyAlias(c, state)).toBe(1);
    expect(state.shifts).toEqual(['d2']);
  });
});

describe('the AWS runtime', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('names the variable it misses', () => {
    delete process.env[AwsRuntimeEnv.eventsTable];
    expect(() => awsBuild()).toThrow(/SHIPLOG_EVENTS_TABLE is not set/);
    process.env[AwsRuntimeEnv.eventsTable] = 'shiplog-events';
    delete process.env[AwsRuntimeEnv.sitesBucket];
    expect(() => awsDeploy()).toThrow(/SHIPLOG_SITES_BUCKET is not set/);
  });

  it('wires the handlers from the environment, without calling AWS', () => {
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1', [AwsRuntimeEnv.eventsTable]: 'shiplog-events', [AwsRuntimeEnv.buildProject]: 'shiplog-build',
      [AwsRuntimeEnv.artifactsBucket]: 'shiplog-artifacts', [AwsRuntimeEnv.sitesBucket]: 'shiplog-sites',
      [AwsRuntimeEnv.siteRoleArn]: 'arn:aws:iam::123456789012:role/shiplog-site', [AwsRuntimeEnv.siteDomain]: 'sites.example.com',
    });
    const build = awsBuild();
    expect(typeof build.build.onDeploymentRequested).toBe('function');
    expect(typeof build.completions.onStateChange).toBe('function');
    expect(awsBuild()).toBe(build);
    const deploy = awsDeploy();
    expect(deploy.host.urls({ projectId: 'web', deploymentId: 'D1' }).production).toBe('https://web.sites.example.com');
  });
});
