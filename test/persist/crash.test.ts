// Crash trials: a child process writes without pause (sets, ref sets,
// batches keeping a + b === 0, registers, deletes; workload.mjs) and is
// killed with SIGKILL at a random moment. The parent opens the directory and
// checks that
//   - the state is exactly the one after some prefix of the operations (a
//     model replays them: values, versions, metadata, ids, order, counters);
//   - every pair still sums to 0 (no part of a batch);
//   - the loss is within the mode's bound: with 'always', nothing that
//     returned; with 'everysec' and 'no' (a process crash: the OS keeps what it
//     was handed), nothing before the last synchronous stretch, and fewer than
//     FLUSH_RECORDS (4,096) records of it.
// A third of the trials compact every 16 KiB, and every tenth runs long enough for compactions to
// finish, so kills land before, during and after a manifest switch.
// Seeded and reproducible: CRASH_SEED, CRASH_TRIALS (CI: 100; npm run test:crash: 2,000), CRASH_TRIAL (one trial).

import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { JsLocalState, LocalState } from '../../dist/index.js';
import { FLUSH_RECORDS } from '../../dist/persist/journal.js';
import { PAIRS, random32, Workload } from './fixtures/workload.mjs';
import { type AnyStore, type Backend, fingerprint, freshPath, persistOptions } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/crash-child.mjs', import.meta.url));
const MODES = ['always', 'everysec', 'no'] as const;
type Mode = (typeof MODES)[number];

const trials = Number(process.env.CRASH_TRIALS ?? 100);
const baseSeed = Number(process.env.CRASH_SEED ?? 20_261_201);
const only = process.env.CRASH_TRIAL === undefined ? undefined : Number(process.env.CRASH_TRIAL);
const CONCURRENCY = 2;

interface Trial {
  readonly index: number;
  readonly seed: number;
  readonly mode: Mode;
  readonly writer: 'wasm' | 'js';
  readonly reader: Backend;
  readonly killAfterMs: number;
  readonly compactionBytes: number;
}

function trialOf(index: number): Trial {
  const random = random32(baseSeed + index * 7919);
  return {
    index,
    seed: (baseSeed + index) | 0,
    mode: MODES[index % 3] as Mode,
    writer: index % 2 === 0 ? 'wasm' : 'js',
    // Every fifth trial reads the directory with the other backend.
    reader: (index % 2 === 0) !== (index % 5 === 0) ? LocalState : JsLocalState,
    // Every tenth trial runs long enough for compactions (every 16 KiB) to finish, so kills land before,
    // during and after a manifest switch; the others kill within a quarter second.
    killAfterMs: index % 10 === 9 ? 1500 + Math.floor(random() * 1000) : 5 + Math.floor(random() * 250),
    compactionBytes: index % 10 === 9 || index % 3 === 1 ? 16 * 1024 : 64 * 2 ** 20,
  };
}

interface Outcome {
  readonly lastReturned: number;
  readonly lastStretch: number;
  readonly started: number;
}

/** Runs the child until `killAfterMs` after it is ready, kills it with SIGKILL, and reads what it said. */
function runChild(trial: Trial, path: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      process.execPath,
      [CHILD, trial.writer, path, trial.mode, String(trial.seed), String(trial.compactionBytes), 'write'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    const started = Date.now();
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (timer === undefined && out.includes('ready')) timer = setTimeout(() => child.kill('SIGKILL'), trial.killAfterMs);
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
    });
    // A child that never gets ready (it failed to open) must not hang the test.
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(watchdog);
      if (timer !== undefined) clearTimeout(timer);
      if (signal !== 'SIGKILL' || !out.includes('ready')) {
        reject(new Error(`trial ${trial.index}: the child ended on its own (${signal}): ${err}`));
        return;
      }
      let lastReturned = -1;
      let lastStretch = 0;
      for (const line of out.split('\n')) {
        if (line.startsWith('o')) lastReturned = Number(line.slice(1));
        else if (line.startsWith('s')) lastStretch = Number(line.slice(1));
      }
      resolve({ lastReturned, lastStretch, started });
    });
  });
}

/** The model: a plain store that makes the same operations; `upTo` of them. Returns it and the records each made. */
async function model(seed: number, upTo: number): Promise<{ store: AnyStore; operations: number[]; records: number[] }> {
  const store = await JsLocalState.init();
  const workload = new Workload(seed);
  const operations = [store.stats().totalOperations];
  const records: number[] = [];
  let i = 0;
  for (const op of workload.setup(store)) {
    if (i >= upTo) break;
    op();
    records.push(1);
    operations.push(store.stats().totalOperations);
    i++;
  }
  for (; i < upTo; i++) {
    records.push(workload.step(store, i));
    operations.push(store.stats().totalOperations);
  }
  return { store, operations, records };
}

