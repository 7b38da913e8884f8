// Soak test (opt-in): millions of mixed operations on one LocalState whose
// variable count is held stable by register/delete churn. Checks that memory
// does not grow without bound: wasm linear memory and the table's capacity
// must not grow after warm-up, and the JS heap after GC must stay within a
// stated bound of its post-warm-up level. Also checks every value against a
// model at each sample, so a leak cannot hide behind a wrong answer.
//
//   npm run soak                       # 10,000,000 operations
//   SOAK_OPS=1000000 npm run soak      # shorter
//   SOAK_SEED=7 SOAK_HEAP_MIB=4 npm run soak
//   npm run soak -- --persist          # with persist (fsync everysec, compaction from 4 MiB): the files
//                                      # on disk must stay bounded through compactions too, and the
//                                      # store must reopen holding exactly the model's values
//
// Exits 1 with a message naming the check that failed.

import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LocalState, StateError, type VariableRef } from '../dist/index.js';

const OPS = Number(process.env.SOAK_OPS ?? 10_000_000);
const SEED = Number(process.env.SOAK_SEED ?? 20_240_501);
/** Allowed growth of the heap after GC over its post-warm-up level, in MiB. */
const HEAP_BOUND_MIB = Number(process.env.SOAK_HEAP_MIB ?? 8);
const SAMPLES = 20;
/** Samples that count as warm-up (not judged): the first 10% of the run. */
const WARMUP_SAMPLES = 2;

const NUMERIC = 10_000;
const STRINGS = 500;
const EMBEDDINGS = 50;
const DIMENSIONS = 8;
const SLOTS = NUMERIC + STRINGS + EMBEDDINGS;

if (!Number.isSafeInteger(OPS) || OPS < SAMPLES * 1000) {
  console.error(`soak: SOAK_OPS must be an integer of at least ${SAMPLES * 1000}, got ${process.env.SOAK_OPS}`);
  process.exit(2);
}

/** A full GC: global.gc under --expose-gc, otherwise the flag is set at run time. */
const gc: () => void =
  (globalThis as { gc?: () => void }).gc ??
  (() => {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  })();

