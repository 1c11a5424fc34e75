import { describe, expect, it } from 'vitest';
import type { NewEvent } from '../../events/envelope.ts';
import {
  BatchTooLargeError,
  EventStoreError,
  EventTooLargeError,
  VersionConflictError,
  type EventStore,
} from '../../events/store/index.ts';
import { newEvent, newId } from '../support/events.ts';

const ids = (events: { metadata: { eventId: string } }[]) => events.map((e) => e.metadata.eventId);
const many = (n: number, meta: Partial<NewEvent['metadata']> = {}) =>
  Array.from({ length: n }, (_, i) => newEvent('Tested', { i }, meta));

/**
 * The behaviour every EventStore must have. Run against DynamoDB Local.
 *
 * @example
 * eventStoreContract('dynamo (local server)', async () => dynamoEventStore({ client, tableName }));
 */
export const eventStoreContract = (name: string, make: () => Promise<EventStore>) =>
  describe(`EventStore: ${name}`, () => {
    it('appends a batch to a new stream and reads it back in version order', async () => {
      const store = await make();
      const stream = `s-${newId()}`;
      const events = many(3);
      const res = await store.append(stream, events, { expectedVersion: 0 });
      expect(res).toMatchObject({ nextVersion: 3, duplicate: false });
      const back = await store.readStream(stream);
      expect(ids(back)).toEqual(ids(events));
      expect(back.map((e) => e.metadata.version)).toEqual([1, 2, 3]);
      expect(back.every((e) => e.metadata.streamId === stream && e.metadata.schemaVersion === 1)).toBe(true);
      expect(back[1]!.data).toEqual({ i: 1 });
      expect(await store.streamVersion(stream)).toBe(3);
      expect(ids(await store.readStream(stream, { fromVersion: 2 }))).toEqual(ids(events.slice(1)));
    });

    it('refuses a stale expected version with a typed conflict, and writes nothing', async () => {
      const store = await make();
      const stream = `s-${newId()}`;
      await store.append(stream, many(2), { expectedVersion: 0 });
      const err = await store.append(stream, many(1), { expectedVersion: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VersionConflictError);
      expect(err).toMatchObject({ streamId: stream, expectedVersion: 1, actualVersion: 2 });
      expect(await store.streamVersion(stream)).toBe(2);
    });

    it('refuses an expected version ahead of the stream, so versions never have gaps', async () => {
      const store = await make();
      const stream = `s-${newId()}`;
      await store.append(stream, many(1), { expectedVersion: 0 });
      await expect(store.append(stream, many(1), { expectedVersion: 5 })).rejects.toBeInstanceOf(VersionConflictError);
      await expect(store.append(`s-${newId()}`, many(1), { expectedVersion: 1 })).rejects.toMatchObject({
        actualVersion: 0,
      });
      expect(await store.streamVersion(stream)).toBe(1);
    });

    it('treats a retry with the same event ids as done, without duplicates', async () => {
      const store = await make();
      const stream = `s-${newId()}`;
      const batch = many(3);
      await store.append(stream, batch, { expectedVersion: 0 });
      const retry = await store.append(stream, batch, { expectedVersion: 0 });
      expect(retry).toMatchObject({ nextVersion: 3, duplicate: true });
      expect(ids(retry.events)).toEqual(ids(batch));
      // Still a retry when others appended after the first attempt landed.
      await store.append(stream, many(2), { expectedVersion: 3 });
      expect((await store.append(stream, batch, { expectedVersion: 0 })).duplicate).toBe(true);
      expect(ids(await store.readStream(stream)).filter((id) => ids(batch).includes(id))).toHaveLength(3);
      expect(await store.streamVersion(stream)).toBe(5);
    });

    it('does not take a batch that only partly matches what is stored as a retry', async () => {
      const store = await make();
      const stream = `s-${newId()}`;
      const batch = many(2);
      await store.append(stream, batch, { expectedVersion: 0 });
      await expect(store.append(stream, [batch[0]!, newEvent('Tested')], { expectedVersion: 0 })).rejects.toBeInstanceOf(
        VersionConflictError,
      );
    });

    it('rejects a batch that repeats an event id, and a negative expected version', async () => {
      const store = await make();
      const e = newEvent('Tested');
      await expect(store.append(`s-${newId()}`, [e, e], { expectedVersion: 0 })).rejects.toBeInstanceOf(EventStoreError);
      await expect(store.append(`s-${newId()}`, [e], { expectedVersion: -1 })).rejects.toBeInstanceOf(EventStoreError);
    });

    it('lets exactly one of 16 concurrent appenders win each version, with no gaps', async () => {
      const store = await make();
      const stream = `s-${newId()}`;
      const rounds = 5;
      for (let v = 0; v < rounds; v++) {
        const results = await Promise.allSettled(
          Array.from({ length: 16 }, () => store.append(stream, [newEvent('Tested')], { expectedVersion: v })),
        );
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r) => r.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost.every((r) => r.reason instanceof VersionConflictError)).toBe(true);
      }
      const all = await store.readStream(stream);
      expect(all.map((e) => e.metadata.version)).toEqual([1, 2, 3, 4, 5]);
    });

    it('keeps every event of 16 writers that retry on conflict, each version once', async () => {
      const store = await make();
      const stream = `s-${newId()}`;
      const perWriter = 4;
      const written: string[] = [];
      const writer = async () => {
        for (let n = 0; n < perWriter; n++) {
          const e = newEvent('Tested');
          for (;;) {
            const v = await store.streamVersion(stream);
            try {
              await store.append(stream, [e], { expectedVersion: v });
              written.push(e.metadata.eventId);
              break;
            } catch (err) {
              if (!(err instanceof VersionConflictError)) throw err;
            }
          }
        }
      };
      await Promise.all(Array.from({ length: 16 }, writer));
      const all = await store.readStream(stream);
      expect(all.map((e) => e.metadata.version)).toEqual(Array.from({ length: 64 }, (_, i) => i + 1));
      expect(new Set(ids(all))).toEqual(new Set(written));
    }, 120_000);

    it('reads one deployment across all its streams in commit order', async () => {
      const store = await make();
      const d = `d-${newId()}`;
      const other = `d-${newId()}`;
      const appended: string[] = [];
      const put = async (stream: string, deploymentId: string | undefined, expectedVersion: number) => {
        const e = newEvent('Tested', {}, deploymentId ? { deploymentId } : {});
        await store.append(stream, [e], { expectedVersion });
        if (deploymentId === d) appended.push(e.metadata.eventId);
      };
      await put(`deployment#${d}`, d, 0);
      await put(`build#${d}`, d, 0);
      await put(`build#${other}`, other, 0);
      await put(`project#p`, undefined, 0);
      await put(`build#${d}`, d, 1);
      await put(`release#p#production`, d, 0);
      await put(`deployment#${d}`, d, 1);
      expect(ids(await store.readDeployment(d))).toEqual(appended);
    });

    it('reads one project across its streams in commit order, and after a position', async () => {
      const store = await make();
      const p = `p-${newId()}`;
      const mine: string[] = [];
      for (let i = 0; i < 6; i++) {
        const e = newEvent('Tested', { i }, { projectId: i === 3 ? 'someone-else' : p });
        await store.append(`stream-${i % 3}-${p}`, [e], { expectedVersion: Math.floor(i / 3) });
        if (i !== 3) mine.push(e.metadata.eventId);
      }
      const all = await store.readProject(p);
      expect(ids(all)).toEqual(mine);
      expect(ids(await store.readProject(p, { after: all[1]!.position }))).toEqual(mine.slice(2));
      expect(ids(await store.readProject(p, { limit: 2 }))).toEqual(mine.slice(0, 2));
    });

    it('reads the whole store in global order, resumable from a cursor', async () => {
      const store = await make();
      const before = (await store.readAll({ limit: 100_000 })).cursor;
      const appended: string[] = [];
      for (let i = 0; i < 120; i++) {
        const batch = many(1 + (i % 3), { projectId: `p${i % 4}` });
        const stream = `g-${i % 23}-${before ?? ''}`;
        await store.append(stream, batch, { expectedVersion: await store.streamVersion(stream) });
        appended.push(...ids(batch));
      }
      const pages: string[] = [];
      let cursor = before;
      for (;;) {
        const page = await store.readAll({ cursor, limit: 17 });
        if (page.events.length === 0) break;
        expect(page.events.length).toBeLessThanOrEqual(17);
        pages.push(...ids(page.events));
        cursor = page.cursor;
      }
      expect(pages).toEqual(appended);
      const iterated: string[] = [];
      for await (const e of store.iterateAll({ cursor: before, pageSize: 7 })) iterated.push(e.metadata.eventId);
      expect(iterated).toEqual(appended);
      // Positions strictly increase in global order.
      const whole = (await store.readAll({ cursor: before, limit: 10_000 })).events;
      expect(whole.every((e, i) => i === 0 || whole[i - 1]!.position < e.position)).toBe(true);
      // A cursor at the end yields nothing until something new is appended.
      const end = await store.readAll({ cursor, limit: 10 });
      expect(end).toEqual({ events: [], cursor: null });
      const late = newEvent('Tested');
      await store.append(`late-${newId()}`, [late], { expectedVersion: 0 });
      expect(ids((await store.readAll({ cursor, limit: 10 })).events)).toEqual([late.metadata.eventId]);
    });

    it('finds one event by id', async () => {
      const store = await make();
      const e = newEvent('Tested', { hello: 'world' });
      await store.append(`s-${newId()}`, [e], { expectedVersion: 0 });
      expect((await store.getEvent(e.metadata.eventId))?.data).toEqual({ hello: 'world' });
      expect(await store.getEvent(newId())).toBeUndefined();
    });

    it('refuses an event over 400 KB with a clear error, and writes nothing of the batch', async () => {
      const store = await make();
      const stream = `s-${newId()}`;
      const big = newEvent('Tested', { blob: 'x'.repeat(400 * 1024) });
      const err = await store.append(stream, [newEvent('Tested'), big], { expectedVersion: 0 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EventTooLargeError);
      expect((err as Error).message).toMatch(/limited to 409600 bytes/);
      expect(await store.streamVersion(stream)).toBe(0);
      // Just under the limit is fine.
      await store.append(stream, [newEvent('Tested', { blob: 'x'.repeat(390 * 1024) })], { expectedVersion: 0 });
      expect(await store.streamVersion(stream)).toBe(1);
    });

    it('refuses a batch past 100 transaction actions or 4 MB with a clear error', async () => {
      const store = await make();
      const stream = `s-${newId()}`;
      await store.append(stream, many(100), { expectedVersion: 0 });
      expect(await store.streamVersion(stream)).toBe(100);
      // At an existing version one action checks the expected version: 99 events fit.
      const err = await store.append(stream, many(100), { expectedVersion: 100 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BatchTooLargeError);
      expect((err as Error).message).toMatch(/at most 99 events/);
      await store.append(stream, many(99), { expectedVersion: 100 });
      await expect(store.append(`s-${newId()}`, many(101), { expectedVersion: 0 })).rejects.toBeInstanceOf(
        BatchTooLargeError,
      );
      const heavy = Array.from({ length: 12 }, () => newEvent('Tested', { blob: 'y'.repeat(380 * 1024) }));
      await expect(store.append(`s-${newId()}`, heavy, { expectedVersion: 0 })).rejects.toThrow(/at most 4194304/);
    });
  });
