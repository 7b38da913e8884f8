// Watching must not slow down what nobody watches: a set by name and through a
// ref, on an unwatched variable, with 1,000 watchers on other variables,
// against the same set in a store with no watchers. Also reports what a
// notification costs per watcher.

import { JsLocalState, LocalState } from '../dist/index.js';
import { assertEqual, type Case } from './harness.js';

const WATCHED = 1000;
const valueFor = (i: number): number => (i & 1023) / 512;

/** A store with 64 unwatched floats and, when `watchers` is set, 1,000 more floats each with its own watcher. */
async function store(Backend: typeof LocalState | typeof JsLocalState, watchers: boolean) {
  const s = await Backend.init();
  for (let i = 0; i < 64; i++) s.registerVariable(`hot_${i}`, 'float', 0, { constraints: { min: 0, max: 2 } });
  for (let i = 0; i < WATCHED; i++) {
    s.registerVariable(`watched_${i}`, 'float', 0);
    if (watchers) s.watchVariables([`watched_${i}`], () => {});
  }
  return s;
}

function setter(s: LocalState | JsLocalState, byRef: boolean): () => void {
  const names = Array.from({ length: 64 }, (_, i) => `hot_${i}`);
  const refs = names.map((name) => s.ref<number>(name));
  let i = 0;
  return byRef
    ? () => {
        i++;
        (refs[i & 63] as { set(v: number): void }).set(valueFor(i));
      }
    : () => {
        i++;
        s.setVariable(names[i & 63] as string, valueFor(i));
      };
}

function checkSet(s: LocalState | JsLocalState): () => void {
  return () => {
    const before = s.ref('hot_1').version;
    s.setVariable('hot_1', 1.5);
    assertEqual(s.getVariable('hot_1'), 1.5, 'set applied');
    assertEqual(s.ref('hot_1').version, before + 1, 'version bump');
  };
}

export async function unwatchedSetCase(byRef: boolean): Promise<Case> {
  const plain = await store(LocalState, false);
  const watched = await store(LocalState, true);
  const jsPlain = await store(JsLocalState, false);
  const jsWatched = await store(JsLocalState, true);
  const how = byRef ? 'through a ref' : 'by name';
  return {
    id: `unwatched-set-${byRef ? 'ref' : 'name'}`,
    title: `set ${how} on an unwatched variable, with and without ${WATCHED.toLocaleString()} watchers on other variables`,
    contenders: [
      { label: 'wasm, no watchers', fn: setter(plain, byRef), check: checkSet(plain) },
      { label: 'wasm, 1,000 watchers elsewhere', fn: setter(watched, byRef), check: checkSet(watched) },
      { label: 'pure-JS, no watchers', fn: setter(jsPlain, byRef), check: checkSet(jsPlain) },
      { label: 'pure-JS, 1,000 watchers elsewhere', fn: setter(jsWatched, byRef), check: checkSet(jsWatched) },
    ],
    targets: [
      { subject: 'wasm, 1,000 watchers elsewhere', baseline: 'wasm, no watchers', max: 1.05 },
      { subject: 'pure-JS, 1,000 watchers elsewhere', baseline: 'pure-JS, no watchers', max: 1.05 },
    ],
  };
}

/** A set by name on a variable with 0, 1 and 100 watchers (each callback does nothing): the per-watcher cost of a notification. */
export async function notifyCase(): Promise<Case> {
  const counts = [0, 1, 100];
  const stores = await Promise.all(
    counts.map(async (n) => {
      const s = await LocalState.init();
      s.registerVariable('t', 'float', 0, { constraints: { min: 0, max: 2 } });
      let delivered = 0;
      for (let w = 0; w < n; w++) s.watchVariables(['t'], () => void delivered++);
      return { n, s, delivered: () => delivered };
    }),
  );
  return {
    id: 'notify',
    title: 'set by name on a variable with 0, 1 and 100 watchers (wasm)',
    contenders: stores.map(({ n, s, delivered }) => {
      let i = 0;
      return {
        label: `${n} watcher${n === 1 ? '' : 's'}`,
        fn: () => {
          i++;
          s.setVariable('t', valueFor(i));
        },
        check: () => {
          const before = delivered();
          s.setVariable('t', 0.5);
          assertEqual(delivered() - before, n, 'events delivered');
        },
      };
    }),
    targets: [],
    note: 'per-watcher cost = (100 watchers − 0 watchers) / 100',
  };
}
