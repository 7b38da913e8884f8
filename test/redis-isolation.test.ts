// Bad input reaches Redis only as data. A victim session B is written once;
// then other sessions are hammered with hostile names, values, metadata,
// snapshots, session ids and key prefixes. Read byte for byte (SCAN + DUMP on
// a client of the test's own), B must not change, no key may appear but the
// eight of each hostile session's own hash tag, and dropSession must leave
// exactly B behind.

import { createClient, RESP_TYPES } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JsLocalState } from '../dist/index.js';
import { type RedisInitOptions, RedisState } from '../dist/redis/index.js';
import { codeOf } from './conformance/backend.js';
import { RedisServer, redisMissing } from './redis/server.js';

/** The keys of a session (keys.ts): `{<prefix>:<session>}:<name>`, both parts percent-encoded. */
const KEY_NAMES = ['names', 'desc', 'val', 'ver', 'meta', 'ua', 'session', 'log'];
const tagOf = (keyPrefix: string, sessionId: string) => `{${encodeURIComponent(keyPrefix)}:${encodeURIComponent(sessionId)}}`;

const VICTIM = { keyPrefix: 'victim', sessionId: 'B' };
const MIB = 1 << 20;

/** Names aimed at the key layout, RESP, Lua, JSON and prototypes. */
const HOSTILE_NAMES = [
  '{',
  '}',
  '{victim:B}',
  '{victim:B}:val',
  '}:val',
  'victim:B',
  '*',
  '?',
  '[a-z]*',
  ':',
  'a:b:c',
  '\n',
  'line\r\nDEL {victim:B}:val\r\n',
  '__proto__',
  'constructor',
  'prototype',
  '"',
  '"}',
  '\\',
  '%7D',
  '%',
  'var_val_1',
  '\u0000',
  '\ud800',
  '🙂',
  'x'.repeat(MIB),
];

/** Values aimed at the same. */
const HOSTILE_VALUES = [
  '{victim:B}:val',
  'DEL {victim:B}:val',
  '*\r\n$3\r\nDEL\r\n',
  '\u0000\n\r',
  '{"__proto__":{"polluted":1}}',
  'y'.repeat(MIB),
];

const hostileMetadata = () =>
  JSON.parse('{"__proto__": {"polluted": 1}, "{victim:B}:meta": "x", "a\\nb": "\\r\\n", "constructor": {"prototype": 1}}');

/** A snapshot from the pure-JS backend holding `names`, with a session id that names the victim's tag. */
async function hostileSnapshot(names: readonly string[]): Promise<Record<string, unknown>> {
  const source = await JsLocalState.init({ sessionId: '{victim:B}' });
  for (const [i, name] of names.entries()) {
    source.registerVariable(name, 'string', HOSTILE_VALUES[i % HOSTILE_VALUES.length], { metadata: hostileMetadata() });
  }
  return JSON.parse(JSON.stringify(source.exportState()));
}

const title =
  redisMissing === undefined ? 'RedisState keeps each session to its own keys' : `RedisState isolation: SKIPPED, ${redisMissing}`;

