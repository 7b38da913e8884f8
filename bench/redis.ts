// RedisState on a real redis-server (started here on a free loopback port,
// persistence off, and stopped at the end), against node-redis doing the same
// round trips, two ways:
//   - the bare write on the same layout (keys.ts): HSET of the value's JSON
//     into the session's `val` hash, one field or 100. This is what a write
//     costs with no versions, checks, time or change feed;
//   - the same script RedisState sends (scripts.ts), with the same keys and
//     arguments, by EVALSHA: the same server work, so the ratio is what the
//     library adds in the client (checks, encoding, the near cache, reading
//     its own changes back from the feed).
// Targets (issue 10): a read from the near cache at least 100× faster than a
// round trip; a set, and a batch of 100, at most 1.3× the plain client's one
// round trip, against each baseline.
//
// Every call is awaited before the next (mitata does so for a function that
// returns a promise), so no contender pipelines round trips; the round-trip
// contenders are timed one call at a time (Contender.roundTrip).

import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { createClient } from 'redis';
import { RedisState } from '../dist/redis/index.js';
import { encodeKey, sessionKeys } from '../dist/redis/keys.js';
import { BATCH as BATCH_SCRIPT, SET } from '../dist/redis/scripts.js';
import { assertEqual, type Case } from './harness.js';

const BATCH = 100;
const KEY_PREFIX = 'bench';

