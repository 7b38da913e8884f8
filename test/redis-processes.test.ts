// Several processes sharing one session on a real redis-server: four plain
// Node processes each make 250 read-modify-write increments of one variable
// with ifVersion and a retry, while two more processes watch it. No increment
// may be lost, and both watchers must see all 1,000 changes in one order.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisState } from '../dist/redis/index.js';
import { Child } from './redis/child.js';
import { RedisServer, redisMissing } from './redis/server.js';

const WRITERS = 4;
const INCREMENTS = 250;
const TOTAL = WRITERS * INCREMENTS;

const title = redisMissing === undefined ? 'RedisState across processes' : `RedisState across processes: SKIPPED, ${redisMissing}`;

describe.skipIf(redisMissing !== undefined)(title, () => {
  let server: RedisServer;
  const children: Child[] = [];
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterEach(() => {
    for (const child of children.splice(0)) child.kill();
  });
  afterAll(async () => {
    await server?.stop();
  });

  const start = (script: string, args: unknown): Child => {
    const child = Child.start(script, args);
    children.push(child);
    return child;
  };

  it(`${WRITERS} processes × ${INCREMENTS} increments with ifVersion and a retry: exactly ${TOTAL}, at version ${TOTAL}, and two watching processes see every change in one order`, async () => {
    const session = { url: server.url, keyPrefix: 'processes', sessionId: 'counter' };
    const owner = await RedisState.init(session);
    try {
      await owner.registerVariable('counter', 'integer', 0);
      const watchers = [start('watcher.mjs', session), start('watcher.mjs', session)];
      for (const watcher of watchers) await watcher.next('ready', 20_000);

      const writers = Array.from({ length: WRITERS }, (_, i) =>
        start('incrementer.mjs', { ...session, writer: `writer${i}`, increments: INCREMENTS }),
      );
      const reports = await Promise.all(writers.map((writer) => writer.next('done', 60_000)));
      expect(await Promise.all(writers.map((writer) => writer.exited(10_000)))).toEqual(writers.map(() => 0));
      // The retry was exercised: the writers did collide.
      expect(reports.reduce((sum, report) => sum + Number(report.conflicts), 0)).toBeGreaterThan(0);

      await owner.sync();
      const [info] = await owner.listVariables();
      expect(info?.value).toBe(TOTAL);
      expect(info?.version).toBe(TOTAL);

      for (const watcher of watchers) watcher.send({ type: 'report', version: TOTAL, timeoutMs: 20_000 });
      const seen = await Promise.all(watchers.map((watcher) => watcher.next('events', 30_000)));
      expect(await Promise.all(watchers.map((watcher) => watcher.exited(10_000)))).toEqual([0, 0]);
      for (const { events, errors } of seen) {
        expect(errors).toEqual([]);
        // Every increment once, in version order: value n at version n.
        expect((events as Array<[number, number, string]>).map(([value, version]) => [value, version])).toEqual(
          Array.from({ length: TOTAL }, (_, i) => [i + 1, i + 1]),
        );
        const byWriter = new Map<string, number>();
        for (const [, , writer] of events as Array<[number, number, string]>) byWriter.set(writer, (byWriter.get(writer) ?? 0) + 1);
        expect([...byWriter.values()]).toEqual(Array.from({ length: WRITERS }, () => INCREMENTS));
      }
      // The same order in both processes, down to which writer made each change.
      expect(seen[1]?.events).toEqual(seen[0]?.events);
    } finally {
      await owner.dropSession();
    }
  }, 120_000);
});