let seed = SEED >>> 0;
/** mulberry32: deterministic, so a failing run can be repeated. */
function random(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const randomInt = (n: number) => Math.floor(random() * n);

type Kind = 'float' | 'integer' | 'boolean' | 'string' | 'embedding';
type Value = number | boolean | string | readonly number[];

const kindOf = (slot: number): Kind =>
  slot < NUMERIC ? ((['float', 'integer', 'boolean'] as const)[slot % 3] as Kind) : slot < NUMERIC + STRINGS ? 'string' : 'embedding';

const PERSIST = process.argv.includes('--persist');
/** Compaction starts once the journal reaches this: small, so a soak compacts many times. */
const COMPACT_AT = 4 * 2 ** 20;
const persistDir = PERSIST ? mkdtempSync(join(tmpdir(), 'localstate-soak-')) : undefined;
const persist =
  persistDir === undefined ? undefined : { path: persistDir, fsync: 'everysec' as const, compaction: { minBytes: COMPACT_AT } };
process.on('exit', () => {
  if (persistDir !== undefined) rmSync(persistDir, { recursive: true, force: true });
});
let state = await LocalState.init({ sessionId: 'soak', ...(persist === undefined ? {} : { persist }) });

/** Bytes of the store's files (journal segments and snapshot). */
function diskBytes(): number {
  if (persistDir === undefined) return 0;
  let bytes = 0;
  for (const file of readdirSync(persistDir)) if (/\.(lsj|lss)$/.test(file)) bytes += statSync(join(persistDir, file)).size;
  return bytes;
}

// The model: what each slot's variable is called and must hold.
const names: string[] = new Array(SLOTS);
const ids: string[] = new Array(SLOTS);
const expected: Value[] = new Array(SLOTS);
const refs: VariableRef[] = new Array(SLOTS);
const generation = new Uint32Array(SLOTS);

function valueFor(kind: Kind, n: number): Value {
  switch (kind) {
    case 'float':
      return (n % 2000) / 7 - 100;
    case 'integer':
      return (n % 1_000_001) - 500_000;
    case 'boolean':
      return n % 2 === 0;
    case 'string':
      return `text ${n % 100_000}`;
    case 'embedding':
      return Array.from({ length: DIMENSIONS }, (_, i) => ((n + i) % 1000) / 1000);
  }
}

function register(slot: number, n: number): void {
  const kind = kindOf(slot);
  const name = names[slot] as string;
  const value = valueFor(kind, n);
  const constraints =
    kind === 'float'
      ? { min: -1e6, max: 1e6 }
      : kind === 'integer'
        ? { min: -1e6, max: 1e6 }
        : kind === 'string'
          ? { maxLength: 64 }
          : kind === 'embedding'
            ? { dimensions: DIMENSIONS }
            : {};
  ids[slot] = state.registerVariable(name, kind, value, { constraints, metadata: { slot } });
  expected[slot] = Object.freeze(value);
  refs[slot] = state.ref(ids[slot] as string);
}

for (let slot = 0; slot < SLOTS; slot++) {
  names[slot] = `v${slot}`;
  register(slot, slot);
}

function same(a: unknown, b: Value): boolean {
  if (Array.isArray(b)) return Array.isArray(a) && a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
  return Object.is(a, b);
}

function fail(message: string): never {
  console.error(`\nsoak FAILED: ${message}`);
  process.exit(1);
}

let batchFailures = 0;
let rejectedSets = 0;
let churns = 0;

/** One operation on a random slot. */
function step(op: number): void {
  const r = random();
  const slot = randomInt(SLOTS);
  const kind = kindOf(slot);
  if (r < 0.35) {
    // get, by name or by id
    const got = state.getVariable(random() < 0.8 ? (names[slot] as string) : (ids[slot] as string));
    if (!same(got, expected[slot] as Value))
      fail(`getVariable(${names[slot]}) returned ${String(got)}, expected ${String(expected[slot])}`);
  } else if (r < 0.5) {
    // ref read
    const got = (refs[slot] as VariableRef).get();
    if (!same(got, expected[slot] as Value)) fail(`ref(${names[slot]}).get() returned ${String(got)}, expected ${String(expected[slot])}`);
  } else if (r < 0.7) {
    // set, sometimes with metadata (a bounded set of keys: metadata must not accumulate)
    const value = valueFor(kind, op);
    if (random() < 0.02) state.setVariable(names[slot] as string, value, { step: op % 7, by: 'soak' });
    else state.setVariable(names[slot] as string, value);
    expected[slot] = value;
  } else if (r < 0.8) {
    // ref write
    const value = valueFor(kind, op);
    (refs[slot] as VariableRef).set(value);
    expected[slot] = value;
  } else if (r < 0.86) {
    // an atomic batch of four
    const updates = new Map<string, Value>();
    for (let i = 0; i < 4; i++) {
      const s = randomInt(SLOTS);
      updates.set(names[s] as string, valueFor(kindOf(s), op + i));
    }
    state.updateVariables(updates);
    for (const [name, value] of updates) expected[Number(name.slice(1).split('_')[0])] = value;
  } else if (r < 0.87) {
    // a batch that fails as a whole: nothing may change
    const other = randomInt(NUMERIC);
    try {
      state.updateVariables({
        [names[other] as string]: valueFor(kindOf(other), op),
        [names[slot] as string]: kind === 'string' ? 5 : 'bad',
      });
      fail('a batch with an invalid item succeeded');
    } catch (error) {
      if (!(error instanceof StateError) || error.code !== 'batch_failed') throw error;
      batchFailures++;
    }
  } else if (r < 0.88) {
    // a refused set
    try {
      state.setVariable(names[slot] as string, kind === 'float' || kind === 'integer' ? 1e7 : kind === 'string' ? 'x'.repeat(65) : 'bad');
      fail(`an invalid set of ${names[slot]} succeeded`);
    } catch (error) {
      if (!(error instanceof StateError)) throw error;
      rejectedSets++;
    }
  } else if (r < 0.9) {
    // a multi-get
    const picks = [names[slot] as string, names[randomInt(SLOTS)] as string, 'missing'];
    const got = state.getVariables(picks);
    if (!same(got[picks[0] as string], expected[slot] as Value)) fail(`getVariables(${picks[0]}) disagrees with the model`);
  } else {
    // churn: delete the variable and register a replacement, half the time under a new name
    state.deleteVariable(random() < 0.5 ? (names[slot] as string) : (ids[slot] as string));
    const gen = (generation[slot] as number) + 1;
    generation[slot] = gen;
    if (random() < 0.5) names[slot] = `v${slot}_${gen}`;
    register(slot, op);
    churns++;
  }
}

interface Sample {
  diskMiB: number;
  compactions: number;
  ops: number;
  seconds: number;
  heapMiB: number;
  rssMiB: number;
  externalMiB: number;
  wasmKiB: number;
  capacity: number;
  rehashes: number;
  variables: number;
}

function sample(ops: number, seconds: number): Sample {
  // Check the whole model first: every slot holds what it should.
  for (let slot = 0; slot < SLOTS; slot++) {
    const got = state.getVariable(names[slot] as string);
    if (!same(got, expected[slot] as Value))
      fail(`after ${ops} operations ${names[slot]} holds ${String(got)}, expected ${String(expected[slot])}`);
  }
  const stats = state.stats();
  if (stats.variableCount !== SLOTS) fail(`variableCount is ${stats.variableCount}, expected ${SLOTS}`);
  if (stats.tableEntries !== NUMERIC) fail(`tableEntries is ${stats.tableEntries}, expected ${NUMERIC}`);
  for (let i = 0; i < 3; i++) gc();
  const memory = process.memoryUsage();
  const mib = (bytes: number) => bytes / 2 ** 20;
  return {
    diskMiB: diskBytes() / 2 ** 20,
    compactions: state.persistence()?.compactions ?? 0,
    ops,
    seconds,
    heapMiB: mib(memory.heapUsed),
    rssMiB: mib(memory.rss),
    externalMiB: mib(memory.external),
    wasmKiB: stats.wasmMemoryBytes / 1024,
    capacity: stats.tableCapacity,
    rehashes: stats.tableRehashes,
    variables: stats.variableCount,
  };
}

const pad = (text: string | number, width: number) => String(text).padStart(width);
function printRow(s: Sample, previous: Sample | undefined, note: string): void {
  const rate = previous ? (s.ops - previous.ops) / (s.seconds - previous.seconds) / 1e6 : 0;
  console.log(
    [
      pad(s.ops.toLocaleString('en-US'), 12),
      pad(s.seconds.toFixed(1), 7),
      pad(previous ? rate.toFixed(2) : '', 6),
      pad(s.heapMiB.toFixed(2), 9),
      pad(s.rssMiB.toFixed(1), 7),
      pad(s.externalMiB.toFixed(2), 9),
      pad(s.wasmKiB.toFixed(0), 8),
      pad(s.capacity, 8),
      pad(s.rehashes, 8),
      pad(s.variables, 9),
      ...(PERSIST ? [pad(s.diskMiB.toFixed(1), 8), pad(s.compactions, 11)] : []),
      note,
    ].join(' '),
  );
}

console.log(
  `soak: ${OPS.toLocaleString('en-US')} operations on one LocalState, ${NUMERIC.toLocaleString('en-US')} numeric + ${STRINGS} string + ${EMBEDDINGS} embedding variables held stable, seed ${SEED}`,
);
console.log(
  'mix: 35% get, 15% ref get, 20% set, 10% ref set, 6% batch of 4, 1% failed batch, 1% refused set, 2% getVariables, 10% delete + register\n',
);
if (PERSIST)
  console.log(
    `persist: ${persistDir}, fsync everysec, compaction from ${COMPACT_AT / 2 ** 20} MiB; the loop yields every 10,000 operations\n`,
  );
console.log(
  `${pad('ops', 12)} ${pad('s', 7)} ${pad('Mop/s', 6)} ${pad('heap MiB', 9)} ${pad('rss MiB', 7)} ${pad('ext MiB', 9)} ${pad('wasm KiB', 8)} ${pad('capacity', 8)} ${pad('rehashes', 8)} ${pad('variables', 9)}` +
    (PERSIST ? ` ${pad('disk MiB', 8)} ${pad('compactions', 11)}` : ''),
);

const started = performance.now();
const samples: Sample[] = [sample(0, 0)];
printRow(samples[0] as Sample, undefined, '(start)');
const every = Math.floor(OPS / SAMPLES);
for (let op = 1; op <= OPS; op++) {
  step(op);
  // A persisted store hands its journal off and learns that a compaction finished on the event loop.
  if (PERSIST && op % 10_000 === 0) await new Promise((resolve) => setImmediate(resolve));
  if (op % every === 0 || op === OPS) {
    const s = sample(op, (performance.now() - started) / 1000);
    const index = samples.length;
    printRow(
      s,
      samples[samples.length - 1],
      index === WARMUP_SAMPLES ? '(end of warm-up: baseline)' : index < WARMUP_SAMPLES ? '(warm-up)' : '',
    );
    samples.push(s);
  }
}
const seconds = (performance.now() - started) / 1000;

// ─── verdict ────────────────────────────────────────────────────────────────

const baseline = samples[WARMUP_SAMPLES] as Sample;
const judged = samples.slice(WARMUP_SAMPLES);
const last = samples[samples.length - 1] as Sample;
const maxHeap = Math.max(...judged.map((s) => s.heapMiB));
const problems: string[] = [];
for (const s of judged) {
  if (s.wasmKiB > baseline.wasmKiB)
    problems.push(`wasm memory grew after warm-up: ${baseline.wasmKiB} KiB -> ${s.wasmKiB} KiB at ${s.ops} operations`);
  if (s.capacity !== baseline.capacity || s.rehashes !== baseline.rehashes) {
    problems.push(
      `the wasm table resized after warm-up (capacity ${baseline.capacity} -> ${s.capacity}, rehashes ${baseline.rehashes} -> ${s.rehashes})`,
    );
  }
}
if (maxHeap - baseline.heapMiB > HEAP_BOUND_MIB) {
  problems.push(
    `heap after GC grew by ${(maxHeap - baseline.heapMiB).toFixed(2)} MiB over its post-warm-up level ${baseline.heapMiB.toFixed(2)} MiB (bound ${HEAP_BOUND_MIB} MiB)`,
  );
}

console.log(
  `\n${OPS.toLocaleString('en-US')} operations in ${seconds.toFixed(1)} s (${(OPS / seconds / 1e6).toFixed(2)} M/s): ${churns.toLocaleString('en-US')} delete+register churns, ` +
    `${batchFailures.toLocaleString('en-US')} failed batches, ${rejectedSets.toLocaleString('en-US')} refused sets, totalOperations ${state.stats().totalOperations.toLocaleString('en-US')}`,
);
console.log(
  `heap after GC: baseline ${baseline.heapMiB.toFixed(2)} MiB, max ${maxHeap.toFixed(2)} MiB, last ${last.heapMiB.toFixed(2)} MiB (bound: baseline + ${HEAP_BOUND_MIB} MiB); ` +
    `wasm memory ${baseline.wasmKiB} KiB -> ${last.wasmKiB} KiB (bound: no growth after warm-up)`,
);
if (PERSIST) {
  const half = Math.floor(judged.length / 2);
  const maxDisk = (list: Sample[]) => Math.max(...list.map((s) => s.diskMiB));
  if (last.compactions < 3) problems.push(`only ${last.compactions} compactions ran`);
  // Bounded: no trend from the first half of the judged samples to the second.
  if (maxDisk(judged.slice(half)) > 1.5 * maxDisk(judged.slice(0, half)) + COMPACT_AT / 2 ** 20) {
    problems.push(
      `the files kept growing: ${maxDisk(judged.slice(0, half)).toFixed(1)} MiB, then ${maxDisk(judged.slice(half)).toFixed(1)} MiB`,
    );
  }
  // Recovered exactly: every slot holds what the model says.
  state.cleanup();
  const reopenStarted = performance.now();
  state = await LocalState.init({ ...(persist === undefined ? {} : { persist }) });
  for (let slot = 0; slot < SLOTS; slot++) {
    const got = state.getVariable(names[slot] as string);
    if (!same(got, expected[slot] as Value))
      problems.push(`after reopening, ${names[slot]} holds ${String(got)}, expected ${String(expected[slot])}`);
  }
  if (state.stats().variableCount !== SLOTS) problems.push(`after reopening, ${state.stats().variableCount} variables, expected ${SLOTS}`);
  console.log(
    `files on disk: max ${maxDisk(judged).toFixed(1)} MiB after warm-up, last ${last.diskMiB.toFixed(1)} MiB; ${last.compactions} compactions; ` +
      `reopened in ${(performance.now() - reopenStarted).toFixed(0)} ms with every value as the model has it`,
  );
  state.cleanup();
}
if (problems.length > 0) fail([...new Set(problems)].join('\n  '));
console.log('soak passed');
