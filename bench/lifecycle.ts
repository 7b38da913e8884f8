// Whole-store operations: registering 10k variables, listing 1k, and moving
// 100k through exportState → JSON → importState. Each needs a fresh store per
// trial, so these are timed as whole runs (median of several) rather than by
// mitata's per-call loop.

import { do_not_optimize } from 'mitata';
import { JsLocalState, LocalState } from '../dist/index.js';
import { assertEqual, type Case, type CaseResult, judge } from './harness.js';
import { floatStores, nameOf } from './stores.js';

type Backend = typeof LocalState | typeof JsLocalState;
const BACKENDS: ReadonlyArray<[string, Backend]> = [
  ['wasm LocalState', LocalState],
  ['pure-JS JsLocalState', JsLocalState],
];

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function timeRuns(trials: number, setup: () => Promise<() => void>): Promise<{ median: number; max: number }> {
  const times: number[] = [];
  for (let t = 0; t < trials; t++) {
    const run = await setup();
    const start = process.hrtime.bigint();
    run();
    times.push(Number(process.hrtime.bigint() - start));
  }
  return { median: median(times), max: Math.max(...times) };
}

export async function registerCase(trials = 9): Promise<CaseResult> {
  const N = 10_000;
  const medians: Record<string, number> = {};
  const p99: Record<string, number> = {};
  for (const [label, Backend] of BACKENDS) {
    const { median: m, max } = await timeRuns(trials, async () => {
      const store = await Backend.init();
      return () => {
        for (let i = 0; i < N; i++) store.registerVariable(nameOf(i), i % 2 ? 'float' : 'integer', i, { constraints: { min: 0 } });
        assertEqual(store.getVariable(nameOf(N - 1)), N - 1, 'last registered');
      };
    });
    medians[label] = m / N;
    p99[label] = max / N;
  }
  return { id: 'register-10k', title: 'registerVariable, 10,000 numeric (per variable)', medians, p99, ratios: [], note: 'report only' };
}

export async function listCase(): Promise<Case> {
  const { wasm, js } = await floatStores(1000);
  const check = (store: LocalState | JsLocalState) => () => {
    const list = store.listVariables();
    assertEqual(list.length, 1000, 'list length');
    assertEqual(list[999]?.value, 0.999, 'last value');
  };
  return {
    id: 'list-1k',
    title: 'listVariables of 1,000',
    contenders: [
      { label: 'wasm LocalState', fn: () => do_not_optimize(wasm.listVariables()), check: check(wasm) },
      { label: 'pure-JS JsLocalState', fn: () => do_not_optimize(js.listVariables()), check: check(js) },
    ],
    targets: [],
    note: 'report only',
  };
}

export async function exportImportCase(trials = 5, N = 100_000): Promise<CaseResult> {
  const { wasm, js } = await floatStores(N);
  const sources: Record<string, LocalState | JsLocalState> = { 'wasm LocalState': wasm, 'pure-JS JsLocalState': js };
  const medians: Record<string, number> = {};
  const p99: Record<string, number> = {};
  for (const [label, Backend] of BACKENDS) {
    const source = sources[label] as LocalState | JsLocalState;
    const { median: m, max } = await timeRuns(trials, async () => {
      const target = await Backend.init();
      return () => {
        target.importState(JSON.parse(JSON.stringify(source.exportState())));
        assertEqual(target.getVariable(nameOf(N - 1)), source.getVariable(nameOf(N - 1)), 'imported value');
      };
    });
    medians[label] = m;
    p99[label] = max;
  }
  const ratio = (medians['wasm LocalState'] as number) / (medians['pure-JS JsLocalState'] as number);
  return {
    id: `export-import-${N / 1000}k`,
    title: `exportState + JSON + importState, ${N.toLocaleString()} numeric (whole run)`,
    medians,
    p99,
    ratios: [judge({ subject: 'wasm LocalState', baseline: 'pure-JS JsLocalState', max: 1 }, ratio)],
  };
}