/** Why these cases cannot run here, or undefined when they can. */
export function redisServerMissing(): string | undefined {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return probe.error === undefined && probe.status === 0 ? undefined : 'redis-server not found (apt-get install -y redis-server)';
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The plain client, set up as RedisState's own connection is: RESP2, no offline queue. */
const plainClient = (url: string) => createClient({ url, RESP: 2, disableOfflineQueue: true });
type Client = ReturnType<typeof plainClient>;

/** A redis-server of its own, answering PING; `stop()` kills it. */
async function startServer(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const url = `redis://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  for (let attempt = 0; ; attempt++) {
    const probe = createClient({ url, socket: { reconnectStrategy: false } });
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.ping();
      await probe.close();
      return { url, stop };
    } catch (error) {
      probe.destroy();
      if (attempt >= 200) {
        await stop();
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/** The session's value hash and a variable's field in it, as keys.ts lays them out. */
const valueKey = (session: string): string => `{${KEY_PREFIX}:${session}}:val`;
/** The descriptor a write sends back, as RedisState does: the script writes only if the variable still has it. */
const descriptorOf = async (plain: Client, session: string, id: string): Promise<string> =>
  (await plain.hGet(`{${KEY_PREFIX}:${session}}:desc`, JSON.stringify(id))) as string;
const fieldOf = (id: string): string => JSON.stringify(id);
/** Stream length bound RedisState passes by default (options.ts). */
const MAX_LENGTH = '100000';

/** A script as RedisState runs it: EVALSHA with every key of the session, loaded first. */
async function scriptRunner(plain: Client, source: string, session: string): Promise<(args: readonly string[]) => Promise<unknown>> {
  const sha = String(await plain.sendCommand(['SCRIPT', 'LOAD', source]));
  const keys = sessionKeys(KEY_PREFIX, session).all;
  const head = ['EVALSHA', sha, String(keys.length), ...keys];
  return (args) => plain.sendCommand([...head, ...args]);
}

export interface RedisBench {
  readonly cases: readonly Case[];
  /** Closes every client and stops the server. */
  close(): Promise<void>;
}

export async function redisCases(): Promise<RedisBench> {
  const server = await startServer();
  const states: RedisState[] = [];
  const clients: Client[] = [];
  const open = async (session: string, nearCache = true) => {
    const state = await RedisState.init({ url: server.url, keyPrefix: KEY_PREFIX, sessionId: session, nearCache });
    states.push(state);
    return state;
  };
  try {
    const plain = plainClient(server.url);
    clients.push(plain);
    await plain.connect();
    const cases = [await getCase(open, plain), await setCase(open, plain), await updateCase(open, plain)];
    return {
      cases,
      close: async () => {
        await Promise.all(states.map((state) => state.cleanup()));
        await Promise.all(clients.map((client) => client.close()));
        await server.stop();
      },
    };
  } catch (error) {
    await Promise.all(states.map((state) => state.cleanup()));
    for (const client of clients) client.destroy();
    await server.stop();
    throw error;
  }
}

type Open = (session: string, nearCache?: boolean) => Promise<RedisState>;

async function getCase(open: Open, plain: Client): Promise<Case> {
  const near = await open('get');
  const cold = await open('get', false);
  const id = await near.registerVariable('temperature', 'float', 0.7, { constraints: { min: 0, max: 2 } });
  await near.sync();
  const [key, field] = [valueKey('get'), fieldOf(id)];
  return {
    id: 'redis-get',
    title: 'RedisState getVariable: from the near cache, and on a cold cache (nearCache: false), against one HGET',
    contenders: [
      {
        label: 'RedisState near cache',
        fn: () => near.getVariable('temperature'),
        check: async () => assertEqual(await near.getVariable('temperature'), 0.7, 'near-cache read'),
      },
      {
        label: 'RedisState nearCache: false',
        fn: () => cold.getVariable('temperature'),
        check: async () => assertEqual(await cold.getVariable('temperature'), 0.7, 'cold read'),
        roundTrip: true,
      },
      {
        label: 'node-redis HGET',
        fn: async () => JSON.parse((await plain.hGet(key, field)) as string) as number,
        check: async () => assertEqual(JSON.parse((await plain.hGet(key, field)) as string), 0.7, 'HGET'),
        roundTrip: true,
      },
    ],
    targets: [{ subject: 'RedisState near cache', baseline: 'node-redis HGET', max: 0.01 }],
    note: 'A cold read is one script (resolve the name, read value, version, metadata, descriptor); HGET reads the value alone.',
  };
}

/** A value in [0, 2) that changes every call, so no write repeats the last. */
const valueFor = (i: number): number => (i & 1023) / 512;

async function setCase(open: Open, plain: Client): Promise<Case> {
  const state = await open('set');
  const reader = await open('set', false);
  const id = await state.registerVariable('temperature', 'float', 0.7, { constraints: { min: 0, max: 2 } });
  const ref = await state.ref<number>(id);
  await state.getVariable('temperature'); // cached: a set is then one script, no read first
  const [key, field] = [valueKey('set-plain'), fieldOf(id)];
  await plain.hSet(key, field, '0.7');
  // The same variable in a session of its own, written by the plain client through RedisState's script.
  const scripted = await open('set-script');
  const scriptedId = await scripted.registerVariable('temperature', 'float', 0.7, { constraints: { min: 0, max: 2 } });
  await scripted.cleanup();
  const runSet = await scriptRunner(plain, SET.source, 'set-script');
  const setDescriptor = await descriptorOf(plain, 'set-script', scriptedId);
  const setArgs = (value: number) => [
    encodeKey('temperature'),
    encodeKey(scriptedId),
    JSON.stringify(value),
    '',
    '',
    '',
    MAX_LENGTH,
    '0',
    'plain',
    setDescriptor,
  ];
  let a = 0;
  let b = 0;
  let c = 0;
  return {
    id: 'redis-set',
    title: 'RedisState setVariable (validated, versioned, fed to the change stream), against one HSET',
    contenders: [
      {
        label: 'RedisState setVariable',
        fn: () => state.setVariable('temperature', valueFor(++a)),
        check: async () => {
          const before = await ref.version;
          await state.setVariable('temperature', 1.25);
          // Read back through a client without a cache: the write reached the server.
          assertEqual(await reader.getVariable('temperature'), 1.25, 'setVariable, read from the server');
          assertEqual(await ref.version, before + 1, 'version bump');
        },
        roundTrip: true,
      },
      {
        label: 'node-redis HSET',
        fn: () => plain.hSet(key, field, JSON.stringify(valueFor(++b))),
        check: async () => {
          await plain.hSet(key, field, JSON.stringify(1.25));
          assertEqual(JSON.parse((await plain.hGet(key, field)) as string), 1.25, 'HSET, read back');
        },
        roundTrip: true,
      },
      {
        label: 'node-redis EVALSHA, same script',
        fn: () => runSet(setArgs(valueFor(++c))),
        check: async () => {
          const reply = (await runSet(setArgs(1.25))) as string[];
          assertEqual(reply[0], 'ok', 'the script committed');
          assertEqual(JSON.parse((await plain.hGet(valueKey('set-script'), encodeKey(scriptedId))) as string), 1.25, 'script, read back');
        },
        roundTrip: true,
      },
    ],
    targets: [
      { subject: 'RedisState setVariable', baseline: 'node-redis HSET', max: 1.3 },
      { subject: 'RedisState setVariable', baseline: 'node-redis EVALSHA, same script', max: 1.3 },
    ],
    note: 'setVariable: one EVALSHA that checks the version, writes value, version and time, counts, and appends to the change stream, which this client then reads and applies (its cost lands in the timed calls). HSET writes one field; the plain EVALSHA does the same server work as setVariable, without the client.',
  };
}

async function updateCase(open: Open, plain: Client): Promise<Case> {
  const state = await open('update');
  const reader = await open('update', false);
  const names = Array.from({ length: BATCH }, (_, i) => `param_${i}`);
  const ids: string[] = [];
  for (const name of names) ids.push(await state.registerVariable(name, 'float', 0.5, { constraints: { min: 0, max: 2 } }));
  await state.sync();
  await state.getVariables(names); // cached: a batch is then one script, no read first
  // Two alternating batches, so every call changes every value.
  const updates = [0.25, 1.75].map((base) => Object.fromEntries(names.map((name, i) => [name, base + i / 1000])));
  const key = valueKey('update-plain');
  const fields = [0.25, 1.75].map((base) => Object.fromEntries(ids.map((id, i) => [fieldOf(id), JSON.stringify(base + i / 1000)])));
  const firstRef = await state.ref<number>(ids[0] as string);
  // The same 100 variables in a session of their own, written by the plain client through RedisState's script.
  const scripted = await open('update-script');
  const scriptedIds: string[] = [];
  for (const name of names) scriptedIds.push(await scripted.registerVariable(name, 'float', 0.5, { constraints: { min: 0, max: 2 } }));
  await scripted.cleanup();
  const runBatch = await scriptRunner(plain, BATCH_SCRIPT.source, 'update-script');
  const descriptors = await Promise.all(scriptedIds.map((id) => descriptorOf(plain, 'update-script', id)));
  const batchArgs = [0.25, 1.75].map((base) => [
    String(BATCH),
    '0',
    '1',
    MAX_LENGTH,
    '0',
    'plain',
    JSON.stringify(
      names.flatMap((name, i) => [
        encodeKey(name),
        encodeKey(scriptedIds[i] as string),
        JSON.stringify(base + i / 1000),
        '',
        '',
        '',
        descriptors[i] as string,
      ]),
    ),
    '[]',
  ]);
  let a = 0;
  let b = 0;
  let c = 0;
  return {
    id: 'redis-update-100',
    title: 'RedisState updateVariables of 100 (atomic: all checked, then all written), against one HSET of 100 fields',
    perItem: BATCH,
    contenders: [
      {
        label: 'RedisState updateVariables',
        fn: () => state.updateVariables(updates[(a ^= 1)] as Record<string, number>),
        check: async () => {
          const before = await firstRef.version;
          await state.updateVariables(updates[1] as Record<string, number>);
          assertEqual(await reader.getVariables(names), updates[1], 'batch, read from the server');
          assertEqual(await firstRef.version, before + 1, 'version bump');
        },
        roundTrip: true,
      },
      {
        label: 'node-redis HSET 100 fields',
        fn: () => plain.hSet(key, fields[(b ^= 1)] as Record<string, string>),
        check: async () => {
          await plain.hSet(key, fields[1] as Record<string, string>);
          const read = await plain.hmGet(key, Object.keys(fields[1] as Record<string, string>));
          assertEqual(read, Object.values(fields[1] as Record<string, string>), 'HSET of 100 fields, read back');
        },
        roundTrip: true,
      },
      {
        label: 'node-redis EVALSHA, same script',
        fn: () => runBatch(batchArgs[(c ^= 1)] as string[]),
        check: async () => {
          const reply = (await runBatch(batchArgs[1] as string[])) as string[];
          assertEqual(reply[0], 'ok', 'the script committed');
          const read = await plain.hmGet(valueKey('update-script'), scriptedIds.map(encodeKey));
          assertEqual(
            read.map((text) => JSON.parse(text as string)),
            Object.values(updates[1] as Record<string, number>),
            'script, read back',
          );
        },
        roundTrip: true,
      },
    ],
    targets: [
      { subject: 'RedisState updateVariables', baseline: 'node-redis HSET 100 fields', max: 1.3 },
      { subject: 'RedisState updateVariables', baseline: 'node-redis EVALSHA, same script', max: 1.3 },
    ],
    note: 'updateVariables: one EVALSHA that checks all 100, then reads and writes value, version, time and metadata of each (one HMGET or HSET per hash) and appends one entry to the change stream (read back and applied by this client). HSET writes 100 fields; the plain EVALSHA does the same server work as updateVariables, without the client.',
  };
}