describe.skipIf(redisMissing !== undefined)(title, () => {
  let server: RedisServer;
  let raw: ReturnType<typeof inspector>;
  let victimKeys: Map<string, string>;
  const open: RedisState[] = [];
  /** The hash tags of every hostile session the current test opened. */
  const tags = new Set<string>();

  function inspector(url: string) {
    // Keys and DUMPs as bytes: nothing the test reads is decoded as UTF-8 on the way.
    return createClient({ url, RESP: 2 }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  }

  /** Every key in the database (as latin1, byte for byte) → its DUMP (base64). */
  async function everyKey(): Promise<Map<string, string>> {
    const keys = new Map<string, string>();
    let cursor = '0';
    for (let round = 0; round < 10_000; round++) {
      const [next, batch] = (await raw.sendCommand(['SCAN', cursor, 'COUNT', '1000'])) as [Buffer, Buffer[]];
      for (const key of batch) keys.set(key.toString('latin1'), ((await raw.sendCommand(['DUMP', key])) as Buffer).toString('base64'));
      cursor = next.toString();
      if (cursor === '0') return keys;
    }
    throw new Error('SCAN did not finish');
  }

  async function session(options: Omit<RedisInitOptions, 'url'>): Promise<RedisState> {
    tags.add(tagOf(options.keyPrefix ?? 'localstate', options.sessionId ?? ''));
    const state = await RedisState.init({ url: server.url, ...options });
    open.push(state);
    return state;
  }

  /** B is byte-identical, and every other key is one of the eight of a hostile session's own tag. */
  async function expectContained(): Promise<void> {
    const now = await everyKey();
    for (const [key, dump] of victimKeys) expect(now.get(key), `victim key ${key}`).toBe(dump);
    const allowed = new Set([...tags].flatMap((tag) => KEY_NAMES.map((name) => Buffer.from(`${tag}:${name}`).toString('latin1'))));
    expect([...now.keys()].filter((key) => !victimKeys.has(key) && !allowed.has(key))).toEqual([]);
  }

  beforeAll(async () => {
    server = await RedisServer.start();
    raw = inspector(server.url);
    await raw.connect();
    const victim = await RedisState.init({ url: server.url, ...VICTIM });
    await victim.registerVariable('val', 'string', 'victim value', { metadata: { owner: 'B' } });
    await victim.registerVariable('names', 'integer', 1);
    await victim.registerVariable('{victim:B}:val', 'float', 0.5);
    await victim.updateVariables({ val: 'changed once', names: 2 });
    await victim.cleanup();
    victimKeys = await everyKey();
    expect([...victimKeys.keys()].sort()).toEqual(KEY_NAMES.map((name) => `{victim:B}:${name}`).sort());
  });
  afterEach(async () => {
    await dropAll();
  });
  afterAll(async () => {
    raw?.destroy();
    await server?.stop();
  });

  /** Closes every client and drops every hostile session the test opened (again, for those already closed). */
  async function dropAll(): Promise<void> {
    await Promise.all(open.splice(0).map((state) => state.cleanup()));
    for (const tag of tags) {
      const [keyPrefix, sessionId] = tag
        .slice(1, -1)
        .split(':')
        .map((part) => decodeURIComponent(part));
      await (await RedisState.init({ url: server.url, keyPrefix: keyPrefix as string, sessionId: sessionId as string })).dropSession();
    }
    tags.clear();
  }

  /** After dropAll, exactly B is left, byte for byte: dropSession removed every key of each session and nothing else. */
  async function expectOnlyVictimAfterDrop(): Promise<void> {
    await dropAll();
    expect(await everyKey()).toEqual(victimKeys);
  }

  it('hostile names, values and metadata each round-trip in their own session, and touch nothing else', async () => {
    const a = await session({ keyPrefix: 'attacker', sessionId: 'A' });
    const ids = new Map<string, string>();
    for (const [i, name] of HOSTILE_NAMES.entries()) {
      ids.set(name, await a.registerVariable(name, 'string', HOSTILE_VALUES[i % HOSTILE_VALUES.length], { metadata: hostileMetadata() }));
    }
    for (const [i, name] of HOSTILE_NAMES.entries()) {
      expect(await a.getVariable(name)).toBe(HOSTILE_VALUES[i % HOSTILE_VALUES.length]);
      await a.setVariable(name, HOSTILE_VALUES[(i + 1) % HOSTILE_VALUES.length], hostileMetadata(), { ifVersion: 0 });
    }
    await a.updateVariables(
      new Map(HOSTILE_NAMES.map((name, i) => [name, HOSTILE_VALUES[(i + 2) % HOSTILE_VALUES.length]])),
      hostileMetadata(),
      {
        ifVersions: Object.fromEntries(HOSTILE_NAMES.map((name) => [name, 1])),
      },
    );
    // B's names, and patterns a key lookup would expand, name nothing here.
    for (const missing of ['val', 'names', '[a-z]', '*x', '??'])
      expect(await codeOf(() => a.getVariable(missing)), missing).toBe('not_found');
    const watch = await a.watchVariables(HOSTILE_NAMES.slice(0, 5), () => {});
    watch.unwatch();
    for (const name of ['*', '\n', '__proto__']) {
      await a.deleteVariable(name);
      await a.registerVariable(name, 'string', 'again');
    }

    const listed = await a.listVariables();
    expect(listed.map((variable) => variable.name).sort()).toEqual([...HOSTILE_NAMES].sort());
    for (const variable of listed) {
      const i = HOSTILE_NAMES.indexOf(variable.name);
      if (['*', '\n', '__proto__'].includes(variable.name)) expect(variable.value).toBe('again');
      else {
        expect(variable.id).toBe(ids.get(variable.name));
        expect(variable.value).toBe(HOSTILE_VALUES[(i + 2) % HOSTILE_VALUES.length]);
        expect(variable.version).toBe(2);
        expect(Object.keys(variable.metadata)).toEqual(['__proto__', '{victim:B}:meta', 'a\nb', 'constructor']);
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await expectContained();
    await expectOnlyVictimAfterDrop();
  }, 60_000);

  it("hostile snapshots, B's own export included, go into the importing session only; defective ones change nothing", async () => {
    const victim = await RedisState.init({ url: server.url, ...VICTIM });
    const exported = JSON.parse(JSON.stringify(await victim.exportState()));
    await victim.cleanup();

    // B's own snapshot, ids and all, becomes a copy in A; writing the copy leaves B alone.
    const copy = await session({ keyPrefix: 'attacker', sessionId: 'copy', existingState: exported });
    await copy.setVariable('val', 'written through the copy');
    await copy.updateVariables({ names: 99, '{victim:B}:val': 1.5 });
    expect(await codeOf(() => copy.importState(exported))).toBe('already_exists');

    const crafted = await hostileSnapshot(HOSTILE_NAMES);
    const imported = await session({ keyPrefix: 'attacker', sessionId: 'crafted', existingState: crafted });
    expect((await imported.listVariables()).map((variable) => variable.name)).toEqual(HOSTILE_NAMES);

    const target = await session({ keyPrefix: 'attacker', sessionId: 'target' });
    await target.registerVariable('kept', 'integer', 1);
    const before = await target.exportState();
    const [firstId] = Object.keys(crafted.variables as object);
    const variables = crafted.variables as Record<string, Record<string, unknown>>;
    const defective: unknown[] = [
      // An id that is a key of B, and a name that is one.
      { ...crafted, variables: { '{victim:B}:val': { ...variables[firstId as string], id: '{victim:B}:val' } } },
      { ...crafted, variableIndex: { '{victim:B}:val': firstId } },
      // A value of the wrong type, a megabyte long.
      { ...crafted, variables: { [firstId as string]: { ...variables[firstId as string], type: 'integer', value: '9'.repeat(MIB) } } },
      JSON.parse('{"__proto__": {"polluted": 1}}'),
      { ...crafted, formatVersion: 99 },
    ];
    for (const payload of defective) {
      expect(await codeOf(() => target.importState(payload))).toBe('invalid_export');
      expect(
        await codeOf(() => RedisState.init({ url: server.url, keyPrefix: 'attacker', sessionId: 'refused', existingState: payload })),
      ).toBe('invalid_export');
    }
    // A refused init leaves its session opened (the data stays, as after cleanup): it is one of the hostile sessions.
    tags.add(tagOf('attacker', 'refused'));
    expect(await target.exportState()).toMatchObject({ variables: before.variables, variableIndex: before.variableIndex });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await expectContained();
    await expectOnlyVictimAfterDrop();
  }, 60_000);

  it('hostile session ids and key prefixes each make a session of their own, whose dropSession removes exactly its keys', async () => {
    const hostile: Array<[keyPrefix: string, sessionId: string]> = [
      ['victim', 'B}:val'],
      ['victim', '{victim:B}'],
      ['victim', 'B:names'],
      ['victim', 'B%7D'],
      ['victim', '*'],
      ['victim', 'B\n'],
      ['victim', ' B'],
      ['victim:B', 'val'],
      // Joined without encoding, the same text as ['victim', 'B:names'], split at another colon.
      ['victim:B', 'names'],
      ['victim}', 'B'],
      ['{victim', 'B'],
      ['*', '*'],
      ['[a-z]*', '?'],
      ['__proto__', '__proto__'],
      ['victim', 's'.repeat(512)],
      ['p'.repeat(128), 'B'],
    ];
    const snapshot = await hostileSnapshot(['{victim:B}:val', '__proto__', '*']);
    for (const [keyPrefix, sessionId] of hostile) {
      const state = await session({ keyPrefix, sessionId, existingState: snapshot });
      await state.registerVariable('val', 'string', `${keyPrefix}/${sessionId}`);
      await state.updateVariables({ val: 'overwritten', '{victim:B}:val': 'x' });
    }
    // Each session sees only its own data.
    for (const [i, [keyPrefix, sessionId]] of hostile.entries()) {
      const state = open[i] as RedisState;
      expect(state.sessionId).toBe(sessionId);
      expect((await state.listVariables()).map((variable) => [variable.name, variable.version])).toEqual([
        ['{victim:B}:val', 1],
        ['__proto__', 0],
        ['*', 0],
        ['val', 1],
      ]);
      const keys = [...(await everyKey()).keys()].filter((key) => key.startsWith(tagOf(keyPrefix, sessionId)));
      expect(keys.sort()).toEqual(KEY_NAMES.map((name) => `${tagOf(keyPrefix, sessionId)}:${name}`).sort());
    }
    // Session ids and prefixes that are not well-formed strings are refused before anything reaches Redis.
    for (const bad of [{ sessionId: '\ud800' }, { keyPrefix: '\udc00x' }, { sessionId: '' }, { keyPrefix: 'p'.repeat(129) }]) {
      expect(await codeOf(() => RedisState.init({ url: server.url, ...bad }))).toBe('invalid_argument');
    }
    await expectContained();
    await expectOnlyVictimAfterDrop();
  }, 60_000);
});
