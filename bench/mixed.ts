// The 7-variable mixed store (float, integer, boolean, string, choice,
// module, embedding), measured the way a DSPy-style loop uses it: one call per
// measured call, and the value escapes through do_not_optimize to code the JIT
// cannot see, as it does when a program passes it on. Nothing is summed, so a
// float read from wasm pays for boxing here, where JsLocalState hands out a
// number that is boxed already: that cost is part of what users get.

import { do_not_optimize } from 'mitata';
import type { JsLocalState, LocalState, VariableValue } from '../dist/index.js';
import { assertEqual, type Case, type Contender, type Target } from './harness.js';
import { EMBEDDING_DIMENSIONS, MIXED_NAMES, mixedStores, mixedValues } from './stores.js';

type MixedStore = LocalState | JsLocalState;

const WASM = 'wasm LocalState';
const JS = 'pure-JS JsLocalState';
/** Every mixed case asks the same: LocalState no slower than JsLocalState, within 5% a tie. */
const TARGETS: readonly Target[] = [{ subject: WASM, baseline: JS, max: 1, tie: 0.05 }];

/** One case with the same measured and checking code for both backends. */
async function mixedCase(
  id: string,
  title: string,
  contender: (store: MixedStore) => Pick<Contender, 'fn' | 'check'>,
  note?: string,
): Promise<Case> {
  const { wasm, js } = await mixedStores();
  return {
    id,
    title,
    contenders: [
      { label: WASM, ...contender(wasm) },
      { label: JS, ...contender(js) },
    ],
    targets: TARGETS,
    ...(note === undefined ? {} : { note }),
  };
}

/** The variable of each scalar type that getVariable reads. */
export const MIXED_GETS = {
  float: 'temperature',
  integer: 'max_tokens',
  boolean: 'use_cot',
  string: 'instruction',
  choice: 'strategy',
} as const;

export function mixedGetCase(type: keyof typeof MIXED_GETS): Promise<Case> {
  const name = MIXED_GETS[type];
  const expected = mixedValues()[name];
  return mixedCase(`mixed-get-${type}`, `getVariable, ${type} (${name}), 7-variable mixed store, value escapes`, (store) => ({
    fn: () => do_not_optimize(store.getVariable(name)),
    check: () => assertEqual(store.getVariable(name), expected, `get ${name}`),
  }));
}

/** Six of the seven, one of each type but module: what a trial reads before it scores. */
const READ_SIX = ['temperature', 'max_tokens', 'use_cot', 'instruction', 'strategy', 'embedding'] as const;

export function mixedGetVariablesCase(): Promise<Case> {
  const initial = mixedValues();
  const expected = Object.fromEntries(READ_SIX.map((name) => [name, initial[name]]));
  return mixedCase('mixed-get-variables-6', 'getVariables of 6 mixed names (float … embedding), result escapes', (store) => ({
    fn: () => do_not_optimize(store.getVariables(READ_SIX)),
    check: () => assertEqual(store.getVariables(READ_SIX), expected, 'getVariables'),
  }));
}

/** Two valid updates of all seven that differ in every value, applied in turn so every batch changes the store. */
export const MIXED_UPDATES: readonly [Readonly<Record<string, VariableValue>>, Readonly<Record<string, VariableValue>>] = [
  {
    temperature: 0.9,
    max_tokens: 512,
    use_cot: true,
    instruction: 'Think step by step, then answer.',
    strategy: 'chain_of_thought',
    module: 'ChainOfThought',
    embedding: Array.from({ length: EMBEDDING_DIMENSIONS }, (_, i) => i / EMBEDDING_DIMENSIONS),
  },
  {
    temperature: 1.1,
    max_tokens: 1024,
    use_cot: false,
    instruction: 'Answer briefly.',
    strategy: 'react',
    module: 'ReAct',
    embedding: Array.from({ length: EMBEDDING_DIMENSIONS }, (_, i) => 1 - i / EMBEDDING_DIMENSIONS),
  },
];

export function mixedUpdateVariablesCase(): Promise<Case> {
  return mixedCase('mixed-update-variables-7', 'updateVariables of all 7 mixed values (atomic), alternating two updates', (store) => {
    let turn = 0;
    const step = () => {
      turn ^= 1;
      store.updateVariables(MIXED_UPDATES[turn] as Record<string, VariableValue>);
      return turn;
    };
    return {
      fn: step,
      // Takes a turn of the same alternation, so the timed batches that follow still change every value.
      check: () => {
        const before = MIXED_NAMES.map((name) => store.ref(name).version);
        const applied = MIXED_UPDATES[step()];
        assertEqual(store.getVariables(MIXED_NAMES), applied, 'batch applied');
        assertEqual(
          MIXED_NAMES.map((name) => store.ref(name).version),
          before.map((v) => v + 1),
          'one version bump each',
        );
      },
    };
  });
}

export function mixedRefGetCase(): Promise<Case> {
  const expected = mixedValues().temperature;
  return mixedCase('mixed-ref-get-float', 'ref.get(), float (temperature), one value per call, value escapes', (store) => {
    const ref = store.ref<number>('temperature');
    return {
      fn: () => do_not_optimize(ref.get()),
      check: () => assertEqual(ref.get(), expected, 'ref.get'),
    };
  });
}

/** A value in [0, 2) that changes every call, so no write is a no-op. */
const valueFor = (i: number): number => (i & 1023) / 512;

export function mixedSetFloatCase(): Promise<Case> {
  return mixedCase('mixed-set-float', 'setVariable, float with min/max (temperature), 7-variable mixed store', (store) => {
    let i = 0;
    return {
      fn: () => store.setVariable('temperature', valueFor(++i)),
      check: () => {
        const before = store.ref('temperature').version;
        store.setVariable('temperature', 1.25);
        assertEqual(store.getVariable('temperature'), 1.25, 'set temperature');
        assertEqual(store.ref('temperature').version, before + 1, 'version bump');
      },
    };
  });
}

/** Every mixed case, in the order the issue lists them. */
export const mixedCases: ReadonlyArray<readonly [id: string, make: () => Promise<Case>]> = [
  ...(Object.keys(MIXED_GETS) as Array<keyof typeof MIXED_GETS>).map((type) => [`mixed-get-${type}`, () => mixedGetCase(type)] as const),
  ['mixed-get-variables-6', mixedGetVariablesCase],
  ['mixed-update-variables-7', mixedUpdateVariablesCase],
  ['mixed-ref-get-float', mixedRefGetCase],
  ['mixed-set-float', mixedSetFloatCase],
];
