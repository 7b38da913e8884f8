// A batch checks its numeric items with the table's rule restated in
// TypeScript (NumericTable.check), so that it never calls into wasm; a write
// by name is checked by wasm itself (checkValue, reached here through
// ls_check_at). The two must give the same status for every value, on every
// kind of entry: this property holds them to each other directly, on the
// values where rules differ (NaN, ±Infinity, -0, bounds, fractions, unsafe
// integers, 0/1 for booleans).

import fc from 'fast-check';
import { expect, it } from 'vitest';
import { LocalState } from '../../dist/index.js';
// Internal: the types come from the sources (dist's declarations leave @internal out).
import type { NumericTable } from '../../src/storage/numeric-table.js';

const special = fc.constantFrom(
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -0,
  0,
  1,
  -1,
  0.5,
  2 ** 53,
  2 ** 53 - 1,
  -(2 ** 53),
  Number.MAX_VALUE,
  Number.MIN_VALUE,
);
const cellArb = fc.oneof(special, fc.double(), fc.integer({ min: -100, max: 100 }));
const boundsArb = fc.option(
  fc.tuple(fc.integer({ min: -50, max: 50 }), fc.integer({ min: 0, max: 60 })).map(([min, span]) => ({ min, max: min + span })),
  { nil: undefined },
);

it('NumericTable.check gives the status of the wasm table for every value, type and bounds', async () => {
  const store = await LocalState.init();
  const internals = store as unknown as { table: NumericTable; registry: { index: Map<string, unknown> } };
  const table = internals.table;
  let n = 0;
  fc.assert(
    fc.property(
      fc.constantFrom('float', 'integer', 'boolean') as fc.Arbitrary<'float' | 'integer' | 'boolean'>,
      boundsArb,
      fc.array(cellArb, { minLength: 1, maxLength: 20 }),
      (type, bounds, cells) => {
        const name = `v${n++}`;
        const initial = type === 'boolean' ? false : (bounds?.min ?? 0);
        store.registerVariable(name, type, initial, type === 'boolean' || bounds === undefined ? {} : { constraints: bounds });
        const code = internals.registry.index.get(name) as number;
        for (const cell of cells) {
          expect(table.check(code, cell), `${type} ${JSON.stringify(bounds)} ${cell}`).toBe(
            table.core.exports.ls_check_at(code >>> 1, cell),
          );
        }
        store.deleteVariable(name);
      },
    ),
    { numRuns: 500, seed: 13 },
  );
  store.cleanup();
});
