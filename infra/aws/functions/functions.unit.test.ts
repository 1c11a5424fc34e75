import { describe, expect, it } from 'vitest';
import { subscriptions } from '../../topology.ts';
import { awsRules } from '../aws-rules.ts';
import { DASHBOARD_TOKEN_HANDLER, OUTBOX_ENRICH_HANDLER } from '../index.ts';

// Every handler string the AWS stack declares names an exported function of a Lambda entry here,
// so a moved or renamed entry fails this test instead of a deploy.
const handlers = [...subscriptions.map((s) => s.handler), ...awsRules('shiplog-ci-build').map((r) => r.handler), OUTBOX_ENRICH_HANDLER, DASHBOARD_TOKEN_HANDLER];

describe('infra/aws/functions', () => {
  it.each(handlers)('%s is an exported function of an entry in infra/aws/functions', async (handler) => {
    const [, module, name] = /^infra\/aws\/functions\/([\w-]+)\.(\w+)$/.exec(handler) ?? [];
    expect(module, `${handler} is not under infra/aws/functions`).toBeDefined();
    const mod = (await import(/* @vite-ignore */ new URL(`./${module}.ts`, import.meta.url).href)) as Record<string, unknown>;
    expect(typeof mod[name!], handler).toBe('function');
  });
});
