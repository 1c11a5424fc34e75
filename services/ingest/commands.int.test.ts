import { afterAll, describe, expect, it } from 'vitest';
import { eventTypes, streams } from '../../events/index.ts';
import { createEventStoreTable, dynamoEventStore, type EventStore } from '../../events/store/index.ts';
import { newId } from '../../test/support/events.ts';
import { testDynamoClient, uniqueTableName } from '../../test/support/dynamo.ts';
import { commandRunner } from './commands.ts';
import type { PushInput } from './decider.ts';

// The ingest command runner on DynamoDB Local: two copies of one push decided at once.
const client = testDynamoClient();
afterAll(() => client.destroy());

const actor = { kind: 'user', id: 'ada' } as const;
const repository = { source: 'git', fullName: 'web', cloneUrl: 'http://127.0.0.1/git/web.git' } as const;
const settings = { productionBranch: 'main', previewBranches: 'all', autoDeploy: true, build: { framework: 'nextjs', rootDirectory: '.', nodeVersion: '20.x' } } as const;
const push: PushInput = {
  deliveryId: 'push-twice', source: 'git', repository: 'web', ref: 'refs/heads/main', branch: 'main', before: '0'.repeat(40), after: 'a'.repeat(40),
  headCommit: { sha: 'a'.repeat(40), message: 'one', author: { name: 'Ada', email: 'ada@example.com' } }, pusher: { name: 'ada' }, forced: false,
};

describe('ingest command runner', () => {
  it('answers both copies of one push decided at once, when the copy that lost the project append stores the deployment first', async () => {
    const tableName = uniqueTableName(import.meta.url, 'events');
    await createEventStoreTable(client, tableName);
    const store = dynamoEventStore({ client, tableName, types: eventTypes });
    const projectId = `p${newId().toLowerCase().slice(-10)}`;
    // The first append to a deployment stream is held until the other copy has been answered.
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    let deploymentAppends = 0;
    const gated: EventStore = {
      ...store,
      append: async (streamId, events, o) => {
        if (streamId.startsWith(streams.deployment('x').slice(0, -1)) && ++deploymentAppends === 1) await held;
        return store.append(streamId, events, o);
      },
    };
    const run = commandRunner({ store: gated, ids: newId, clock: () => new Date() });
    await run(projectId, (now, ids) => ({ type: 'CreateProject', projectId, repository, settings, now, ids, actor }));
    const receive = () => run(projectId, (now, ids) => ({ type: 'ReceivePush', projectId, push, repository, now, ids, actor }));
    const [first, second] = [receive(), receive()];
    // Whichever copy lost the project append finds the push recorded, and stores its deployment.
    const settled = await Promise.race([first, second]);
    expect(settled.decision.duplicate).toBeDefined();
    release();
    const answers = await Promise.allSettled([first, second]);
    expect(answers.map((a) => a.status)).toEqual(['fulfilled', 'fulfilled']);
    const deploymentId = settled.decision.duplicate!.deploymentId!;
    expect((await store.readStream(streams.deployment(deploymentId))).map((e) => e.type)).toEqual(['DeploymentRequested']);
    const pushes = (await store.readStream(streams.project(projectId))).filter((e) => e.type === 'PushReceived');
    expect(pushes).toHaveLength(1);
  });
});
