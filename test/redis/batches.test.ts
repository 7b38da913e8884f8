// A batch goes to the change feed as one stream entry per 400 items (scripts.ts,
// BATCH): these tests hold the feed to what that promises. A watcher in another
// client gets every item of a large batch, in order, once; a near cache applies
// all of it; and a batch split over several entries is handed on only once its
// last entry is read, so no reader ever sees part of it.

import { createClient } from 'redis';
import { expect, it, vi } from 'vitest';
import type { WatchEvent } from '../../dist/index.js';
import { RedisState } from '../../dist/redis/index.js';
// The feed itself is internal: taken from the sources.
import { Connection } from '../../src/redis/connection.js';
import { Feed, type FeedEntry } from '../../src/redis/feed.js';
import { BATCH_ENTRY_ITEMS } from '../../src/redis/scripts.js';
import { describeWithRedis } from './server.js';

describeWithRedis('RedisState batches on the change feed', (server) => {
  it('a batch over several stream entries reaches another client whole: every event in item order, and every value', async () => {
    const size = BATCH_ENTRY_ITEMS * 2 + 37;
    const writer = await RedisState.init({ url: server().url, sessionId: 'large' });
    const reader = await RedisState.init({ url: server().url, sessionId: 'large' });
    const names = Array.from({ length: size }, (_, i) => `p${i}`);
    const ids: string[] = [];
    for (const name of names) ids.push(await writer.registerVariable(name, 'integer', 0));
    await reader.sync();
    expect(await reader.getVariables(names)).toEqual(Object.fromEntries(names.map((name) => [name, 0])));
    const events: WatchEvent[] = [];
    await reader.watchVariables(names, (event) => events.push(event));

    // Item order differs from registration order, and p0 is written twice: by name, then by id.
    const order = [...names].reverse();
    const items: Array<[string, number]> = order.map((name, i) => [name, i + 1]);
    items.push([ids[0] as string, -1]);
    await writer.updateVariables(Object.fromEntries(items), { by: 'batch' });
    await reader.sync();
    const last = new Map(order.map((name, i) => [name, i + 1]));
    last.set('p0', -1);
    expect(await reader.getVariables(names)).toEqual(Object.fromEntries(last));
    await vi.waitFor(() => expect(events).toHaveLength(size + 1));
    expect(events.map((event) => [event.name, event.oldValue, event.newValue, event.version])).toEqual([
      ...order.map((name, i) => [name, 0, i + 1, 1]),
      ['p0', size, -1, 2],
    ]);
    expect(events.every((event) => event.metadata.by === 'batch')).toBe(true);
    await writer.dropSession();
    await reader.cleanup();
  });

  it('the feed hands on none of a batch until its last entry is read', async () => {
    const connection = await Connection.open(
      { url: server().url, rootNodes: undefined, commandTimeoutMs: 2000, socket: undefined },
      'feed-test',
    );
    const admin = createClient({ url: server().url });
    await admin.connect();
    const handed: FeedEntry[][] = [];
    const feed = new Feed(
      connection,
      'feed-test',
      { id: '0-0', seq: 0 },
      { entries: (entries) => handed.push([...entries]) > 0, gap: () => {}, dropped: () => {}, restored: () => {} },
      50,
      0,
    );
    const items = (...values: Array<[string, number]>) =>
      JSON.stringify(values.flatMap(([name, value]) => [`"${name}"`, '0', String(value), '1', '{}', '5']));
    try {
      await admin.sendCommand(['XADD', 'feed-test', '*', 'q', '1', 'k', 'b', 'h', '0', 'x', '1', 'c', 'w', 'i', items(['a', 1], ['b', 2])]);
      // The feed has read the first part (its read cursor moved) and handed on nothing.
      await vi.waitFor(() => expect((feed as unknown as { readSeq: number }).readSeq).toBe(1));
      expect(handed).toEqual([]);
      expect(feed.lastSeq).toBe(0);

      await admin.sendCommand(['XADD', 'feed-test', '*', 'q', '2', 'k', 'b', 'h', '0', 'x', '0', 'c', 'w', 'i', items(['c', 3])]);
      await vi.waitFor(() => expect(handed).toHaveLength(1));
      expect(handed[0]?.map((entry) => [entry.eid, entry.value, entry.seq])).toEqual([
        ['"a"', '1', 1],
        ['"b"', '2', 1],
        ['"c"', '3', 2],
      ]);
      expect(feed.lastSeq).toBe(2);
    } finally {
      await feed.stop();
      await admin.quit();
    }
  });
});
