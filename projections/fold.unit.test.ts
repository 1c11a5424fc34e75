import { describe, expect, it } from 'vitest';
import { deploymentKeys, deploymentsProjection } from './deployments.ts';
import { memoryFold } from './fold.ts';
import { fromStored } from './incoming.ts';
import { scenario } from '../test/support/scenario-events.ts';
import { keyString } from './types.ts';
import type { DeploymentView } from './views/deployment.ts';

describe('memoryFold', () => {
  it('holds an event back until its predecessor in the stream comes (commit clocks can disagree with versions)', () => {
    const s = scenario();
    const [requested, queued, started, succeeded] = [s.requested('d1'), s.queued('d1'), s.started('d1'), s.succeeded('d1')];
    const fold = memoryFold<DeploymentView>(deploymentsProjection);
    for (const e of [requested, started, succeeded]) fold.apply(fromStored(e));
    expect(fold.held).toBe(2);
    expect(fold.docs.get(keyString(deploymentKeys.deployment('d1')))?.state.status).toBe('queued');
    expect(fold.apply(fromStored(started!))).toBe(false);
    fold.apply(fromStored(queued!));
    expect(fold.held).toBe(0);
    expect(fold.applied.get('build#d1')).toBe(3);
    expect(fold.docs.get(keyString(deploymentKeys.deployment('d1')))?.state.status).toBe('deploying');
  });
});
