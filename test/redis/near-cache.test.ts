// The near cache's guarantees (issue 10), each tested where it would break,
// against a real redis-server. A relay (relay.ts) between a client and the
// server holds the replies on one of the client's connections, so the order
// in which the client hears of commits is set by the test, not by chance:
// with the change feed held, only a client's own replies can change what it
// reads; with its command connection held, only the feed can.
//
// No test asserts on time. The invalidation delay is measured and printed.

import { setImmediate as nextTurn } from 'node:timers/promises';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type RedisInitOptions, RedisState } from '../../dist/redis/index.js';
import { codeOf } from '../conformance/backend.js';
import { Relay } from './relay.js';
import { RedisServer, redisMissing } from './server.js';

const title = redisMissing === undefined ? 'near cache (redis-server)' : `near cache: SKIPPED, ${redisMissing}`;

type Admin = ReturnType<typeof createClient>;

/** Calls per command since the last CONFIG RESETSTAT (commands run by scripts included). */
async function commandCalls(admin: Admin): Promise<Record<string, number>> {
  const text = String(await admin.sendCommand(['INFO', 'commandstats']));
  const calls: Record<string, number> = {};
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1] as string] = Number(match[2]);
  return calls;
}

/** What clients asked of the server, leaving out the feeds' blocking reads and this test's own probes. */
function requests(calls: Record<string, number>): Record<string, number> {
  const { xread: _x, info: _i, 'config|resetstat': _c, ...rest } = calls;
  return rest;
}

/** Settles a promise into a flag, so a test can ask whether it has resolved yet. */
function track<T>(promise: Promise<T>): { readonly promise: Promise<T>; readonly settled: () => boolean } {
  let settled = false;
  const tracked = promise.finally(() => {
    settled = true;
  });
  return { promise: tracked, settled: () => settled };
}

