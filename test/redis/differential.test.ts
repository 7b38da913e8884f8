// Differential, model-based tests: random sequences of operations (the
// generators of test/differential/ops.ts) run against LocalState and a
// RedisState on a real redis-server, which must agree after every step (see
// test/differential/redis-runner.ts for what is compared and what is
// normalized). One redis-server for the file; a fresh session per sequence.
//
// CI mode (plain `npm test`): seed 42, 200 sequences of up to 60 operations (~5,700 in all, ~11 s here).
// Long mode (FUZZ_LONG=1): a random seed, 1,500 sequences of up to 80.
//   FUZZ_RUNS, FUZZ_SEED, FUZZ_PATH as in test/differential.test.ts
//   FUZZ_STATS=1 prints, per check, how often both backends succeeded or failed with each code.

import fc from 'fast-check';
import { it } from 'vitest';
import { assertReplayable, fuzzSettings, LONG } from '../differential/fuzz.js';
import { type Ident, type Op, sequenceArb } from '../differential/ops.js';
import { redisOutcomeCounts, redisTotals, runRedisSequence } from '../differential/redis-runner.js';
import { describeWithRedis } from './server.js';

const MAX_LENGTH = LONG ? 80 : 60;
const settings = fuzzSettings(200, 1500);
const { seed, numRuns } = settings;

describeWithRedis('LocalState and RedisState agree on every step of random operation sequences', (server) => {
  it(
    `${LONG ? 'long' : 'CI'} mode: ${numRuns} sequences, seed ${seed}`,
    async () => {
      const started = performance.now();
      try {
        await assertReplayable(
          // bulk weight 0: no bulk registrations (see redis-runner.ts).
          fc.asyncProperty(sequenceArb(MAX_LENGTH, 0), async (ops) => {
            await runRedisSequence({ url: server().url }, ops);
          }),
          settings,
        );
      } finally {
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        console.log(
          `redis differential: seed ${seed}, ${redisTotals.operations} operations in ${redisTotals.sequences} sequences` +
            ` (${redisTotals.exports} export round trips, ${redisTotals.watchEvents} watch events, ${redisTotals.sessions} Redis sessions) in ${seconds} s`,
        );
        if (process.env.FUZZ_STATS === '1') {
          for (const [what, counts] of Object.entries(redisOutcomeCounts)) console.log(`  ${what}: ${JSON.stringify(counts)}`);
        }
      }
    },
    LONG ? 24 * 3600_000 : 300_000,
  );

  // Minimal sequences for the divergences the random runs found; each failed before its fix in src/redis/.
  const MAX_SAFE = Number.MAX_SAFE_INTEGER;
  const watchOf = (targets: readonly Ident[]): Op => ({
    op: 'watch',
    targets,
    includeInitial: false,
    filter: 'none',
    action: { do: 'log' },
    onError: 'none',
    signal: 'none',
    odd: 'none',
  });
  const REGRESSIONS: ReadonlyArray<readonly [string, readonly Op[]]> = [
    [
      // redis: invalid_argument (description), checked before the server was asked about the name.
      'a taken name is reported before what the options got wrong',
      [
        { op: 'register', name: 'a', type: 'float', value: 0, options: undefined },
        { op: 'register', name: 'a', type: 'float', value: 0, options: { description: 5 } },
      ],
    ],
    [
      // redis: TypeError (value.map is not a function) from encoding the refused value.
      'a batch with a value an embedding refuses is batch_failed',
      [
        { op: 'register', name: 'e', type: 'embedding', value: [1], options: undefined },
        { op: 'updateVariables', form: 'object', items: [[{ by: 'name', name: 'e' }, false]], metadata: undefined },
      ],
    ],
    [
      // redis: unavailable, from node-redis refusing undefined as a script argument.
      'a watch on a non-string identifier is invalid_argument',
      [
        { op: 'register', name: 'a', type: 'float', value: 0, options: undefined },
        watchOf([
          { by: 'raw', value: undefined },
          { by: 'name', name: 'a' },
        ]),
      ],
    ],
    [
      // redis: the conflict named the variable by the identifier given ("var_a_1"), not by its name.
      'a read guard in conflict names its variable',
      [
        { op: 'register', name: 'a', type: 'float', value: 0, options: undefined },
        {
          op: 'updateVariables',
          form: 'object',
          items: [],
          metadata: undefined,
          guards: [
            [
              { by: 'id', index: 0 },
              { kind: 'off', by: 1 },
            ],
          ],
        },
      ],
    ],
    [
      // At version 2^53 - 2 one more write fits. redis: 2 of 2 failed, the refused first item counted as a write.
      'near the version limit, an item refused for its value does not count as a write of its variable',
      [
        { op: 'register', name: 'a', type: 'float', value: 0, options: undefined },
        { op: 'reload', mutation: { kind: 'variable', variable: 0, field: 'version', value: MAX_SAFE - 1, drop: false }, viaInit: false },
        {
          op: 'updateVariables',
          form: 'object',
          items: [
            [{ by: 'name', name: 'a' }, 'not a number'],
            [{ by: 'name', name: 'var_a_1' }, 1],
          ],
          metadata: undefined,
        },
      ],
    ],
    [
      // redis: listed first, by the registration order its id had before the delete.
      'a variable deleted and imported again lists in its new place',
      [
        { op: 'register', name: 'a', type: 'float', value: 0, options: undefined },
        { op: 'export' },
        { op: 'delete', target: { by: 'name', name: 'a' } },
        { op: 'register', name: 'b', type: 'float', value: 0, options: undefined },
        { op: 'importEarlier', snapshot: 0 },
      ],
    ],
    [
      // redis: the string "NaN" read back as the float NaN, by the type its id had before the delete.
      'a variable deleted and imported again under the same id with another type reads by its new type',
      [
        { op: 'register', name: 'a', type: 'string', value: 'NaN', options: undefined },
        { op: 'export' },
        { op: 'reload', mutation: { kind: 'variable', variable: 0, field: 'type', value: 'float', drop: false }, viaInit: false },
        { op: 'delete', target: { by: 'name', name: 'a' } },
        { op: 'importEarlier', snapshot: 0 },
        { op: 'get', target: { by: 'name', name: 'a' } },
      ],
    ],
    [
      // redis: the ref read the variable the import brought back under the same id.
      'a ref to a deleted variable stays not_found after an import brings back a variable with the same id',
      [
        { op: 'register', name: 'a', type: 'float', value: 0, options: undefined },
        { op: 'ref', target: { by: 'name', name: 'a' } },
        { op: 'export' },
        { op: 'delete', target: { by: 'name', name: 'a' } },
        { op: 'importEarlier', snapshot: 0 },
        { op: 'refGet', ref: 0 },
        { op: 'refSet', ref: 0, value: 1, metadata: undefined },
      ],
    ],
    [
      // redis: the ref read (and wrote) the variable whose name is the deleted variable's id.
      'a ref to a deleted variable stays not_found when another variable is named after its id',
      [
        { op: 'register', name: 'b', type: 'float', value: 0, options: undefined },
        { op: 'ref', target: { by: 'name', name: 'b' } },
        { op: 'delete', target: { by: 'name', name: 'b' } },
        { op: 'register', name: 'var_b_1', type: 'string', value: 'x', options: undefined },
        { op: 'refGet', ref: 0 },
        { op: 'refSet', ref: 0, value: 'y', metadata: undefined },
      ],
    ],
  ];
  for (const [name, ops] of REGRESSIONS) {
    it(name, async () => {
      await runRedisSequence({ url: server().url }, ops);
    });
  }
});
