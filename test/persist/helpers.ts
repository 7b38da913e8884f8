// Shared by the persistence tests: temp directories, the two backends, and a
// fingerprint of everything a recovered store must reproduce exactly.

import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { JsLocalState, LocalState, type PersistOptions } from '../../dist/index.js';
import { nodeFs, type PersistFs, setPersistFs } from '../../dist/persist/fs.js';
import { canon } from '../differential/runner.js';

export type Backend = typeof LocalState | typeof JsLocalState;
export type AnyStore = LocalState | JsLocalState;

export const BACKENDS: ReadonlyArray<readonly [string, Backend]> = [
  ['LocalState', LocalState],
  ['JsLocalState', JsLocalState],
];

const root = mkdtempSync(join(tmpdir(), 'localstate-persist-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let count = 0;

/** A fresh path under this file's temp root (not created: the store creates it). */
export function freshPath(): string {
  return join(root, `store-${++count}`);
}

/** A copy of a store directory as it is on disk now: what a process killed at this moment leaves. */
export function crashCopy(path: string): string {
  const copy = freshPath();
  cpSync(path, copy, { recursive: true });
  rmSync(join(copy, 'LOCK'), { force: true });
  return copy;
}

/** Frame boundaries of a segment: the end offset of each whole frame. */
export function frameEnds(file: string): number[] {
  const bytes = readFileSync(file);
  const ends: number[] = [];
  for (let at = 32; at < bytes.length; ) {
    at += 16 + bytes.readUInt32LE(at);
    ends.push(at);
  }
  return ends;
}

/** Store files in a directory, sorted. */
export function filesOf(path: string): string[] {
  return readdirSync(path).sort();
}

export function persistOptions(path: string, extra: Partial<PersistOptions> = {}): PersistOptions {
  return { path, fsync: 'no', compaction: false, ...extra };
}

interface Internals {
  readonly registry: { mark(): readonly [number, number] };
  readonly journal: { compactNow(): Promise<void> } | undefined;
  inOrder(): unknown[];
  describe(target: unknown): { readonly order: number };
}

export function internals(store: AnyStore): Internals {
  return store as unknown as Internals;
}

/**
 * Everything a recovered store must reproduce: each variable as listed (values with NaN and -0,
 * versions, metadata, times), its registration order, the counters, the last import, the session,
 * and the next serial and order. `times: false` leaves out what depends on when writes ran.
 */
export function fingerprint(store: AnyStore, options: { times?: boolean; operations?: boolean } = {}): string {
  const times = options.times ?? true;
  const list = store.listVariables().map((v) => (times ? v : { ...v, createdAt: 0, lastUpdatedAt: 0 }));
  const exported = store.exportState();
  const { variableCount, totalOperations, totalUpdates } = store.stats();
  const inside = internals(store);
  const lastImport = exported.metadata.lastImport as Record<string, unknown> | undefined;
  return canon({
    list,
    orders: inside.inOrder().map((target) => inside.describe(target).order),
    counters: { variableCount, totalUpdates, ...(options.operations === false ? {} : { totalOperations }) },
    lastImport: lastImport === undefined ? null : times ? lastImport : { ...lastImport, at: 0 },
    session: times ? [store.sessionId, exported.metadata.createdAt] : [],
    next: inside.registry.mark(),
  });
}

/**
 * node:fs without its waits for the disk (fsync, fdatasync): for tests of what the files say, not of
 * when they reach the platter, which would spend most of their time in fsync on a shared machine.
 */
export const noSyncFs: PersistFs = {
  ...nodeFs,
  fdatasyncSync: () => undefined,
  fsyncSync: () => undefined,
  fdatasync: (_fd, callback) => setImmediate(callback, null),
  fsync: (_fd, callback) => setImmediate(callback, null),
};

/** Uses `fs` for every store this test file opens (restored after it). */
export function useFs(fs: PersistFs): void {
  beforeAll(() => setPersistFs(fs));
  afterAll(() => setPersistFs(undefined));
}