describe.skipIf(redisMissing !== undefined)(title, () => {
  let server: RedisServer;
  let admin: Admin;
  const clients: RedisState[] = [];
  const relays: Relay[] = [];
  let sessions = 0;
  let session = '';

  beforeAll(async () => {
    server = await RedisServer.start();
    admin = createClient({ url: server.url });
    await admin.connect();
  });
  beforeEach(() => {
    session = `near${sessions++}`;
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.cleanup()));
    await Promise.all(relays.splice(0).map((relay) => relay.close()));
  });
  afterAll(async () => {
    await admin?.close();
    await server?.stop();
  });

  /** A client of this test's session, directly or through `relay`. */
  async function client(options: Omit<RedisInitOptions, 'url' | 'sessionId' | 'keyPrefix'> = {}, through?: Relay): Promise<RedisState> {
    const state = await RedisState.init({ url: through?.url ?? server.url, keyPrefix: 'near', sessionId: session, ...options });
    clients.push(state);
    return state;
  }

  async function relay(): Promise<Relay> {
    const started = await Relay.start(server.port);
    relays.push(started);
    return started;
  }

  /** Holds `reader`'s feed with the changes `change` commits waiting in the held reply (the first of them, at least). */
  async function holdFeedWith(link: Relay, change: () => Promise<void>): Promise<void> {
    link.hold('feed');
    await change();
    await vi.waitFor(() => expect(link.heldText('feed')).not.toBe(''));
  }

  describe('a client reads its own writes', () => {
    for (const nearCache of [true, false]) {
      it(`nearCache ${nearCache}: every write shows in the next read, while the change feed is held`, async () => {
        const link = await relay();
        const a = await client({ nearCache }, link);
        const b = await client();
        await a.registerVariable('x', 'float', 0);
        await a.registerVariable('y', 'string', 'a');
        const z = await a.registerVariable('z', 'integer', 0);
        // Registrations clear every client's resolved names when the feed brings them: let that happen first.
        await a.sync();
        expect(await a.getVariables(['x', 'y', 'z'])).toEqual({ x: 0, y: 'a', z: 0 });
        // From here on the feed tells `a` nothing: what it reads of its own writes came from their replies.
        link.hold('feed');

        await a.setVariable('x', 1);
        expect(await a.getVariable('x')).toBe(1);
        await a.setVariable('x', 2, { why: 'guarded' }, { ifVersion: 1 });
        expect(await a.getVariable('x')).toBe(2);
        await a.updateVariables({ x: 3, y: 'b' });
        expect(await a.getVariables(['x', 'y'])).toEqual({ x: 3, y: 'b' });
        const ref = await a.ref<number>(z);
        await ref.set(5);
        expect([await ref.get(), await a.getVariable('z'), await ref.version]).toEqual([5, 5, 1]);
        await a.deleteVariable('y');
        expect(await codeOf(() => a.getVariable('y'))).toBe('not_found');
        await a.registerVariable('w', 'boolean', true);
        expect(await a.getVariable('w')).toBe(true);
        expect(await (await a.ref('x')).version).toBe(3);

        // The hold is real: another client's write has not reached a caching `a`, so the reads above
        // did not come from the feed (a client without a cache asks the server, and sees it).
        await b.setVariable('x', 100);
        expect(await a.getVariable('x')).toBe(nearCache ? 3 : 100);
        link.release('feed');
        await a.sync();
        expect(await a.getVariable('x')).toBe(100);
      });
    }
  });

  describe('the version a client reads never goes backwards', () => {
    it('a read that the server answered before another client wrote does not undo what the feed applied since', async () => {
      const link = await relay();
      const a = await client({}, link);
      const b = await client();
      await b.registerVariable('x', 'integer', 0);
      await b.setVariable('x', 1);
      await a.sync();
      expect(await a.getVariable('x')).toBe(1);

      link.hold('commands');
      // A conditional write with a bad value reads the variable afresh before it reports the conflict.
      const conditional = track(codeOf(() => a.setVariable('x', 'not a number', undefined, { ifVersion: 99 })));
      await vi.waitFor(() => expect(link.heldText('commands')).not.toBe(''));
      // The server has answered the fresh read (x at version 1); `a` has not heard it yet.
      await b.setVariable('x', 2);
      await vi.waitFor(async () => expect(await a.getVariable('x')).toBe(2));

      link.release('commands');
      expect(await conditional.promise).toBe('version_conflict');
      expect(await a.getVariable('x')).toBe(2);
      expect(await (await a.ref('x')).version).toBe(2);
    });

    it("a client's own write, answered after the feed applied a later one, does not undo it", async () => {
      const link = await relay();
      const a = await client({}, link);
      const b = await client();
      await b.registerVariable('x', 'integer', 0);
      await a.sync();
      expect(await a.getVariable('x')).toBe(0);

      link.hold('commands');
      const own = track(a.setVariable('x', 10));
      await vi.waitFor(() => expect(link.heldText('commands')).not.toBe(''));
      // Version 1 is a's write (not yet acknowledged to it), version 2 is b's; the feed brings both.
      await b.setVariable('x', 20);
      await vi.waitFor(async () => expect(await a.getVariable('x')).toBe(20));

      link.release('commands');
      await own.promise;
      expect(await a.getVariable('x')).toBe(20);
      expect(await (await a.ref('x')).version).toBe(2);
    });

    it("a feed entry older than the client's own write is not applied over it", async () => {
      const link = await relay();
      const a = await client({}, link);
      const b = await client();
      await b.registerVariable('x', 'integer', 0);
      await a.sync();
      expect(await a.getVariable('x')).toBe(0);

      // b's write (version 1) waits in a held feed reply; a's own write (version 2) is acknowledged first.
      await holdFeedWith(link, () => b.setVariable('x', 20));
      await a.setVariable('x', 30);
      expect(await a.getVariable('x')).toBe(30);

      // The feed now brings version 1, then (one reply later) version 2. A read between the two must not see 20.
      link.release('feed');
      const barrier = track(a.sync());
      const seen: unknown[] = [];
      while (!barrier.settled()) {
        seen.push(await a.getVariable('x'));
        await nextTurn();
      }
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.filter((value) => value !== 30)).toEqual([]);
      expect(await (await a.ref('x')).version).toBe(2);
    });

    it("under another client's stream of writes, through every read path", async () => {
      const a = await client();
      const b = await client();
      const WRITES = 1500;
      await b.registerVariable('x', 'integer', 0);
      const ref = await a.ref<number>('x');
      // b is x's only writer and writes its versions in order, so a value read is the version it shows.
      const writer = (async () => {
        for (let version = 1; version <= WRITES; version++) {
          await b.setVariable('x', version);
          // A registration clears a's resolved names, so a's next read of x is a fresh fetch racing the feed.
          if (version % 50 === 0) await b.registerVariable(`other${version}`, 'integer', 0);
        }
      })();
      const seen: number[] = [];
      let done = false;
      void writer.finally(() => {
        done = true;
      });
      for (let i = 0; !done; i++) {
        switch (i % 5) {
          case 0:
            seen.push((await a.getVariable('x')) as number);
            break;
          case 1:
            seen.push((await a.getVariables(['x'])).x as number);
            break;
          case 2:
            seen.push(await ref.get());
            break;
          case 3:
            seen.push(await ref.version);
            break;
          case 4:
            // A fresh read (the conflict path re-reads the variable before reporting).
            expect(await codeOf(() => a.setVariable('x', 'bad', undefined, { ifVersion: WRITES * 10 }))).toBe('version_conflict');
            break;
        }
        if (i % 3 === 0) await nextTurn();
      }
      await writer;
      await a.sync();
      seen.push((await a.getVariable('x')) as number);
      const backwards = seen.flatMap((value, i) => (i > 0 && value < (seen[i - 1] as number) ? [[seen[i - 1], value]] : []));
      expect(backwards).toEqual([]);
      expect(seen.at(-1)).toBe(WRITES);
      // Enough reads that the races above had a chance to happen.
      expect(seen.length).toBeGreaterThan(WRITES / 2);
    });
  });

  it('with nearCache: false, every read returns the latest committed value, whatever the feed has delivered', async () => {
    const link = await relay();
    const a = await client({ nearCache: false }, link);
    const cached = await client({}, link);
    const b = await client();
    await b.registerVariable('x', 'integer', 0);
    await b.registerVariable('y', 'integer', 0);
    await cached.sync();
    expect(await cached.getVariables(['x', 'y'])).toEqual({ x: 0, y: 0 });
    // Neither client hears of commits from here on.
    link.hold('feed');
    const xRef = await a.ref<number>('x');
    let next = 0;
    const reads = async (): Promise<unknown[]> => [
      (await a.getVariables(['x', 'y'])).x,
      await a.getVariable('x'),
      await xRef.get(),
      (await a.listVariables()).find((v) => v.name === 'x')?.value,
    ];
    // Each of a's own reads and writes first (none may leave anything cached), then b's write, then every read.
    const ownWrites: Array<() => Promise<unknown>> = [
      () => a.getVariable('x'),
      () => a.setVariable('x', -1),
      () => a.updateVariables({ x: -2, y: -2 }),
      () => xRef.set(-3),
      () => a.registerVariable(`r${next}`, 'integer', 0),
    ];
    for (const own of ownWrites) {
      await own();
      next++;
      await b.setVariable('x', 1000 + next);
      expect(await reads()).toEqual([1000 + next, 1000 + next, 1000 + next, 1000 + next]);
      expect(await xRef.version).toBe((await b.listVariables()).find((v) => v.name === 'x')?.version);
    }
    // The same hold leaves a caching client behind: the test can tell the two apart.
    expect(await cached.getVariable('x')).toBe(0);
    link.release('feed');
  });

  describe('repeated reads of an unchanged variable are served from memory', () => {
    it('no command reaches the server (INFO commandstats), where a client without a cache sends one per read', async () => {
      const a = await client();
      const cold = await client({ nearCache: false });
      await a.registerVariable('x', 'float', 0.5);
      await a.sync();
      const ref = await a.ref<number>('x');
      // The first read by each identifier (the name, the ref's id) resolves it on the server.
      expect([await a.getVariable('x'), await ref.get()]).toEqual([0.5, 0.5]);
      const READS = 500;

      await admin.sendCommand(['CONFIG', 'RESETSTAT']);
      for (let i = 0; i < READS; i++) {
        expect(await a.getVariable('x')).toBe(0.5);
        expect(await a.getVariables(['x'])).toEqual({ x: 0.5 });
        expect(await ref.get()).toBe(0.5);
        expect(await ref.version).toBe(0);
      }
      expect(requests(await commandCalls(admin))).toEqual({});

      // The control: the same count sees every read of a client without a cache.
      await admin.sendCommand(['CONFIG', 'RESETSTAT']);
      for (let i = 0; i < READS; i++) expect(await cold.getVariable('x')).toBe(0.5);
      expect(requests(await commandCalls(admin)).evalsha).toBe(READS);
    });

    it('a cached read answers while the server process is stopped (SIGSTOP); a read without the cache waits for it', async () => {
      const own = await RedisServer.start();
      try {
        const a = await RedisState.init({ url: own.url, commandTimeoutMs: 60_000 });
        const cold = await RedisState.init({ url: own.url, sessionId: a.sessionId, nearCache: false, commandTimeoutMs: 60_000 });
        clients.push(a, cold);
        await a.registerVariable('x', 'float', 0.5);
        await a.sync();
        expect(await a.getVariable('x')).toBe(0.5);
        const pid = Number(/process_id:(\d+)/.exec(await infoServer(own.url))?.[1]);
        expect(pid).toBeGreaterThan(0);
        process.kill(pid, 'SIGSTOP');
        let coldRead: ReturnType<typeof track<unknown>> | undefined;
        try {
          coldRead = track(cold.getVariable('x'));
          for (let i = 0; i < 100; i++) expect(await a.getVariable('x')).toBe(0.5);
          // Everything above ran while the server could answer nothing: the cold read is still waiting.
          expect(coldRead.settled()).toBe(false);
        } finally {
          process.kill(pid, 'SIGCONT');
        }
        expect(await coldRead.promise).toBe(0.5);
      } finally {
        await Promise.all(clients.splice(0).map((c) => c.cleanup()));
        await own.stop();
      }
    });
  });

  describe('when the connection drops, the cache is dropped', () => {
    it('the feed connection alone: reads go to the server, and nothing is cached until the feed is back', async () => {
      const link = await relay();
      const a = await client({}, link);
      const b = await client();
      await b.registerVariable('x', 'integer', 1);
      await a.sync();
      expect(await a.getVariable('x')).toBe(1);

      link.refuseFeeds = true;
      link.cut('feed');
      await b.setVariable('x', 2);
      // Once `a` notices its feed is gone, its reads ask the server (a cache that stayed would answer 1 for ever).
      await vi.waitFor(async () => expect(await a.getVariable('x')).toBe(2));
      // While the feed is away, no read may be kept: nothing would tell `a` of the next write.
      await b.setVariable('x', 3);
      expect(await a.getVariable('x')).toBe(3);
      await b.updateVariables({ x: 4 });
      expect(await a.getVariables(['x'])).toEqual({ x: 4 });

      // The feed comes back and catches up; reads are served from memory again.
      link.refuseFeeds = false;
      await b.setVariable('x', 5);
      // node-redis reconnects with a backoff of up to a second.
      await vi.waitFor(
        async () => {
          await a.sync();
          expect(await a.getVariable('x')).toBe(5);
        },
        { timeout: 10_000 },
      );
      await admin.sendCommand(['CONFIG', 'RESETSTAT']);
      for (let i = 0; i < 20; i++) expect(await a.getVariable('x')).toBe(5);
      expect(requests(await commandCalls(admin))).toEqual({});
    });

    it('the server: cached reads fail as unavailable, and after a restart that lost the data the old values are gone', async () => {
      const own = await RedisServer.start();
      try {
        const a = await RedisState.init({ url: own.url, commandTimeoutMs: 2000 });
        clients.push(a);
        await a.registerVariable('x', 'integer', 7);
        expect(await a.getVariable('x')).toBe(7);
        await own.kill();
        await vi.waitFor(async () => expect(await codeOf(() => a.getVariable('x'))).toBe('unavailable'), { timeout: 10_000 });
        // Persistence is off: the restarted server holds nothing, and neither may the client.
        await own.launch();
        await vi.waitFor(async () => expect(await codeOf(() => a.getVariable('x'))).toBe('not_found'), { timeout: 10_000 });
      } finally {
        await Promise.all(clients.splice(0).map((c) => c.cleanup()));
        await own.stop();
      }
    });
  });

  describe("another client's committed write reaches a cached read", () => {
    for (const change of ['set', 'delete'] as const) {
      it(`even when the write (${change}) lands between the server answering a first read and the client hearing the answer`, async () => {
        const link = await relay();
        const a = await client({}, link);
        const b = await client();
        await b.registerVariable('x', 'integer', 0);
        await a.sync();
        // A watch shows when a's feed has handled b's commit (it reads the server, and caches nothing).
        const events: string[] = [];
        await a.watchVariables(['x'], (event) => events.push(event.kind));

        link.hold('commands');
        const first = track(a.getVariable('x'));
        await vi.waitFor(() => expect(link.heldText('commands')).not.toBe(''));
        if (change === 'set') await b.setVariable('x', 1);
        else await b.deleteVariable('x');
        await vi.waitFor(() => expect(events).toEqual([change]));
        link.release('commands');
        // The read answers what was committed when the server ran it; what it read must not be kept.
        expect(await first.promise).toBe(0);
        await a.sync();
        if (change === 'set') expect(await a.getVariable('x')).toBe(1);
        else expect(await codeOf(() => a.getVariable('x'))).toBe('not_found');
      });
    }

    it('a feed pause (feedPauseMs) never holds back what the client caches or watches, and sync() ends it', async () => {
      // A pause of 4 s: were it taken after another client's change, each step below would wait it out.
      const a = await client({ feedPauseMs: 4000, commandTimeoutMs: 2000 });
      const b = await client();
      await b.registerVariable('cached', 'integer', 0);
      await b.registerVariable('watched', 'integer', 0);
      await a.registerVariable('own', 'integer', 0);
      await a.sync();
      expect(await a.getVariable('cached')).toBe(0);
      const events: unknown[] = [];
      await a.watchVariables(['watched'], (event) => events.push(event.newValue));
      const started = Date.now();
      for (let i = 1; i <= 3; i++) {
        await b.setVariable('cached', i);
        await vi.waitFor(async () => expect(await a.getVariable('cached')).toBe(i), { timeout: 1500, interval: 5 });
        await b.setVariable('watched', i);
        await vi.waitFor(() => expect(events).toHaveLength(i), { timeout: 1500, interval: 5 });
      }
      expect(Date.now() - started).toBeLessThan(4000);
      // a's own write comes back on its feed with nothing new: the feed may pause now; a sync() does not wait it out.
      await a.setVariable('own', 1);
      await b.setVariable('cached', 10);
      await a.sync();
      expect(await a.getVariable('cached')).toBe(10);
    });

    it('within the invalidation delay: measured over 3000 writes (printed)', async () => {
      const reader = await client();
      const writer = await client();
      await writer.registerVariable('x', 'integer', 0);
      // A first set loads the script on this server (EVALSHA, then EVAL on NOSCRIPT): later ones are one EVALSHA.
      await writer.setVariable('x', 0);
      await Promise.all([reader.sync(), writer.sync()]);
      // Both hold x in their caches, so the writer's sets are one script each and the reader's reads none.
      expect([await reader.getVariable('x'), await writer.getVariable('x')]).toEqual([0, 0]);
      const WRITES = 3000;
      const sinceCall: number[] = [];
      const writerTrip: number[] = [];
      await admin.sendCommand(['CONFIG', 'RESETSTAT']);
      for (let value = 1; value <= WRITES; value++) {
        const start = performance.now();
        let acknowledged = 0;
        const write = writer.setVariable('x', value).then(() => {
          acknowledged = performance.now();
        });
        // A liveness bound, not a speed target: a write that never reaches the cache fails here, not by timeout.
        while ((await reader.getVariable('x')) !== value) {
          if (performance.now() - start > 10_000) throw new Error(`write ${value} did not reach the reader's cache within 10 s`);
          await nextTurn();
        }
        sinceCall.push(performance.now() - start);
        await write;
        writerTrip.push(acknowledged - start);
      }
      // Every read above came from memory: the server saw the writer's scripts and nothing else.
      const calls = requests(await commandCalls(admin));
      expect([calls.evalsha, calls.eval]).toEqual([WRITES, undefined]);
      const p = (values: number[], q: number) =>
        [...values].sort((x, y) => x - y)[Math.min(values.length - 1, Math.floor(q * values.length))] ?? 0;
      const us = (ms: number) => `${(ms * 1000).toFixed(0)} µs`;
      console.log(
        `invalidation delay (writer's setVariable call → reader's cached getVariable shows the value), ${WRITES} writes on loopback:` +
          ` p50 ${us(p(sinceCall, 0.5))}, p99 ${us(p(sinceCall, 0.99))};` +
          ` the writer's own round trip: p50 ${us(p(writerTrip, 0.5))}, p99 ${us(p(writerTrip, 0.99))}`,
      );
    });
  });

  describe('await sync() is a barrier that costs one round trip', () => {
    it('it resolves only once the feed has handled every write committed before the call; then the next read shows them', async () => {
      const link = await relay();
      const a = await client({}, link);
      const b = await client();
      await b.registerVariable('x', 'integer', 0);
      await b.registerVariable('gone', 'integer', 0);
      await a.sync();
      expect(await a.getVariables(['x', 'gone'])).toEqual({ x: 0, gone: 0 });

      await holdFeedWith(link, async () => {
        await b.setVariable('x', 1);
        await b.deleteVariable('gone');
      });
      // Committed, and not yet seen by a's cache.
      expect(await a.getVariables(['x', 'gone'])).toEqual({ x: 0, gone: 0 });
      const barrier = track(a.sync());
      // a's stats() goes out after sync()'s question on the same connection, so its answer comes after.
      await a.stats();
      expect(barrier.settled()).toBe(false);
      link.release('feed');
      await barrier.promise;
      expect(await a.getVariable('x')).toBe(1);
      expect(await codeOf(() => a.getVariable('gone'))).toBe('not_found');
    });

    it('a feed that cannot catch up fails the barrier as unavailable within commandTimeoutMs; a later sync passes', async () => {
      const link = await relay();
      const a = await client({ commandTimeoutMs: 300 }, link);
      const b = await client();
      await b.registerVariable('x', 'integer', 0);
      await a.sync();
      await holdFeedWith(link, () => b.setVariable('x', 1));
      expect(await codeOf(() => a.sync())).toBe('unavailable');
      link.release('feed');
      await a.sync();
      expect(await a.getVariable('x')).toBe(1);
    });

    it('one command reaches the server (INFO commandstats), whether the feed is caught up or has to catch up', async () => {
      const link = await relay();
      const a = await client({}, link);
      const b = await client();
      await b.registerVariable('x', 'integer', 0);
      expect(await a.getVariable('x')).toBe(0);
      await a.sync();
      await admin.sendCommand(['CONFIG', 'RESETSTAT']);
      await a.sync();
      expect(requests(await commandCalls(admin))).toEqual({ hget: 1 });

      // Behind: the barrier asks once, then waits for the feed's blocking read that is already out.
      await holdFeedWith(link, () => b.setVariable('x', 1));
      await admin.sendCommand(['CONFIG', 'RESETSTAT']);
      const barrier = track(a.sync());
      await vi.waitFor(async () => expect(requests(await commandCalls(admin))).toEqual({ hget: 1 }));
      expect(barrier.settled()).toBe(false);
      link.release('feed');
      await barrier.promise;
      expect(requests(await commandCalls(admin))).toEqual({ hget: 1 });
      expect(await a.getVariable('x')).toBe(1);
    });

    it('three writers, random operations: after each sync() the reader reads exactly what they committed', async () => {
      const reader = await client();
      const writers = [await client(), await client({ nearCache: false }), await client()];
      const NAMES = ['a', 'b', 'c', 'd', 'e', 'f'];
      /** Each variable's committed value; absent once deleted. */
      const committed = new Map<string, number>();
      for (const name of NAMES) {
        await (writers[0] as RedisState).registerVariable(name, 'integer', 0);
        committed.set(name, 0);
      }
      let seed = 7;
      const random = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed % n;
      };
      let counter = 0;
      for (let round = 0; round < 150; round++) {
        // Reads first, so that the reader holds every live variable in its cache.
        for (const name of committed.keys()) await reader.getVariable(name);
        // Each writer gets two names of its own this round, so the model knows the commit order per variable.
        const names = [...NAMES];
        for (let i = names.length - 1; i > 0; i--) {
          const j = random(i + 1);
          [names[i], names[j]] = [names[j] as string, names[i] as string];
        }
        await Promise.all(
          writers.map(async (writer, w) => {
            const [name, other] = [names[2 * w] as string, names[2 * w + 1] as string];
            const value = ++counter;
            const live = committed.has(name);
            switch (random(4)) {
              case 0:
              case 1:
                if (!live) return;
                await writer.setVariable(name, value);
                committed.set(name, value);
                return;
              case 2:
                if (!live || !committed.has(other)) return;
                await writer.updateVariables({ [name]: value, [other]: -value });
                committed.set(name, value);
                committed.set(other, -value);
                return;
              default:
                if (live) {
                  await writer.deleteVariable(name);
                  committed.delete(name);
                } else {
                  await writer.registerVariable(name, 'integer', value);
                  committed.set(name, value);
                }
            }
          }),
        );
        await reader.sync();
        for (const name of NAMES) {
          const expected = committed.get(name);
          if (expected === undefined) expect(await codeOf(() => reader.getVariable(name))).toBe('not_found');
          else expect(await reader.getVariable(name)).toBe(expected);
        }
      }
    });
  });
});

async function infoServer(url: string): Promise<string> {
  const probe = createClient({ url });
  await probe.connect();
  try {
    return String(await probe.sendCommand(['INFO', 'server']));
  } finally {
    await probe.close();
  }
}
