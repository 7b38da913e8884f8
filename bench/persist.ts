// Persistence (issue 12): what journaling costs a write, how many bytes it
// takes, how fast a journal is recovered, and how long compaction stalls the
// event loop. The stores write to directories under the OS temp directory,
// removed when the process exits.
//   npm run bench -- --only=persist            full sizes (10M writes to recover, 1M variables to compact)
//   npm run bench -- --only=persist --quick    smaller sizes, same code

import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsLocalState, LocalState, type PersistOptions } from '../dist/index.js';
import { assertEqual, type Case, type CaseResult, formatNs, judge } from './harness.js';
import { nameOf } from './stores.js';

const root = mkdtempSync(join(tmpdir(), 'localstate-bench-persist-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `store-${++dirs}`);

type Backend = typeof LocalState | typeof JsLocalState;

/**
 * Runs every contender's operation before any is timed. A store with and one without persist share the
 * store's code, and V8 optimizes it for what it has seen: the first contender timed would otherwise run
 * on code that has never met a journal (measured: 24 ns then, 32-34 ns once the persisted store has run).
 */
function warm<C extends Case>(c: C): C {
  for (let round = 0; round < 3; round++) for (const contender of c.contenders) for (let i = 0; i < 50_000; i++) contender.fn();
  return c;
}
type AnyStore = LocalState | JsLocalState;

/** The internal hook that starts a compaction at once (see src/persist/journal.ts). */
interface Compactable {
  readonly journal: { compactNow(): Promise<void> };
}

const valueFor = (i: number): number => (i & 1023) / 512;

async function floats(Backend: Backend, n: number, persist?: PersistOptions): Promise<{ store: AnyStore; names: string[] }> {
  const store = await Backend.init({
    ...(persist === undefined ? {} : { persist }),
    ...(Backend === LocalState ? { initialCapacity: n } : {}),
  });
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    store.registerVariable(nameOf(i), 'float', (i % 1000) / 1000, { constraints: { min: 0, max: 2 } });
    names.push(nameOf(i));
  }
  return { store, names };
}

const everysec = (): PersistOptions => ({ path: freshDir(), fsync: 'everysec', compaction: false });

/** The four stores of a write case: each backend without persist and with fsync 'everysec'. */
async function pairs(n: number) {
  return {
    wasm: await floats(LocalState, n),
    wasmPersist: await floats(LocalState, n, everysec()),
    js: await floats(JsLocalState, n),
    jsPersist: await floats(JsLocalState, n, everysec()),
  };
}

const LABELS = {
  wasm: 'wasm, no persist',
  wasmPersist: 'wasm, everysec',
  js: 'pure-JS, no persist',
  jsPersist: 'pure-JS, everysec',
} as const;

export async function persistSetByNameCase(): Promise<Case> {
  const stores = await pairs(64);
  const counters = { wasm: 0, wasmPersist: 0, js: 0, jsPersist: 0 };
  const contender = (key: keyof typeof LABELS) => {
    const { store, names } = stores[key];
    return {
      label: LABELS[key],
      fn: () => {
        const i = ++counters[key];
        store.setVariable(names[i & 63] as string, valueFor(i));
      },
      check: () => {
        const before = store.ref(names[5] as string).version;
        store.setVariable(names[5] as string, 1.25);
        assertEqual(store.getVariable(names[5] as string), 1.25, `${key} set`);
        assertEqual(store.ref(names[5] as string).version, before + 1, `${key} version`);
      },
    };
  };
  return warm({
    id: 'persist-set-by-name',
    title: 'setVariable by name, with and without persist (fsync everysec)',
    contenders: [contender('wasm'), contender('wasmPersist'), contender('js'), contender('jsPersist')],
    targets: [
      { subject: LABELS.wasmPersist, baseline: LABELS.wasm, max: 1.5, tie: 0.05 },
      { subject: LABELS.jsPersist, baseline: LABELS.js, max: 1.5, tie: 0.05 },
    ],
  });
}

export async function persistSetByRefCase(): Promise<Case> {
  const stores = await pairs(64);
  const counters = { wasm: 0, wasmPersist: 0, js: 0, jsPersist: 0 };
  const contender = (key: keyof typeof LABELS) => {
    const { store, names } = stores[key];
    const refs = names.map((name) => store.ref<number>(name));
    return {
      label: LABELS[key],
      fn: () => {
        const i = ++counters[key];
        (refs[i & 63] as { set(v: number): void }).set(valueFor(i));
      },
      check: () => {
        const ref = refs[3] as { set(v: number): void; get(): number; version: number };
        const before = ref.version;
        ref.set(0.75);
        assertEqual(ref.get(), 0.75, `${key} ref set`);
        assertEqual(ref.version, before + 1, `${key} ref version`);
      },
    };
  };
  return warm({
    id: 'persist-set-by-ref',
    title: 'set through a ref, with and without persist (fsync everysec)',
    contenders: [contender('wasm'), contender('wasmPersist'), contender('js'), contender('jsPersist')],
    targets: [
      { subject: LABELS.wasmPersist, baseline: LABELS.wasm, max: 1.5, tie: 0.05 },
      { subject: LABELS.jsPersist, baseline: LABELS.js, max: 1.5, tie: 0.05 },
    ],
  });
}

export async function persistUpdateCase(): Promise<Case> {
  const BATCH = 100;
  const stores = await pairs(1000);
  const batch = stores.wasm.names.slice(0, BATCH);
  const updates = [0.25, 1.75].map((base) => Object.fromEntries(batch.map((name, i) => [name, base + i / 1000])));
  const flips = { wasm: 0, wasmPersist: 0, js: 0, jsPersist: 0 };
  const contender = (key: keyof typeof LABELS) => {
    const { store } = stores[key];
    return {
      label: LABELS[key],
      fn: () => store.updateVariables(updates[(flips[key] ^= 1)] as Record<string, number>),
      check: () => {
        const before = store.ref(batch[0] as string).version;
        store.updateVariables(updates[1] as Record<string, number>);
        assertEqual(store.getVariables(batch), updates[1], `${key} batch applied`);
        assertEqual(store.ref(batch[0] as string).version, before + 1, `${key} version`);
      },
    };
  };
  return warm({
    id: 'persist-update-100',
    title: 'updateVariables of 100, with and without persist (fsync everysec)',
    perItem: BATCH,
    contenders: [contender('wasm'), contender('wasmPersist'), contender('js'), contender('jsPersist')],
    targets: [
      { subject: LABELS.wasmPersist, baseline: LABELS.wasm, max: 1.3, tie: 0.05 },
      { subject: LABELS.jsPersist, baseline: LABELS.js, max: 1.3, tie: 0.05 },
    ],
  });
}

function journalBytes(dir: string): number {
  let bytes = 0;
  for (const file of readdirSync(dir)) if (file.endsWith('.lsj')) bytes += statSync(join(dir, file)).size;
  return bytes;
}

/** Bytes the journal grows by per numeric write, frame headers and clock readings included, by name and through refs. */
export async function persistBytesCase(writes = 1_000_000): Promise<CaseResult> {
  const medians: Record<string, number> = {};
  for (const [label, byRef] of [
    ['setVariable by name', false],
    ['ref.set', true],
  ] as const) {
    const persist = everysec();
    const { store, names } = await floats(LocalState, 1000, persist);
    await store.flush();
    const before = journalBytes(persist.path);
    const refs = names.map((name) => store.ref<number>(name));
    // Stretches of 10,000 writes, as a loop that awaits now and then would make.
    for (let done = 0; done < writes; ) {
      for (const end = Math.min(writes, done + 10_000); done < end; done++) {
        if (byRef) (refs[done % 1000] as { set(v: number): void }).set(valueFor(done));
        else store.setVariable(names[done % 1000] as string, valueFor(done));
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    await store.flush();
    medians[label] = (journalBytes(persist.path) - before) / writes;
    store.cleanup();
  }
  return {
    id: 'persist-bytes',
    title: `journal bytes per numeric write (${writes.toLocaleString('en-US')} writes in stretches of 10,000; aim ≤ 24 B)`,
    medians,
    p99: {},
    ratios: [],
    unit: 'bytes',
    note: `report: ${Object.entries(medians)
      .map(([label, bytes]) => `${label} ${bytes.toFixed(2)} B`)
      .join(', ')}; a SET record is 13 B, clock readings and frame headers add the rest`,
  };
}

/** Recovery of a journal of `writes` numeric writes over `variables` variables: init time, as ns per write and writes/s. */
export async function persistRecoveryCase(writes = 10_000_000, variables = 100_000): Promise<CaseResult> {
  const medians: Record<string, number> = {};
  const notes: string[] = [];
  for (const [label, Backend] of [
    ['wasm LocalState', LocalState],
    ['pure-JS JsLocalState', JsLocalState],
  ] as const) {
    const persist: PersistOptions = { path: freshDir(), fsync: 'no', compaction: false };
    const { store, names } = await floats(Backend, variables, persist);
    for (let done = 0; done < writes; ) {
      for (const end = Math.min(writes, done + 100_000); done < end; done++)
        store.setVariable(names[done % variables] as string, valueFor(done));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const expected = store.getVariable(names[(writes - 1) % variables] as string);
    store.cleanup();
    const started = performance.now();
    const recovered = await Backend.init({ persist });
    const ms = performance.now() - started;
    assertEqual(recovered.getVariable(names[(writes - 1) % variables] as string), expected, `${label} recovered value`);
    assertEqual(recovered.stats().totalUpdates, writes, `${label} recovered writes`);
    recovered.cleanup();
    medians[label] = (ms * 1e6) / (writes + variables);
    notes.push(`${label}: ${((writes + variables) / (ms / 1000) / 1e6).toFixed(2)} M records/s (${(ms / 1000).toFixed(2)} s)`);
  }
  return {
    id: 'persist-recovery',
    title: `recovery of a journal of ${writes.toLocaleString('en-US')} writes over ${variables.toLocaleString('en-US')} variables (per record)`,
    medians,
    p99: {},
    ratios: [],
    note: `report: ${notes.join('; ')}`,
  };
}

/**
 * The longest event-loop stall while a compaction of `variables` variables runs, with writes going on
 * in stretches of 1,000 per tick: the gap between ticks, against the same loop without a compaction.
 */
export async function persistCompactionStallCase(variables = 1_000_000): Promise<CaseResult> {
  // Compaction on, but only when asked: the case starts it itself.
  const persist: PersistOptions = { path: freshDir(), fsync: 'everysec', compaction: { minBytes: 2 ** 52 } };
  const { store, names } = await floats(LocalState, variables, persist);
  await store.flush();
  const loop = async (until: () => boolean, minMs: number) => {
    let longest = 0;
    let ticks = 0;
    let last = performance.now();
    const started = last;
    while (!until() || performance.now() - started < minMs) {
      for (let i = 0; i < 1000; i++) store.setVariable(names[(ticks * 1000 + i) % variables] as string, valueFor(i));
      await new Promise((resolve) => setImmediate(resolve));
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
      ticks++;
    }
    return { longest, ms: performance.now() - started };
  };
  const baseline = await loop(() => true, 2000);
  let finished = false;
  const started = performance.now();
  const compaction = (store as unknown as Compactable).journal.compactNow().finally(() => {
    finished = true;
  });
  // What the event loop itself spends to start it (a new segment, a worker): the rest runs in the worker.
  const startMs = performance.now() - started;
  const during = await loop(() => finished, 0);
  await compaction;
  const compactionMs = performance.now() - started;
  const info = store.persistence();
  assertEqual(info?.compactions, 1, 'one compaction');
  assertEqual(info?.lastCompaction?.variables, variables, 'every variable in the snapshot');
  store.cleanup();
  const target = { subject: 'during compaction', baseline: 'target 10 ms', max: 1 };
  const medians = { 'during compaction': during.longest * 1e6, 'without compaction': baseline.longest * 1e6, 'target 10 ms': 10e6 };
  return {
    id: 'persist-compaction-stall',
    title: `longest event-loop stall while ${variables.toLocaleString('en-US')} variables are compacted (writes go on, 1,000 per tick)`,
    medians,
    p99: {},
    ratios: [judge(target, medians['during compaction'] / medians['target 10 ms'])],
    note:
      `compaction took ${formatNs(compactionMs * 1e6)} in its worker (snapshot ${((info?.lastCompaction?.snapshotBytes ?? 0) / 2 ** 20).toFixed(1)} MiB); ` +
      `starting it took ${formatNs(startMs * 1e6)} of the event loop; a stall also counts time the OS gave other threads`,
  };
}
