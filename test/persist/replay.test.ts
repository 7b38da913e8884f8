// Recovery rebuilds exactly the store the writes made. fast-check generates
// sequences of registrations (every type, odd values and options), sets by
// name and by id, ref sets, batches with metadata and repeated items, deletes,
// imports of far serials, reads, compactions and reopenings. Each sequence
// runs on a persisted store and on a plain one of the same backend, which must
// agree on every outcome. At random points a copy of the directory is taken,
// as a SIGKILL would leave it after the stretch ended; each copy must open at
// exactly the state of that moment, and the store itself, closed, must reopen
// exactly as it was (times, versions, order, counters, the next serial).
//   REPLAY_RUNS, REPLAY_SEED: more runs, or another seed.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StateError, type VariableRef } from '../../dist/index.js';
import { isFit, NAMES, registerArb, type TypeName, writeMetadataArb, writeValueArb } from '../differential/ops.js';
import {
  type AnyStore,
  BACKENDS,
  type Backend,
  crashCopy,
  fingerprint,
  freshPath,
  internals,
  noSyncFs,
  persistOptions,
  useFs,
} from './helpers.js';

type Op =
  | { readonly op: 'register'; readonly name: string; readonly type: unknown; readonly value: unknown; readonly options: unknown }
  | { readonly op: 'set'; readonly target: number; readonly byId: boolean; readonly value: unknown; readonly metadata: unknown }
  | { readonly op: 'refSet'; readonly target: number; readonly value: unknown; readonly metadata: unknown }
  | { readonly op: 'batch'; readonly items: ReadonlyArray<readonly [number, boolean, unknown]>; readonly metadata: unknown }
  | { readonly op: 'delete'; readonly target: number; readonly byId: boolean }
  | { readonly op: 'import'; readonly name: string; readonly serial: number; readonly value: number }
  | { readonly op: 'get'; readonly target: number }
  | { readonly op: 'stretch' }
  | { readonly op: 'compact' }
  | { readonly op: 'reopen' };

const target = fc.nat(12);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 48, arbitrary: registerArb as fc.Arbitrary<Op> },
  {
    weight: 80,
    arbitrary: fc
      .record({ target, byId: fc.boolean(), value: writeValueArb, metadata: writeMetadataArb })
      .map((r): Op => ({ op: 'set', ...r })),
  },
  {
    weight: 40,
    arbitrary: fc.record({ target, value: writeValueArb, metadata: writeMetadataArb }).map((r): Op => ({ op: 'refSet', ...r })),
  },
  {
    weight: 40,
    arbitrary: fc
      .record({ items: fc.array(fc.tuple(target, fc.boolean(), writeValueArb), { maxLength: 5 }), metadata: writeMetadataArb })
      .map((r): Op => ({ op: 'batch', ...r })),
  },
  { weight: 24, arbitrary: fc.record({ target, byId: fc.boolean() }).map((r): Op => ({ op: 'delete', ...r })) },
  {
    weight: 8,
    arbitrary: fc
      .record({ name: fc.constantFrom(...NAMES), serial: fc.integer({ min: 1, max: 2 ** 40 }), value: fc.double() })
      .map((r): Op => ({ op: 'import', ...r })),
  },
  { weight: 12, arbitrary: target.map((t): Op => ({ op: 'get', target: t })) },
  { weight: 20, arbitrary: fc.constant<Op>({ op: 'stretch' }) },
  { weight: 8, arbitrary: fc.constant<Op>({ op: 'reopen' }) },
  // A compaction starts a worker (a few hundred ms): about one sequence in seven has one.
  { weight: 1, arbitrary: fc.constant<Op>({ op: 'compact' }) },
);

/** The value of a write for `type`: a fitted one is chosen now, when the target is known. */
function valueFor(value: unknown, type: string | undefined): unknown {
  return isFit(value) ? value.$fit[(type ?? 'float') as TypeName] : value;
}

/** What a call did: its error code, or 'ok'. Anything but a StateError is a bug. */
function outcome(run: () => unknown): string {
  try {
    run();
    return 'ok';
  } catch (error) {
    if (error instanceof StateError) return error.code;
    if (error instanceof AggregateError) return 'aggregate';
    throw error;
  }
}

class Pair {
  readonly refs: Record<'persisted' | 'plain', Map<string, VariableRef>> = { persisted: new Map(), plain: new Map() };
  readonly copies: Array<readonly [string, string]> = [];

  constructor(
    readonly Backend: Backend,
    readonly path: string,
    public persisted: AnyStore,
    readonly plain: AnyStore,
  ) {}

  /** The live variables, as both stores list them (they agree, or the test has failed already). */
  private live(): Array<{ id: string; name: string; type: string }> {
    return this.plain.listVariables();
  }

  private pick(index: number, byId: boolean): { identifier: string; type: string } | undefined {
    const live = this.live();
    const variable = live[index % Math.max(1, live.length)];
    if (variable === undefined) return undefined;
    return { identifier: byId ? variable.id : variable.name, type: variable.type };
  }