async function runTrial(trial: Trial): Promise<string> {
  const path = freshPath();
  const outcome = await runChild(trial, path);
  const recovered = await trial.reader.init({ persist: persistOptions(path) });
  const recovery = recovered.persistence()?.recovery;
  try {
    const got = recovered.stats().totalOperations;
    const limit = outcome.lastReturned + 2; // the operation under way when it was killed may be whole on disk
    const { operations, records } = await model(trial.seed, limit);
    // Each operation counts at least one operation and the child reads nothing, so the count names the prefix.
    const applied = operations.indexOf(got);
    expect(applied, `trial ${trial.index}: ${got} operations recovered match no prefix of ${limit}`).toBeGreaterThanOrEqual(0);
    const { store: expected } = await model(trial.seed, applied);
    expect(fingerprint(recovered, { times: false }), `trial ${trial.index}: the state after ${applied} operations`).toBe(
      fingerprint(expected, { times: false }),
    );
    const values = recovered.getVariables(Array.from({ length: PAIRS }, (_, p) => [`a${p}`, `b${p}`]).flat());
    for (let p = 0; p < PAIRS; p++) {
      const [a, b] = [values[`a${p}`], values[`b${p}`]];
      if (a !== undefined && b !== undefined) expect((a as number) + (b as number), `trial ${trial.index}: pair ${p}`).toBe(0);
    }
    for (const v of recovered.listVariables()) {
      expect(v.lastUpdatedAt).toBeGreaterThanOrEqual(v.createdAt);
      expect(v.createdAt).toBeGreaterThanOrEqual(outcome.started - 1000);
    }
    // The loss bound of the mode.
    const lost = outcome.lastReturned + 1 - applied;
    if (trial.mode === 'always') {
      expect(applied, `trial ${trial.index}: 'always' lost a write that returned`).toBeGreaterThanOrEqual(outcome.lastReturned + 1);
    } else {
      expect(applied, `trial ${trial.index}: lost a write from before the last stretch`).toBeGreaterThanOrEqual(outcome.lastStretch);
      const lostRecords = records.slice(applied, outcome.lastReturned + 1).reduce((a, b) => a + b, 0);
      expect(lostRecords, `trial ${trial.index}: lost more than the hand-off bound`).toBeLessThan(FLUSH_RECORDS);
    }
    // A recovered directory takes writes and recovers again.
    recovered.registerVariable('after recovery', 'integer', applied);
    recovered.setVariable('after recovery', lost);
    const after = fingerprint(recovered, { times: false });
    recovered.cleanup();
    const again = await trial.reader.init({ persist: persistOptions(path) });
    expect(fingerprint(again, { times: false })).toBe(after);
    again.cleanup();
    const from = `${(recovery?.snapshotVariables ?? 0) > 0 ? ' snapshot' : ''}${(recovery?.tornBytes ?? 0) > 0 ? ' torn' : ''}`;
    return `${trial.mode}/${trial.writer}: ${outcome.lastReturned + 1} ops, lost ${Math.max(0, lost)}${from}`;
  } finally {
    recovered.cleanup();
  }
}

describe('crash trials', () => {
  const indices = only === undefined ? Array.from({ length: trials }, (_, i) => i) : [only];
  it(
    `${indices.length} SIGKILLed writers over the three fsync modes recover a prefix, keep batches whole and lose only what the mode allows (seed ${baseSeed})`,
    async () => {
      const started = Date.now();
      const summary = { always: [0, 0, 0], everysec: [0, 0, 0], no: [0, 0, 0] } as Record<Mode, number[]>;
      let fromSnapshot = 0;
      let torn = 0;
      const queue = [...indices];
      const worker = async () => {
        for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
          const trial = trialOf(next);
          try {
            const line = await runTrial(trial);
            const counts = summary[trial.mode] as number[];
            counts[0] = (counts[0] as number) + 1;
            counts[1] = (counts[1] as number) + Number(/(\d+) ops/.exec(line)?.[1] ?? 0);
            counts[2] = (counts[2] as number) + Number(/lost (\d+)/.exec(line)?.[1] ?? 0);
            if (line.includes('snapshot')) fromSnapshot++;
            if (line.includes('torn')) torn++;
          } catch (error) {
            throw new Error(`crash trial ${next} failed (replay: CRASH_SEED=${baseSeed} CRASH_TRIAL=${next}): ${String(error)}`, {
              cause: error,
            });
          }
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      console.log(
        `crash trials: ${indices.length} in ${((Date.now() - started) / 1000).toFixed(1)} s, seed ${baseSeed}; ` +
          MODES.map((m) => `${m}: ${summary[m][0]} trials, ${summary[m][1]} operations, ${summary[m][2]} lost`).join('; ') +
          `; ${fromSnapshot} recovered from a snapshot, ${torn} cut a torn tail`,
      );
    },
    Math.max(120_000, trials * 3_000),
  );
});
