// Differential, model-based tests: random sequences of operations over all
// eight types run against LocalState (wasm) and JsLocalState (pure JS), which
// must agree after every step (see test/differential/runner.ts). Sequences
// include watches (their callbacks log events, write, throw, unwatch, watch):
// the event logs and listWatchers() must agree too.
//
// CI mode (plain `npm test`): seed 42, ~22,000 operations in about 30-35 s on a 2-core machine.
// Long mode (`npm run test:fuzz`, FUZZ_LONG=1): a random seed, at least 100,000 operations.
//   FUZZ_RUNS   number of sequences (CI default 500 of up to 90 operations, ~22,000 in all;
//               long default 3,000 of up to 100, ~140,000 in all)
//   FUZZ_SEED   seed (CI default 42; long default random, printed)
//   FUZZ_PATH   with FUZZ_SEED, replays the shrunk counterexample a failure reported
//   FUZZ_STATS  =1 prints, per operation, how often both backends succeeded or failed with each code,
//               and for watches: steps delivering events by operation and kind, callback actions, endings
// A failure reports the seed, the path and the shrunk sequence of operations.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsLocalState, LocalState, StateError } from '../dist/index.js';
import { assertReplayable, fuzzSettings, LONG } from './differential/fuzz.js';
import { type Op, sequenceArb } from './differential/ops.js';
import { outcomeCounts, runSequence, totals, watchCounts } from './differential/runner.js';

const CI_RUNS = 500;
/** Long mode: longer sequences (deeper states); 3,000 of them average ~140,000 operations. */
const LONG_RUNS = 3000;
/** Long mode's promise; its default run count gives well over this many operations. */
const LONG_MIN_OPERATIONS = 100_000;
const MAX_LENGTH = LONG ? 100 : 90;

const settings = fuzzSettings(CI_RUNS, LONG_RUNS);
const { seed, numRuns } = settings;

describe('LocalState and JsLocalState agree on every step of random operation sequences', () => {
  it(
    `${LONG ? 'long' : 'CI'} mode: ${numRuns} sequences, seed ${seed}`,
    async () => {
      console.log(
        `differential: ${LONG ? 'long' : 'CI'} mode, seed ${seed}, ${numRuns} sequences of up to ${MAX_LENGTH} operations` +
          ` (replay: FUZZ_SEED=${seed}${LONG ? ' FUZZ_LONG=1' : ''} FUZZ_RUNS=${numRuns})`,
      );
      const started = performance.now();
      try {
        await assertReplayable(
          fc.asyncProperty(sequenceArb(MAX_LENGTH), async (ops) => {
            await runSequence(ops);
          }),
          settings,
        );
      } finally {
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        console.log(
          `differential: ${totals.operations} operations in ${totals.sequences} sequences` +
            ` (${totals.bulkVariables} bulk-registered variables, wasm tables up to ${totals.maxTableEntries} entries` +
            ` and ${totals.maxTableRehashes} rehashes, ${totals.exports} export round trips) in ${seconds} s`,
        );
        if (process.env.FUZZ_STATS === '1') {
          for (const [what, counts] of Object.entries(outcomeCounts)) console.log(`  ${what}: ${JSON.stringify(counts)}`);
          for (const [what, counts] of Object.entries(watchCounts)) console.log(`  watch ${what}: ${JSON.stringify(counts)}`);
        }
      }
      if (LONG && !settings.runsFromEnv) expect(totals.operations).toBeGreaterThanOrEqual(LONG_MIN_OPERATIONS);
    },
    LONG ? 24 * 3600_000 : 300_000,
  );
});

// Minimal sequences for divergences and bugs the random runs found; each fails
// until the bug is fixed, whatever the seed budget above happens to reach.
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const REGRESSIONS: ReadonlyArray<readonly [string, readonly Op[]]> = [
  [
    // wasm: a plain Error after the first item was applied (value and version changed, counters not);
    // js: succeeds with version 2^53, which is not a safe integer. Expected: batch_failed, nothing changed.
    'a batch naming one variable twice (name and id) at version 2^53 - 2 is refused as a whole',
    [
      { op: 'register', name: 'a', type: 'float', value: 1, options: undefined },
      { op: 'reload', mutation: { kind: 'variable', variable: 0, field: 'version', value: MAX_SAFE - 1, drop: false }, viaInit: false },
      {
        op: 'updateVariables',
        form: 'object',
        items: [
          [{ by: 'name', name: 'a' }, 2],
          [{ by: 'name', name: 'var_a_1' }, 3],
        ],
        metadata: undefined,
      },
    ],
  ],
  [
    // Both backends export { min: -0 } as JSON 0, so the imported variable lists { min: 0 }.
    'an export moves a -0 bound exactly',
    [{ op: 'register', name: 'a', type: 'float', value: 0, options: { constraints: { min: -0 } } }, { op: 'export' }],
  ],
  [
    // Both backends accept -0 in metadata and export it as JSON 0.
    'an export moves -0 in metadata exactly',
    [{ op: 'register', name: 'a', type: 'string', value: 'x', options: { metadata: { m: -0 } } }, { op: 'export' }],
  ],
  [
    // wasm: the old ref reads and writes the variable the import put in the freed table slot (same serial);
    // js: not_found. With a different name at the same serial the stale ref writes an unrelated variable.
    'a ref to a deleted variable stays not_found after an import brings back a variable with the same id',
    [
      { op: 'register', name: 'a', type: 'float', value: 0, options: undefined },
      { op: 'export' },
      { op: 'ref', target: { by: 'name', name: 'a' } },
      { op: 'delete', target: { by: 'name', name: 'a' } },
      { op: 'importEarlier', snapshot: 0 },
      { op: 'refGet', ref: 0 },
      { op: 'refSet', ref: 0, value: 1, metadata: undefined },
    ],
  ],
  [
    // wasm: TypeError from id parsing; js: StateError invalid_argument.
    'a non-string identifier is an invalid_argument StateError on both backends',
    [
      { op: 'get', target: { by: 'raw', value: null } },
      { op: 'set', target: { by: 'raw', value: 5 }, value: 1, metadata: undefined },
      { op: 'delete', target: { by: 'raw', value: undefined } },
    ],
  ],
];

describe('differential regressions', () => {
  for (const [title, ops] of REGRESSIONS) {
    it(title, async () => {
      await runSequence(ops);
    });
  }
});

// Found while adding watches to the sequences; the same on both backends, so not a divergence, and the
// runner caps each callback's writes per step (110) so that it cannot hang the random runs. Fails until fixed.
describe('watch delivery bounds', () => {
  for (const Backend of [LocalState, JsLocalState]) {
    it(`${Backend.name}: a feedback loop between two watchers stops with watch_loop (it doubles every round)`, async () => {
      const s = await Backend.init();
      s.registerVariable('x', 'float', 0);
      // Without this valve the loop runs 2^(r-1) writes in round r and setVariable does not return (killed after 40 s).
      const VALVE = 100_000;
      let calls = 0;
      for (let i = 0; i < 2; i++) {
        s.watchVariables(['x'], (event) => {
          if (++calls <= VALVE) s.setVariable('x', (event.newValue as number) + 1);
        });
      }
      let outcome: string;
      try {
        s.setVariable('x', 1);
        outcome = `returned after ${calls} callback calls`;
      } catch (error) {
        outcome = error instanceof StateError ? error.code : String(error);
      }
      // Expected: watch_loop (the loop detected) before the valve's 100,000 writes.
      // Actual: returns normally after 200,002 callback calls: 17 rounds used up the valve; round 100 would need ~2^100.
      expect(outcome).toBe('watch_loop');
    });
  }
});
