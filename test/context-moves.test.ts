// What a Context promises about moves: nothing lost or applied twice, reads
// answering and writes waiting while it moves, a failure leaving it where it
// was (and nothing of the move in the target), and watches and refs following.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AnyProvider, Context, JsLocalState, LocalState, type MigrationResult, StateError } from '../dist/index.js';
import { RedisState } from '../dist/redis/index.js';
import { Relay } from './redis/relay.js';
import { freePort, RedisServer, redisMissing } from './redis/server.js';

/** listVariables through JSON, special floats spelled out: what "the same variables exactly" compares. */
async function listed(provider: { listVariables(): unknown }): Promise<string> {
  const list = await provider.listVariables();
  return JSON.stringify(list, (_key, value) =>
    Object.is(value, -0) ? '-0' : Number.isNaN(value) ? 'NaN' : value === Infinity ? 'Inf' : value,
  );
}

async function codeOf(call: () => unknown): Promise<string> {
  try {
    await call();
  } catch (error) {
    if (error instanceof StateError) return error.code;
    throw error;
  }
  throw new Error('expected a StateError');
}

async function seeded(): Promise<Context> {
  const ctx = await Context.create({ sessionId: 'run-1' });
  await ctx.registerVariable('temperature', 'float', 0.7, { constraints: { min: 0, max: 2 }, metadata: { owner: 'tuner' } });
  await ctx.registerVariable('max_tokens', 'integer', 256, { constraints: { min: 1 } });
  await ctx.registerVariable('instruction', 'string', 'Be brief.');
  await ctx.registerVariable('odd', 'float', -0);
  await ctx.registerVariable('nan', 'float', 'NaN');
  await ctx.setVariable('temperature', 0.9, { step: 1 });
  return ctx;
}

