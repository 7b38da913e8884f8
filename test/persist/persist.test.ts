// The persistence contract, run against both backends: a store with
// `persist` recovers exactly what it held, journals every kind of write,
// hands its journal to the OS at the end of each synchronous stretch, and
// refuses what it must (a second holder, existingState on an existing store).

import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { JsLocalState, LocalState, StateError } from '../../dist/index.js';
import { nodeFs, setPersistFs } from '../../dist/persist/fs.js';
import { FLUSH_RECORDS } from '../../dist/persist/journal.js';
import { codeOf } from '../conformance/backend.js';
import { type AnyStore, BACKENDS, crashCopy, fingerprint, freshPath, internals, persistOptions } from './helpers.js';

/** A store with one variable of every type, special floats, metadata, a delete and a re-registration. */
function populate(store: AnyStore): void {
  store.registerVariable('temperature', 'float', 0.7, { constraints: { min: 0, max: 2 }, description: 'sampling' });
  store.registerVariable('top_k', 'integer', 40, { constraints: { min: -5 } });
  store.registerVariable('use_cot', 'boolean', false);
  store.registerVariable('instruction', 'string', 'Answer.', { constraints: { maxLength: 50, pattern: '^[A-Z]' } });
  store.registerVariable('strategy', 'choice', 'a', { constraints: { choices: ['a', 'b'] } });
  store.registerVariable('module', 'module', 'Predict', { constraints: { allowedModules: ['Predict', 'ReAct'] } });
  store.registerVariable('embedding', 'embedding', [1, -0, 5e-324], { constraints: { dimensions: 3 } });
  store.registerVariable('tensor', 'tensor', { shape: [2, 1], data: [[-0], [2]] });
  store.registerVariable('nan', 'float', Number.NaN);
  store.registerVariable('__proto__', 'float', Number.NEGATIVE_INFINITY, { metadata: { __proto__: 1, '': [1, { a: null }] } });
  store.registerVariable('\ud800 lone', 'string', 'x\udfff');
  store.setVariable('temperature', -0, { step: 1 });
  store.ref('temperature').set(Number.POSITIVE_INFINITY);
  store.ref('top_k').set(-0);
  store.ref('use_cot').set(1, { by: 'ref' });
  store.setVariable('instruction', 'Be brief.', { reason: 'test' });
  store.updateVariables({ temperature: 1.5, var_temperature_1: 0.25, instruction: 'Think.', embedding: [0, 0, -0] }, { batch: true });
  store.deleteVariable('strategy');
  store.registerVariable('strategy', 'choice', 'b', { constraints: { choices: ['a', 'b'] } });
  store.getVariable('temperature'); // a read: counted by totalOperations
  store.setVariable('nan', 'NaN');
}

