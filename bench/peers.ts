// The libraries users would pick instead of a variable store, holding the
// same 7 mixed values: @preact/signals-core (a signal per variable),
// nanostores (one map store), lru-cache, and a plain object keyed by name.
// Every call reads or writes the next of the seven variables in turn, so each
// call site sees every type, as a program's does; a read's value escapes.

import { type Signal, signal } from '@preact/signals-core';
import { LRUCache } from 'lru-cache';
import { do_not_optimize } from 'mitata';
import { map } from 'nanostores';
import type { VariableValue } from '../dist/index.js';
import { assertEqual, type Case, type Contender, type Target } from './harness.js';
import { MIXED_UPDATES } from './mixed.js';
import { MIXED_NAMES, mixedStores, mixedValues } from './stores.js';

const WASM = 'wasm LocalState';
const JS = 'pure-JS JsLocalState';
const PREACT = '@preact/signals-core';
const NANO = 'nanostores map';
const LRU = 'lru-cache';
const PLAIN = 'plain object';

const UNCHECKED =
  'The peers neither validate, version nor timestamp: LocalState and JsLocalState check type and constraints on every write, bump a version and stamp the time; the peers keep whatever they are given.';

/** LocalState ahead of each peer, within 5% a tie. */
const aheadOf = (peers: readonly string[]): Target[] => peers.map((baseline) => ({ subject: WASM, baseline, max: 1, tie: 0.05 }));

const COUNT = MIXED_NAMES.length;

/** The seven variables in every peer, from the same initial values. */
async function peers() {
  const { wasm, js } = await mixedStores();
  const initial = mixedValues();
  const signals: Record<string, Signal<VariableValue>> = Object.fromEntries(
    MIXED_NAMES.map((name) => [name, signal(initial[name] as VariableValue)]),
  );
  const $params = map<Record<string, VariableValue>>({ ...initial });
  const lru = new LRUCache<string, VariableValue>({ max: 64 });
  for (const name of MIXED_NAMES) lru.set(name, initial[name] as VariableValue);
  const plain: Record<string, VariableValue> = { ...initial };
  return { wasm, js, signals, $params, lru, plain, initial };
}

/** A contender reading variable `at` on each call, cycling through the seven; the value escapes. */
function reader(label: string, read: (at: number) => unknown, expected: Record<string, VariableValue>): Contender {
  let at = 0;
  return {
    label,
    fn: () => {
      at = at === COUNT - 1 ? 0 : at + 1;
      do_not_optimize(read(at));
    },
    check: () => {
      for (let i = 0; i < COUNT; i++) assertEqual(read(i), expected[MIXED_NAMES[i] as string], `${label} reads ${MIXED_NAMES[i]}`);
    },
  };
}

export async function peersReadByNameCase(): Promise<Case> {
  const { wasm, js, signals, $params, lru, plain, initial } = await peers();
  const name = (at: number) => MIXED_NAMES[at] as string;
  return {
    id: 'peers-read-by-name',
    title: 'peers: read by name, the 7 mixed variables in turn, value escapes',
    contenders: [
      reader(WASM, (at) => wasm.getVariable(name(at)), initial),
      reader(JS, (at) => js.getVariable(name(at)), initial),
      reader(PREACT, (at) => (signals[name(at)] as Signal<VariableValue>).value, initial),
      reader(NANO, (at) => $params.get()[name(at)], initial),
      reader(LRU, (at) => lru.get(name(at)), initial),
      reader(PLAIN, (at) => plain[name(at)], initial),
    ],
    targets: aheadOf([PREACT, NANO, LRU, PLAIN]),
    note: `getVariable(name); signals[name].value; $map.get()[name]; cache.get(name); object[name]. ${UNCHECKED}`,
  };
}

export async function peersReadByHandleCase(): Promise<Case> {
  const { wasm, js, signals, initial } = await peers();
  const wasmRefs = MIXED_NAMES.map((name) => wasm.ref(name));
  const jsRefs = MIXED_NAMES.map((name) => js.ref(name));
  const handles = MIXED_NAMES.map((name) => signals[name] as Signal<VariableValue>);
  return {
    id: 'peers-read-by-handle',
    title: 'peers: read through a handle held by the caller, the 7 mixed variables in turn, value escapes',
    contenders: [
      reader(WASM, (at) => wasmRefs[at]?.get(), initial),
      reader(JS, (at) => jsRefs[at]?.get(), initial),
      reader(PREACT, (at) => handles[at]?.value, initial),
    ],
    targets: aheadOf([PREACT]),
    note: `ref.get(); the signal itself (signal.value). A nanostores map, lru-cache and a plain object have no per-variable handle: they are read by key only (peers-read-by-name). ${UNCHECKED}`,
  };
}

/** The values each pass writes, by position in MIXED_NAMES: no lookup or allocation in the measured call. */
const WRITES = MIXED_UPDATES.map((update) => MIXED_NAMES.map((name) => update[name] as VariableValue));

/** A contender writing variable `at` on each call, cycling through the seven; each write changes the value. */
function writer(
  label: string,
  write: (name: string, value: VariableValue) => void,
  read: (name: string) => unknown,
  version?: (name: string) => number,
): Contender {
  let at = 0;
  let turn = 0;
  /** Moves to the next write of the cycle: on each new pass the other update's values, so no write repeats the value it replaces. */
  const advance = () => {
    if (++at === COUNT) {
      at = 0;
      turn ^= 1;
    }
  };
  return {
    label,
    fn: () => {
      advance();
      write(MIXED_NAMES[at] as string, WRITES[turn]?.[at] as VariableValue);
    },
    // Takes turns of the same cycle, so the timed writes that follow still change every value.
    check: () => {
      for (let i = 0; i < COUNT; i++) {
        advance();
        const name = MIXED_NAMES[at] as string;
        const value = WRITES[turn]?.[at] as VariableValue;
        const before = version?.(name) ?? 0;
        write(name, value);
        assertEqual(read(name), value, `${label} writes ${name}`);
        if (version) assertEqual(version(name), before + 1, `${label} bumps the version of ${name}`);
      }
    },
  };
}

export async function peersWriteCase(): Promise<Case> {
  const { wasm, js, signals, $params, lru, plain } = await peers();
  const signalOf = (name: string) => signals[name] as Signal<VariableValue>;
  return {
    id: 'peers-write',
    title: 'peers: write by name, the 7 mixed variables in turn',
    contenders: [
      writer(
        WASM,
        (name, value) => wasm.setVariable(name, value),
        (name) => wasm.getVariable(name),
        (name) => wasm.ref(name).version,
      ),
      writer(
        JS,
        (name, value) => js.setVariable(name, value),
        (name) => js.getVariable(name),
        (name) => js.ref(name).version,
      ),
      writer(
        PREACT,
        (name, value) => {
          signalOf(name).value = value;
        },
        (name) => signalOf(name).value,
      ),
      writer(
        NANO,
        (name, value) => $params.setKey(name, value),
        (name) => $params.get()[name],
      ),
      writer(
        LRU,
        (name, value) => lru.set(name, value),
        (name) => lru.get(name),
      ),
      writer(
        PLAIN,
        (name, value) => {
          plain[name] = value;
        },
        (name) => plain[name],
      ),
    ],
    targets: aheadOf([PREACT, NANO, LRU, PLAIN]),
    note: `setVariable(name, v); signals[name].value = v; $map.setKey(name, v); cache.set(name, v); object[name] = v. ${UNCHECKED}`,
  };
}