describe('Context moves between in-process backends', () => {
  it('starts on a LocalState with its sessionId; capabilities and requiresBridge stay synchronous', async () => {
    const ctx = await Context.create({ sessionId: 'run-1' });
    expect(ctx.backend).toBeInstanceOf(LocalState);
    expect(ctx.backend.sessionId).toBe('run-1');
    expect(ctx.capabilities()).toEqual({ atomicUpdates: true, streaming: true, persistent: false, distributed: false });
    expect(ctx.requiresBridge()).toBe(false);
    const pending = ctx.getVariable('x');
    expect(pending).toBeInstanceOf(Promise);
    expect(await codeOf(() => pending)).toBe('not_found');
  });

  it('a move keeps every variable exactly: id, name, type, value, constraints, metadata, version, timestamps', async () => {
    const ctx = await seeded();
    const before = await listed(ctx);
    const from = ctx.backend;
    const to = await JsLocalState.init({ sessionId: 'run-1' });
    const result = await ctx.migrate(to);
    expect(result).toMatchObject({ from, to, variables: 5 });
    expect(result.ms).toBeGreaterThanOrEqual(0);
    expect(ctx.backend).toBe(to);
    expect(await listed(ctx)).toBe(before);
    expect(await listed(to)).toBe(before);
    // The old backend is cleaned up once the new one is verified.
    expect(await codeOf(() => from.getVariable('temperature'))).toBe('closed');
  });

  it('ids generated after a move never collide with ids from before it, deleted ones included', async () => {
    const ctx = await seeded();
    const gone = await ctx.registerVariable('scratch', 'float', 1);
    await ctx.deleteVariable('scratch');
    await ctx.migrate(async (sessionId) => JsLocalState.init({ sessionId }));
    const again = await ctx.registerVariable('scratch', 'float', 2);
    expect(again).not.toBe(gone);
  });

  it('announces each move with a migrated event and the onMigrated callback', async () => {
    const seen: MigrationResult[] = [];
    const ctx = await Context.create({ onMigrated: (result) => seen.push(result) });
    const events: MigrationResult[] = [];
    ctx.addEventListener('migrated', (event) => events.push((event as Event & { result: MigrationResult }).result));
    await ctx.registerVariable('a', 'integer', 1);
    const result = await ctx.migrate((sessionId) => JsLocalState.init({ sessionId }));
    expect(seen).toEqual([result]);
    expect(events).toEqual([result]);
  });

  it('while a move runs, reads answer from the old backend and writes wait, then apply on the new one in order', async () => {
    const ctx = await seeded();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const target = await JsLocalState.init({ sessionId: 'run-1' });
    const move = ctx.migrate(async () => {
      await gate;
      return target;
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    // Reads keep answering, from the old backend.
    expect(await ctx.getVariable('temperature')).toBe(0.9);
    const writes = [
      ctx.setVariable('temperature', 1.0),
      ctx.updateVariables({ temperature: 1.1, max_tokens: 300 }),
      ctx.setVariable('temperature', 1.2),
    ];
    let settled = 0;
    for (const write of writes) void write.then(() => settled++);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(settled).toBe(0);
    expect(await ctx.getVariable('temperature')).toBe(0.9);
    open();
    await move;
    await Promise.all(writes);
    expect(ctx.backend).toBe(target);
    expect(await target.getVariable('temperature')).toBe(1.2);
    expect(await target.getVariable('max_tokens')).toBe(300);
    // Three writes on top of the one made before the move: applied once each.
    expect((await target.listVariables())[0]?.version).toBe(4);
  });

  it('a second move waits for the first, then decides again', async () => {
    const ctx = await Context.create();
    await ctx.registerVariable('a', 'integer', 1);
    const first = ctx.migrate((sessionId) => JsLocalState.init({ sessionId }));
    const second = ctx.migrate((sessionId) => LocalState.init({ sessionId }));
    const [a, b] = await Promise.all([first, second]);
    expect(a.to).toBeInstanceOf(JsLocalState);
    expect(b.from).toBe(a.to);
    expect(ctx.backend).toBeInstanceOf(LocalState);
    expect(await ctx.getVariable('a')).toBe(1);
  });

  it('require throws invalid_argument naming the missing upgrade, and is a no-op when the backend has the capability', async () => {
    const ctx = await seeded();
    const error = await ctx.require('distributed').catch((caught: unknown) => caught as StateError);
    expect(error).toBeInstanceOf(StateError);
    expect((error as StateError).code).toBe('invalid_argument');
    expect((error as StateError).message).toContain('upgrades.distributed');
    expect(await codeOf(() => ctx.require('fast' as 'distributed'))).toBe('invalid_argument');
    // A backend that already has the capability: nothing moves, the factory is never called.
    let called = 0;
    const shared = await Context.create({
      backend: await JsLocalState.init(),
      upgrades: {
        persistent: () => {
          called++;
          return JsLocalState.init();
        },
      },
    });
    (shared.backend as { capabilities(): object }).capabilities = () => ({
      atomicUpdates: true,
      streaming: true,
      persistent: true,
      distributed: false,
    });
    await shared.require('persistent');
    expect(called).toBe(0);
  });

  it('a failed verification leaves the Context where it was and nothing of the move in the target', async () => {
    const ctx = await seeded();
    const before = await listed(ctx);
    const from = ctx.backend;
    // A target that loses a variable on import: verification must catch it.
    const lossy = await JsLocalState.init();
    await lossy.registerVariable('own', 'string', 'kept');
    const importState = lossy.importState.bind(lossy);
    lossy.importState = (snapshot: unknown) => {
      importState(snapshot);
      lossy.deleteVariable('instruction');
    };
    expect(await codeOf(() => ctx.migrate(lossy as unknown as AnyProvider))).toBe('invalid_export');
    expect(ctx.backend).toBe(from);
    expect(await listed(ctx)).toBe(before);
    await ctx.setVariable('temperature', 1.5);
    // The target holds what it held before, and nothing more; a target passed in stays open.
    expect(lossy.listVariables().map((v) => v.name)).toEqual(['own']);
  });

  it('a target that already holds a clashing variable: already_exists, and both sides unchanged', async () => {
    const ctx = await seeded();
    const before = await listed(ctx);
    const target = await JsLocalState.init();
    target.registerVariable('temperature', 'float', 1.5);
    const held = await listed(target);
    expect(await codeOf(() => ctx.migrate(target))).toBe('already_exists');
    expect(await listed(ctx)).toBe(before);
    expect(await listed(target)).toBe(held);
    // A target made by a factory is cleaned up when the move fails.
    let made: JsLocalState | undefined;
    expect(
      await codeOf(() =>
        ctx.migrate(async () => {
          made = await JsLocalState.init();
          made.registerVariable('max_tokens', 'integer', 1);
          return made;
        }),
      ),
    ).toBe('already_exists');
    expect(await codeOf(() => made?.listVariables())).toBe('closed');
  });

  it('watches made through the Context keep delivering after a move, each change once', async () => {
    const ctx = await seeded();
    const events: string[] = [];
    await ctx.watchVariables(['temperature', 'max_tokens'], (event) =>
      events.push(`${event.kind} ${event.name} ${String(event.newValue)} v${event.version}`),
    );
    await ctx.setVariable('temperature', 1.0);
    await ctx.migrate((sessionId) => JsLocalState.init({ sessionId }));
    await ctx.setVariable('temperature', 1.1);
    await ctx.updateVariables({ max_tokens: 300 });
    await ctx.migrate((sessionId) => LocalState.init({ sessionId }));
    await ctx.deleteVariable('max_tokens');
    await ctx.setVariable('temperature', 1.2);
    expect(events).toEqual([
      'set temperature 1 v2',
      'set temperature 1.1 v3',
      'set max_tokens 300 v1',
      'delete max_tokens undefined v1',
      'set temperature 1.2 v4',
    ]);
    expect((await ctx.listWatchers()).map((w) => w.identifiers)).toEqual([['temperature']]);
  });

  it('refs follow their variable across moves; a ref to a deleted variable throws not_found', async () => {
    const ctx = await seeded();
    const t = await ctx.ref('temperature');
    expect(t.get()).toBe(0.9);
    await ctx.migrate((sessionId) => JsLocalState.init({ sessionId }));
    // A synchronous backend answers synchronously from the first call after the move, set included.
    expect(t.set(0.95)).toBeUndefined();
    expect(t.get()).toBe(0.95);
    t.set(1.3);
    expect(await ctx.getVariable('temperature')).toBe(1.3);
    expect(await t.version).toBe(3);
    await ctx.deleteVariable('temperature');
    expect(await codeOf(() => t.get())).toBe('not_found');
  });

  it('cleanup cleans up the current backend and closes the Context', async () => {
    const ctx = await seeded();
    const backend = ctx.backend;
    await ctx.cleanup();
    expect(await codeOf(() => backend.getVariable('temperature'))).toBe('closed');
    expect(await codeOf(() => ctx.getVariable('temperature'))).toBe('closed');
    expect(await codeOf(() => ctx.setVariable('temperature', 1))).toBe('closed');
  });
});

describe.skipIf(redisMissing !== undefined)(
  redisMissing === undefined ? 'Context moves to and from RedisState' : `Context moves to and from RedisState: SKIPPED, ${redisMissing}`,
  () => {
    let server: RedisServer;
    let n = 0;
    beforeAll(async () => {
      server = await RedisServer.start();
    });
    afterAll(async () => {
      await server?.stop();
    });
    const redis = (sessionId: string) => RedisState.init({ url: server.url, sessionId, keyPrefix: `moves${n++}` });

    it('require("distributed") moves to RedisState, where another client sees the same state; then it is a no-op', async () => {
      const ctx = await Context.create({ sessionId: 'grow', upgrades: { distributed: redis } });
      await ctx.registerVariable('temperature', 'float', 0.7, { constraints: { min: 0, max: 2 } });
      await ctx.setVariable('temperature', 0.8, { by: 'local' });
      const before = await listed(ctx);
      await ctx.require('distributed');
      expect(ctx.backend).toBeInstanceOf(RedisState);
      expect(ctx.capabilities().distributed).toBe(true);
      expect(await listed(ctx)).toBe(before);
      const backend = ctx.backend;
      await ctx.require('distributed');
      expect(ctx.backend).toBe(backend);
      const other = await RedisState.init({ url: server.url, sessionId: 'grow', keyPrefix: `moves${n - 1}` });
      expect(await other.getVariable('temperature')).toBe(0.8);
      await other.cleanup();
      await ctx.cleanup();
    });

    it('a write through a ref on RedisState, made just before a move, is waited for and arrives (with and without the near cache)', async () => {
      for (const nearCache of [true, false]) {
        const backend = await RedisState.init({ url: server.url, sessionId: `ref-move-${nearCache}`, keyPrefix: `moves${n++}`, nearCache });
        const ctx = await Context.create({ backend });
        await ctx.registerVariable('x', 'integer', 1);
        const ref = await ctx.ref('x');
        const write = ref.set(42);
        const moved = ctx.migrate(await JsLocalState.init({ sessionId: ctx.sessionId }));
        await Promise.all([write, moved]);
        expect(ctx.backend).toBeInstanceOf(JsLocalState);
        expect(await ctx.getVariable('x')).toBe(42);
        expect((await ctx.listVariables())[0]?.version).toBe(1);
        await ctx.cleanup();
      }
    });

    it('a move to an unreachable Redis fails with unavailable and leaves the Context unchanged and usable', async () => {
      const port = await freePort();
      const ctx = await Context.create({
        upgrades: { distributed: (sessionId) => RedisState.init({ url: `redis://127.0.0.1:${port}`, sessionId, commandTimeoutMs: 300 }) },
      });
      await ctx.registerVariable('a', 'integer', 1);
      const events: number[] = [];
      await ctx.watchVariables(['a'], (event) => events.push(event.newValue as number));
      const before = await listed(ctx);
      expect(await codeOf(() => ctx.require('distributed'))).toBe('unavailable');
      expect(await listed(ctx)).toBe(before);
      await ctx.setVariable('a', 2);
      expect(events).toEqual([2]);
      await ctx.cleanup();
    });

    it('an import that times out on a slow target but commits there is taken out once the target answers again', async () => {
      const relay = await Relay.start(server.port);
      const session = `slow-${n++}`;
      const ctx = await Context.create({ sessionId: session });
      await ctx.registerVariable('a', 'integer', 1);
      const before = await listed(ctx);
      const target = await RedisState.init({ url: relay.url, sessionId: session, commandTimeoutMs: 300 });
      // The server applies the import, but its answer (and the next ones) is held back: a slow target.
      const importState = target.importState.bind(target);
      target.importState = (snapshot: unknown) => {
        relay.hold('commands');
        return importState(snapshot);
      };
      expect(await codeOf(() => ctx.migrate(target))).toBe('unavailable');
      expect(ctx.backend).toBeInstanceOf(LocalState);
      expect(await listed(ctx)).toBe(before);
      const observer = await RedisState.init({ url: server.url, sessionId: session });
      expect(await observer.getVariables(['a'])).toEqual({ a: 1 });
      relay.release('commands');
      for (let waited = 0; (await observer.listVariables()).length > 0; waited += 50) {
        if (waited > 10_000) throw new Error('the import was not taken out of the target');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await observer.cleanup();
      await target.cleanup();
      await relay.close();
      await ctx.cleanup();
    });

    it('under a stream of writes, moves LocalState → RedisState → JsLocalState → LocalState lose nothing and repeat nothing', async () => {
      const ctx = await Context.create({ sessionId: 'load' });
      await ctx.registerVariable('a', 'integer', 0);
      await ctx.registerVariable('b', 'integer', 0);
      await ctx.registerVariable('x', 'float', 0);
      const seen: string[] = [];
      await ctx.watchVariables(['a', 'b', 'x'], (event) => seen.push(`${event.name}=${String(event.newValue)}@${event.version}`));
      const model = { a: 0, b: 0, x: 0 };
      const versions = { a: 0, b: 0, x: 0 };
      const expected: string[] = [];
      let i = 0;
      let writing = true;
      const writer = (async () => {
        while (writing || i < 300) {
          i++;
          if (i % 3 === 0) {
            model.a = i;
            model.b = -i;
            await ctx.updateVariables({ a: i, b: -i });
            expected.push(`a=${i}@${++versions.a}`, `b=${-i}@${++versions.b}`);
          } else {
            model.x = i / 2;
            await ctx.setVariable('x', i / 2);
            expected.push(`x=${i / 2}@${++versions.x}`);
          }
          if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      await ctx.migrate((sessionId) => redis(sessionId));
      await ctx.migrate((sessionId) => JsLocalState.init({ sessionId }));
      await ctx.migrate((sessionId) => LocalState.init({ sessionId }));
      writing = false;
      await writer;
      expect(await ctx.getVariables(['a', 'b', 'x'])).toEqual(model);
      const list = await ctx.listVariables();
      expect(list.map((v) => v.version)).toEqual([versions.a, versions.b, versions.x]);
      expect(seen).toEqual(expected);
      await ctx.cleanup();
    });

    it('examples/grow-to-redis.ts runs: a second process joins the session and reads what the first wrote', () => {
      const example = fileURLToPath(new URL('../examples/grow-to-redis.ts', import.meta.url));
      const run = spawnSync(process.execPath, ['--import', 'tsx', example], {
        env: { ...process.env, REDIS_URL: server.url },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.stderr).toBe('');
      expect(run.stdout).toContain('moved to RedisState');
      expect(run.stdout).toContain('the second process read exactly what this one wrote');
      expect(run.status).toBe(0);
    });
  },
);
