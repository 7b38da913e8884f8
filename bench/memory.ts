// Memory per numeric variable at 1,000,000 variables: JS heap after GC plus
// wasm linear memory, each contender in its own child process so one
// cannot inherit the other's heap.
//   node --expose-gc --import tsx bench/memory.ts <wasm|js|map> [count]

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { JsLocalState, LocalState } from '../dist/index.js';
import { type CaseResult, judge } from './harness.js';
import { nameOf } from './stores.js';

const CONTENDERS = {
  wasm: 'wasm LocalState',
  js: 'pure-JS JsLocalState',
  map: 'Map<string, {value, version, …}>',
} as const;
type Which = keyof typeof CONTENDERS;

function settledHeap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

/** Bytes per variable for one contender, measured in this process. */
async function measureHere(which: Which, count: number): Promise<number> {
  const before = settledHeap();
  let keep: unknown;
  let wasmBytes = 0;
  if (which === 'map') {
    const map = new Map<string, { value: number; version: number; createdAt: number; lastUpdatedAt: number; min: number; max: number }>();
    const now = Date.now();
    for (let i = 0; i < count; i++) map.set(nameOf(i), { value: i / 2, version: 0, createdAt: now, lastUpdatedAt: now, min: 0, max: 1e9 });
    keep = map;
  } else {
    const store = which === 'wasm' ? await LocalState.init() : await JsLocalState.init();
    for (let i = 0; i < count; i++) store.registerVariable(nameOf(i), 'float', i / 2, { constraints: { min: 0, max: 1e9 } });
    if (store.getVariable(nameOf(count - 1)) !== (count - 1) / 2) throw new Error('memory bench: wrong value');
    if (store instanceof LocalState) wasmBytes = store.stats().wasmMemoryBytes;
    keep = store;
  }
  const heap = settledHeap() - before;
  if (keep === undefined) throw new Error('unreachable');
  return (heap + wasmBytes) / count;
}

/** Runs each contender in a child process and collects bytes per variable. */
export function memoryCase(count = 1_000_000): CaseResult {
  const self = fileURLToPath(import.meta.url);
  const medians: Record<string, number> = {};
  for (const which of Object.keys(CONTENDERS) as Which[]) {
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, which, String(count)], { encoding: 'utf8' });
    medians[CONTENDERS[which]] = Number(out.trim());
  }
  const ratio = (medians[CONTENDERS.wasm] as number) / (medians[CONTENDERS.js] as number);
  return {
    id: `memory-${count / 1000}k`,
    title: `memory per numeric variable at ${count.toLocaleString()} variables (bytes: JS heap after GC + wasm memory)`,
    medians,
    p99: {},
    ratios: [judge({ subject: CONTENDERS.wasm, baseline: CONTENDERS.js, max: 0.5 }, ratio)],
    unit: 'bytes',
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const which = process.argv[2] as Which;
  const count = Number(process.argv[3] ?? 1_000_000);
  process.stdout.write(`${(await measureHere(which, count)).toFixed(1)}\n`);
}
