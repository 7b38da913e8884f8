// RedisState on a Redis Cluster of three masters: the conformance suite's
// registration, batch, concurrency and snapshot rules, with every store a
// session of its own so that the sessions spread over the slots; a second
// client of one session that follows the first through the change feed; and
// what the servers themselves say about where each session's keys live.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { WatchEvent } from '../dist/index.js';
import { RedisState } from '../dist/redis/index.js';
import { batchTests, concurrencyTests, registrationTests, snapshotTests } from './conformance/index.js';
import { redisFactory } from './redis/factory.js';
import { RedisCluster, redisMissing } from './redis/server.js';

const title =
  redisMissing === undefined ? 'RedisState on a Redis Cluster (3 masters)' : `RedisState on a Redis Cluster: SKIPPED, ${redisMissing}`;

describe.skipIf(redisMissing !== undefined)(title, () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  const { factory, tags } = redisFactory('cluster', () => ({ cluster: { rootNodes: cluster.rootNodes } }));
  registrationTests(factory);
  batchTests(factory);
  concurrencyTests(factory);
  snapshotTests(factory);

  it('a second client of the session follows the first through the change feed: every event in commit order, and sync()', async () => {
    const options = { cluster: { rootNodes: cluster.rootNodes }, keyPrefix: 'cluster-shared', sessionId: 'two-clients' };
    const writer = await RedisState.init(options);
    const reader = await RedisState.init(options);
    try {
      await writer.registerVariable('step', 'integer', 0);
      await writer.registerVariable('other', 'integer', 0);
      expect(await reader.getVariable('step')).toBe(0);
      const events: WatchEvent[] = [];
      await reader.watchVariables(['step'], (event) => events.push(event));
      for (let i = 1; i <= 10; i++) await writer.setVariable('step', i);
      await writer.updateVariables({ step: 11, other: 1 });
      await reader.sync();
      // After sync() the reader's next read shows every write committed before it, near cache or not.
      expect(await reader.getVariables(['step', 'other'])).toEqual({ step: 11, other: 1 });
      await vi.waitFor(() => expect(events).toHaveLength(11));
      expect(events.map((event) => [event.newValue, event.version])).toEqual(Array.from({ length: 11 }, (_, i) => [i + 1, i + 1]));
    } finally {
      await writer.dropSession();
      await reader.cleanup();
    }
  }, 20_000);

  it('each session lives whole in one slot, and the sessions used spread over different slots and every node', () => {
    expect(tags.length).toBeGreaterThan(20);
    const slots = cluster.slotsOf(tags.map((tag) => `${tag}:session`));
    // Random session ids: two may share one of the 16,384 slots (about 1.5% of runs for 22 sessions), rarely more.
    expect(new Set(slots).size).toBeGreaterThanOrEqual(tags.length - 2);
    // Every key each node holds, grouped by session: all of a session's keys on the one node that serves its slot.
    const nodesOfTag = new Map<string, Set<number>>();
    for (const node of cluster.nodes) {
      for (const key of node.cli('--scan', '--pattern', '{cluster*').split('\n').filter(Boolean)) {
        const tag = key.slice(0, key.indexOf('}') + 1);
        nodesOfTag.set(tag, (nodesOfTag.get(tag) ?? new Set()).add(node.port));
      }
    }
    const owners = cluster.nodesOf(tags.map((tag) => `${tag}:session`));
    expect(tags.map((tag) => [tag, nodesOfTag.get(tag)])).toEqual(tags.map((tag, i) => [tag, new Set([owners[i]?.port])]));
    const ports = new Set(owners.map((owner) => owner.port));
    expect(ports).toEqual(new Set(cluster.nodes.map((node) => node.port)));
  });
});