  async apply(op: Op): Promise<void> {
    const both = (what: string, run: (store: AnyStore, side: 'persisted' | 'plain') => unknown) => {
      const a = outcome(() => run(this.persisted, 'persisted'));
      const b = outcome(() => run(this.plain, 'plain'));
      expect(a, `${what}: persisted and plain stores disagree`).toBe(b);
    };
    switch (op.op) {
      case 'register':
        both('register', (s) => s.registerVariable(op.name, op.type as never, op.value, op.options as never));
        break;
      case 'set': {
        const picked = this.pick(op.target, op.byId);
        if (picked === undefined) return;
        const value = valueFor(op.value, picked.type);
        both('set', (s) => s.setVariable(picked.identifier, value, op.metadata as never));
        break;
      }
      case 'refSet': {
        const picked = this.pick(op.target, true);
        if (picked === undefined) return;
        const value = valueFor(op.value, picked.type);
        both('ref set', (s, side) => {
          let ref = this.refs[side].get(picked.identifier);
          if (ref === undefined) this.refs[side].set(picked.identifier, (ref = s.ref(picked.identifier)));
          ref.set(value, op.metadata as never);
        });
        break;
      }
      case 'batch': {
        const updates = new Map<string, unknown>();
        for (const [index, byId, value] of op.items) {
          const picked = this.pick(index, byId);
          if (picked !== undefined) updates.set(picked.identifier, valueFor(value, picked.type));
        }
        both('batch', (s) => s.updateVariables(updates, op.metadata as never));
        break;
      }
      case 'delete': {
        const picked = this.pick(op.target, op.byId);
        if (picked === undefined) return;
        both('delete', (s) => s.deleteVariable(picked.identifier));
        break;
      }
      case 'import': {
        const id = `var_${op.name}_${op.serial}`;
        const snapshot = {
          format: 'localstate',
          formatVersion: 1,
          sessionId: 'imported',
          variables: {
            [id]: {
              id,
              name: op.name,
              type: 'float',
              value: op.value,
              constraints: {},
              metadata: { from: 'import' },
              version: 3,
              createdAt: 5,
              lastUpdatedAt: 6,
            },
          },
          variableIndex: { [op.name]: id },
        };
        both('import', (s) => s.importState(JSON.parse(JSON.stringify(snapshot))));
        break;
      }
      case 'get': {
        const picked = this.pick(op.target, false);
        if (picked !== undefined) both('get', (s) => s.getVariable(picked.identifier));
        break;
      }
      case 'stretch': {
        // The stretch ends; a process killed now leaves this directory.
        await Promise.resolve();
        this.copies.push([crashCopy(this.path), fingerprint(this.persisted, { operations: false })]);
        break;
      }
      case 'compact':
        await internals(this.persisted).journal?.compactNow();
        break;
      case 'reopen': {
        const before = fingerprint(this.persisted);
        this.persisted.cleanup();
        this.persisted = await this.Backend.init({ persist: persistOptions(this.path, { compaction: { minBytes: 2 ** 40 } }) });
        this.refs.persisted.clear();
        this.refs.plain.clear();
        expect(fingerprint(this.persisted), 'reopened').toBe(before);
        break;
      }
    }
    expect(fingerprint(this.persisted, { times: false }), `after ${op.op}`).toBe(fingerprint(this.plain, { times: false }));
  }
}

const runs = Number(process.env.REPLAY_RUNS ?? 60);
const seed = Number(process.env.REPLAY_SEED ?? 12);
useFs(noSyncFs);

describe.each(BACKENDS)('recovery of %s equals the store that made the writes', (_label, Backend) => {
  it(`${runs} random sequences, seed ${seed}`, async () => {
    let operations = 0;
    let copies = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 5, maxLength: 40, size: 'max' }),
        fc.constantFrom('always', 'everysec', 'no'),
        async (ops, fsync) => {
          const path = freshPath();
          const persisted = await Backend.init({
            sessionId: 'replay',
            persist: persistOptions(path, { fsync, compaction: { minBytes: 2 ** 40 } }),
          });
          const pair = new Pair(Backend, path, persisted, await Backend.init({ sessionId: 'replay' }));
          try {
            for (const op of ops) {
              await pair.apply(op);
              operations++;
            }
            for (const [copy, expected] of pair.copies) {
              const killed = await Backend.init({ persist: persistOptions(copy) });
              expect(fingerprint(killed, { operations: false }), 'a copy taken at the end of a stretch').toBe(expected);
              killed.cleanup();
              copies++;
            }
            const before = fingerprint(pair.persisted);
            pair.persisted.cleanup();
            const reopened = await Backend.init({ persist: persistOptions(path) });
            expect(fingerprint(reopened), 'reopened at the end').toBe(before);
            reopened.cleanup();
          } finally {
            pair.persisted.cleanup();
          }
        },
      ),
      { seed, numRuns: runs },
    );
    console.log(`replay (${Backend.name}): ${operations} operations, ${copies} directory copies recovered`);
  }, 300_000);
});