describe.each(BACKENDS)('persistence on %s', (_label, Backend) => {
  it('creates the directory on first use and recovers everything after cleanup, exactly', async () => {
    const path = freshPath();
    const first = await Backend.init({ sessionId: 'run-1', persist: persistOptions(path) });
    expect(existsSync(join(path, 'MANIFEST'))).toBe(true);
    expect(first.capabilities().persistent).toBe(true);
    populate(first);
    const before = fingerprint(first);
    first.cleanup();
    const second = await Backend.init({ persist: persistOptions(path) });
    expect(fingerprint(second)).toBe(before);
    expect(second.sessionId).toBe('run-1');
    // And it goes on from there: the next id is new, the journal keeps growing.
    const id = second.registerVariable('later', 'integer', 1);
    expect(id).toBe('var_later_13');
    second.cleanup();
    const third = await Backend.init({ persist: persistOptions(path) });
    expect(third.getVariable(id)).toBe(1);
    third.cleanup();
  });

  it('reports persistent: false without persist', async () => {
    expect((await Backend.init()).capabilities().persistent).toBe(false);
    expect((await Backend.init()).persistence()).toBeUndefined();
  });

  it('never generates an id twice, also across a recovery: deleted ids and imported serials stay used', async () => {
    const path = freshPath();
    const store = await Backend.init({ persist: persistOptions(path) });
    expect(store.registerVariable('a', 'float', 1)).toBe('var_a_1');
    store.deleteVariable('a');
    const source = await JsLocalState.init({ sessionId: 'elsewhere' });
    source.importState({
      format: 'localstate',
      formatVersion: 1,
      sessionId: 'elsewhere',
      variables: {
        var_b_40: {
          id: 'var_b_40',
          name: 'b',
          type: 'float',
          value: 'NaN',
          constraints: {},
          metadata: {},
          version: 7,
          createdAt: 1,
          lastUpdatedAt: 2,
        },
      },
      variableIndex: { b: 'var_b_40' },
    });
    store.importState(source.exportState());
    store.cleanup();
    const reopened = await Backend.init({ persist: persistOptions(path) });
    expect(reopened.getVariable('b')).toBeNaN();
    expect(reopened.exportState().metadata.lastImport).toMatchObject({ sessionId: 'elsewhere', variables: 1 });
    expect(reopened.registerVariable('a', 'float', 2)).toBe('var_a_41');
    expect(await codeOf(() => reopened.getVariable('var_a_1'))).toBe('not_found');
    reopened.cleanup();
  });

  it("an import's nextSerial (ids its exporter generated and deleted) stays used across a recovery from the journal", async () => {
    const path = freshPath();
    const store = await Backend.init({ persist: persistOptions(path) });
    const exporter = await JsLocalState.init({ sessionId: 'elsewhere' });
    exporter.registerVariable('kept', 'float', 1);
    for (let i = 0; i < 30; i++) exporter.deleteVariable(exporter.registerVariable(`gone${i}`, 'float', 0));
    const snapshot = exporter.exportState();
    expect(snapshot.nextSerial).toBe(32);
    store.importState(snapshot);
    await store.flush();
    // Killed, not closed: what reopens comes from the journal alone.
    const copy = crashCopy(path);
    store.cleanup();
    const reopened = await Backend.init({ persist: persistOptions(copy) });
    expect(reopened.registerVariable('gone3', 'float', 2)).toBe('var_gone3_32');
    reopened.cleanup();
  });

  it('hands the journal to the OS at the end of each synchronous stretch: a process killed after it loses nothing', async () => {
    for (const fsync of ['everysec', 'no'] as const) {
      const path = freshPath();
      const store = await Backend.init({ persist: persistOptions(path, { fsync }) });
      store.registerVariable('x', 'float', 0);
      for (let i = 1; i <= 10; i++) store.setVariable('x', i);
      const expected = fingerprint(store, { operations: false });
      await Promise.resolve(); // the stretch ends: its microtask hands the frame off
      const killed = await Backend.init({ persist: persistOptions(crashCopy(path)) });
      expect(fingerprint(killed, { operations: false })).toBe(expected);
      killed.cleanup();
      store.cleanup();
    }
  });

  it("with fsync 'always', every write is in the files when its call returns", async () => {
    const path = freshPath();
    const store = await Backend.init({ persist: persistOptions(path, { fsync: 'always' }) });
    store.registerVariable('x', 'float', 0);
    store.setVariable('x', 1);
    store.ref('x').set(2);
    const expected = fingerprint(store, { operations: false });
    const killed = await Backend.init({ persist: persistOptions(crashCopy(path)) }); // no await in between
    expect(fingerprint(killed, { operations: false })).toBe(expected);
    killed.cleanup();
    store.cleanup();
  });

  it(`within one long synchronous stretch, fewer than ${FLUSH_RECORDS} records wait: the rest is already in the files`, async () => {
    const path = freshPath();
    const store = await Backend.init({ persist: persistOptions(path, { fsync: 'everysec' }) });
    store.registerVariable('x', 'integer', 0);
    let copy = '';
    const at = Math.floor(2.7 * FLUSH_RECORDS);
    for (let i = 1; i <= 3 * FLUSH_RECORDS; i++) {
      store.setVariable('x', i);
      if (i === at) copy = crashCopy(path); // inside the stretch: nothing has awaited
    }
    const killed = await Backend.init({ persist: persistOptions(copy) });
    const recovered = killed.getVariable('x') as number;
    expect(recovered).toBeGreaterThan(at - FLUSH_RECORDS);
    expect(recovered).toBeLessThanOrEqual(at);
    killed.cleanup();
    store.cleanup();
  });

  it("with 'everysec', a synchronous stretch longer than a second starts an fdatasync itself (the timer cannot run)", async () => {
    let syncs = 0;
    setPersistFs({
      ...nodeFs,
      fdatasync: (fd, callback) => {
        syncs++;
        nodeFs.fdatasync(fd, callback);
      },
    });
    try {
      const store = await Backend.init({ persist: persistOptions(freshPath(), { fsync: 'everysec' }) });
      store.registerVariable('x', 'integer', 0);
      const started = performance.now();
      let during = 0;
      for (let i = 1; performance.now() - started < 1200; i++) {
        store.setVariable('x', i);
        if (i % 1000 === 0) during = syncs; // read inside the stretch: no callback has run, nothing awaited
      }
      expect(during).toBeGreaterThanOrEqual(1);
      await store.flush();
      store.cleanup();
    } finally {
      setPersistFs(undefined);
    }
  });

  it('flush() resolves once everything written so far is on disk; cleanup() flushes and closes', async () => {
    const path = freshPath();
    const store = await Backend.init({ persist: persistOptions(path, { fsync: 'no' }) });
    store.registerVariable('x', 'float', 1);
    await store.flush();
    expect(store.persistence()?.syncs).toBeGreaterThanOrEqual(1);
    store.setVariable('x', 2);
    store.cleanup();
    expect(await codeOf(() => store.setVariable('x', 3))).toBe('closed');
    await expect(store.flush()).rejects.toMatchObject({ code: 'closed' });
    expect(existsSync(join(path, 'LOCK'))).toBe(false);
    const reopened = await Backend.init({ persist: persistOptions(path) });
    expect(reopened.getVariable('x')).toBe(2);
    reopened.cleanup();
  });

  it('a second store on an open path gets locked, naming the holder; after cleanup the path opens', async () => {
    const path = freshPath();
    const holder = await Backend.init({ persist: persistOptions(path) });
    const error = (await Backend.init({ persist: persistOptions(path) }).catch((e: unknown) => e)) as StateError;
    expect(error).toBeInstanceOf(StateError);
    expect(error.code).toBe('locked');
    expect(error.pid).toBe(process.pid);
    expect(error.message).toContain(String(process.pid));
    holder.cleanup();
    (await Backend.init({ persist: persistOptions(path) })).cleanup();
  });

  it('existingState with an existing path is invalid_argument and changes nothing; with a new path it is imported and kept', async () => {
    const source = await Backend.init({ sessionId: 'source' });
    populate(source);
    const snapshot = JSON.parse(JSON.stringify(source.exportState()));
    const path = freshPath();
    const created = await Backend.init({ persist: persistOptions(path), existingState: snapshot });
    const expected = fingerprint(created);
    created.cleanup();
    const files = readdirSync(path).sort();
    expect(await codeOf(() => Backend.init({ persist: persistOptions(path), existingState: snapshot }))).toBe('invalid_argument');
    expect(readdirSync(path).sort()).toEqual(files);
    const reopened = await Backend.init({ persist: persistOptions(path) });
    expect(fingerprint(reopened)).toBe(expected);
    reopened.cleanup();
  });

  it('a malformed existingState on a new path is invalid_export and leaves no store behind', async () => {
    const path = freshPath();
    expect(await codeOf(() => Backend.init({ persist: persistOptions(path), existingState: { format: 'nope' } }))).toBe('invalid_export');
    expect(existsSync(join(path, 'MANIFEST'))).toBe(false);
    (await Backend.init({ persist: persistOptions(path) })).cleanup(); // the lock was released
  });

  it('keeps its session id; a different sessionId for an existing path is invalid_argument', async () => {
    const path = freshPath();
    (await Backend.init({ sessionId: 'mine', persist: persistOptions(path) })).cleanup();
    expect(await codeOf(() => Backend.init({ sessionId: 'other', persist: persistOptions(path) }))).toBe('invalid_argument');
    const same = await Backend.init({ sessionId: 'mine', persist: persistOptions(path) });
    expect(same.sessionId).toBe('mine');
    same.cleanup();
  });

  it('refuses malformed persist options with invalid_argument', async () => {
    for (const persist of [
      {},
      { path: '' },
      { path: freshPath(), fsync: 'sometimes' },
      { path: freshPath(), repair: 'yes' },
      { path: freshPath(), compaction: { ratio: 0 } },
      { path: freshPath(), compaction: { minBytes: -1 } },
      { path: freshPath(), bogus: 1 },
    ]) {
      expect(await codeOf(() => Backend.init({ persist } as never))).toBe('invalid_argument');
    }
  });

  it('compaction writes a snapshot, drops the old segments, and the state reopens the same', async () => {
    const path = freshPath();
    const store = await Backend.init({ persist: persistOptions(path, { compaction: { minBytes: 0 } }) });
    populate(store);
    await internals(store).journal?.compactNow();
    let info = store.persistence();
    expect(info?.compactions).toBe(1);
    expect(info?.snapshotBytes).toBeGreaterThan(0);
    expect(readdirSync(path).filter((f) => f.startsWith('journal-'))).toEqual(['journal-00000002.lsj']);
    expect(readdirSync(path).filter((f) => f.startsWith('snapshot-'))).toEqual(['snapshot-00000002.lss']);
    store.setVariable('temperature', 1.75);
    store.deleteVariable('top_k');
    await internals(store).journal?.compactNow();
    store.registerVariable('after', 'string', 'second compaction');
    info = store.persistence();
    expect(info?.compactions).toBe(2);
    const expected = fingerprint(store);
    store.cleanup();
    expect(readdirSync(path).filter((f) => f.endsWith('.lss') || f.endsWith('.lsj'))).toEqual([
      'journal-00000003.lsj',
      'snapshot-00000003.lss',
    ]);
    const reopened = await Backend.init({ persist: persistOptions(path) });
    expect(fingerprint(reopened)).toBe(expected);
    expect(reopened.persistence()?.recovery.snapshotVariables).toBe(10); // eleven, less the one deleted before the second compaction
    reopened.cleanup();
  });

  it('compacts by itself once the journal outgrows its bound', async () => {
    const path = freshPath();
    const store = await Backend.init({ persist: persistOptions(path, { fsync: 'no', compaction: { minBytes: 4096, ratio: 2 } }) });
    store.registerVariable('x', 'float', 0);
    for (let i = 0; i < 2000; i++) {
      store.setVariable('x', i);
      if (i % 100 === 0) await Promise.resolve();
    }
    await vi.waitFor(() => expect(store.persistence()?.compactions).toBeGreaterThan(0), { timeout: 20_000 });
    const expected = fingerprint(store);
    store.cleanup();
    const reopened = await Backend.init({ persist: persistOptions(path) });
    expect(fingerprint(reopened)).toBe(expected);
    reopened.cleanup();
  });
});

