import { rmSync } from 'node:fs';
import { GetFunctionUrlConfigCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOX_CREDENTIALS, BOX_REGION } from '../../infra/aws-box/moto.ts';
import { pushFixtureLive, startShiplog, type LocalShiplog } from '../support/local-shiplog.ts';
import { openStreaming } from '../support/streaming.ts';

// Responses stream on AWS as on the local runtime: the buildspec's OpenNext config builds the
// streaming wrapper, the site host gives the deployment a RESPONSE_STREAM Function URL, and the
// box's front door (CloudFront's stand-in) passes the stream on. As in test/e2e/streaming.e2e,
// nothing is timed: the slow part waits for the fixture's /api/release, so "before" and "after"
// are orderings.
const fixture = new URL('../fixtures/streaming-app/', import.meta.url).pathname;

describe('responses stream through the AWS box', () => {
  let sl: LocalShiplog;
  let work: string;
  let deploymentId: string;
  const server = () => ({ port: sl.sitesPort, host: 'streams.localhost' });

  beforeAll(async () => {
    sl = await startShiplog({ runtime: 'aws-box' });
    ({ work, deploymentId } = await pushFixtureLive(sl, { project: 'streams', fixtureDir: fixture, message: 'streaming fixture' }));
  }, 1_100_000);

  afterAll(async () => {
    await sl?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("gives the deployment's alias a RESPONSE_STREAM Function URL (the health gate read the streamed response to let it go live)", async () => {
    const endpoint = /aws endpoint (http:\/\/127\.0\.0\.1:\d+)/.exec(sl.output())?.[1];
    const lambda = new LambdaClient({ endpoint, region: BOX_REGION, credentials: BOX_CREDENTIALS });
    const url = await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: 'shiplog-box-site-streams', Qualifier: `d-${deploymentId}` }));
    expect(url).toMatchObject({ AuthType: 'AWS_IAM', InvokeMode: 'RESPONSE_STREAM' });
  });

  it('sends a Suspense shell before its slow part, which comes once released', async () => {
    const id = ulid();
    const page = await openStreaming(server(), `/suspense?id=${id}`);
    expect(page.status).toBe(200);
    const shell = await page.until((t) => t.includes('id="fallback"'));
    expect(shell).toContain('streaming shell');
    expect(shell).not.toContain('id="slow"');
    expect(page.ended()).toBe(false);
    const released = await sl.site('streams.localhost', `/api/release?name=suspense:${id}`);
    expect(JSON.parse(released.body)).toEqual({ released: `suspense:${id}` });
    const whole = await page.end();
    expect(whole.startsWith(shell)).toBe(true);
    expect(whole.slice(shell.length)).toMatch(/id="slow">slow part (<!-- -->)?released/);
  }, 120_000);

  it('streams server-sent events that never end on their own', async () => {
    const events = await openStreaming(server(), `/api/events?id=${ulid()}`);
    expect(events.status).toBe(200);
    expect(events.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const two = await events.until((t) => t.split('\n\n').length > 2);
    expect(two.startsWith('id: 1\nevent: tick\ndata: {"n":1}\n\nid: 2\nevent: tick\ndata: {"n":2}\n\n')).toBe(true);
    expect(events.ended()).toBe(false);
    events.close();
  }, 60_000);
});