describe('persistence across backends', () => {
  it('a directory one backend wrote opens in the other, with the same state', async () => {
    for (const [From, To] of [
      [LocalState, JsLocalState],
      [JsLocalState, LocalState],
    ] as const) {
      const path = freshPath();
      const writer = await From.init({ persist: persistOptions(path, { compaction: { minBytes: 0 } }) });
      populate(writer);
      await internals(writer).journal?.compactNow();
      writer.setVariable('temperature', 1.25);
      const expected = fingerprint(writer);
      writer.cleanup();
      const reader = await To.init({ persist: persistOptions(path) });
      expect(fingerprint(reader)).toBe(expected);
      reader.cleanup();
    }
  });
});

/** The niceness of each thread of this process now (field 19 of /proc/self/task/<tid>/stat), by thread id. */
function threadNiceness(): Map<number, number> {
  const niceness = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // After "pid (comm) ": state is field 3, nice field 19 (the name may hold spaces, so split after it).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      niceness.set(Number(tid), Number(fields[16]));
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return niceness;
}

describe.runIf(existsSync('/proc/thread-self'))('compaction priority (Linux)', () => {
  it('the compaction thread runs at the lowest priority while the thread that writes keeps its own', async () => {
    const path = freshPath();
    const store = await LocalState.init({ persist: persistOptions(path, { compaction: { minBytes: 2 ** 52 } }) });
    for (let i = 0; i < 100_000; i++) store.registerVariable(`x${i}`, 'float', i);
    const before = threadNiceness();
    const self = Number(readlinkSync('/proc/thread-self').split('/').pop());
    const [processPriority, selfPriority] = [getPriority(), getPriority(self)];
    let finished = false;
    const compaction = internals(store)
      .journal?.compactNow()
      .finally(() => {
        finished = true;
      });
    const seen = new Set<number>();
    while (!finished) {
      for (const [tid, nice] of threadNiceness()) if (!before.has(tid)) seen.add(nice);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await compaction;
    expect(store.persistence()?.compactions).toBe(1);
    expect(seen).toContain(19);
    // The process and the thread that writes are untouched: only the compaction yields.
    expect([getPriority(), getPriority(self)]).toEqual([processPriority, selfPriority]);
    expect(selfPriority).toBeLessThan(19);
    store.cleanup();
  });
});
