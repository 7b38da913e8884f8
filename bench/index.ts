// Runs every benchmark case side by side and prints medians and target ratios.
//   npm run bench                 full run (~2–3 min)
//   npm run bench -- --json       also writes bench/results.json and bench/results.svg (chart.ts)
//   npm run bench -- --quick      the short run behind npm start (without the steps marked full)
//   npm run bench -- --only=set   cases whose id contains "set" (full steps included; --only=a,b for either)
//   npm run bench -- --only=redis the RedisState cases (they start their own redis-server)

import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { getVariablesCase, updateVariablesCase } from './batch.js';
import { writeChart } from './chart.js';
import { contextGetCase, contextRefCase, moveCase } from './context.js';
import { getByNameCase, getByRefCase, getScalingCases } from './get.js';
import {
  type Case,
  type CaseResult,
  describeBound,
  formatNs,
  formatRatio,
  printCase,
  type Report,
  runCase,
  VERDICT_WORDS,
  type Verdict,
  verdictOfResult,
} from './harness.js';
import { exportImportCase, listCase, registerCase } from './lifecycle.js';
import { memoryCase } from './memory.js';
import { mixedCases } from './mixed.js';
import { optimizerCase, withTrialRates } from './optimizer.js';
import { patternSetCase } from './pattern.js';
import { peersReadByHandleCase, peersReadByNameCase, peersWriteCase } from './peers.js';
import {
  persistBytesCase,
  persistCompactionStallCase,
  persistRecoveryCase,
  persistSetByNameCase,
  persistSetByRefCase,
  persistUpdateCase,
} from './persist.js';
import { redisCases, redisServerMissing } from './redis.js';
import { setByNameCase, setByRefCase } from './set.js';
import { notifyCase, unwatchedSetCase } from './watch.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const json = args.includes('--json');
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const minCpuTimeNs = quick ? 60e6 : 250e6;
const rounds = quick ? 2 : 3;

interface Step {
  readonly id: string;
  readonly run: () => Promise<CaseResult | CaseResult[]>;
  /** Left out of the --quick run (npm start), which must stay short. */
  readonly full?: true;
}

const QUICK_MIXED_SKIPS = ['mixed-get-integer', 'mixed-get-boolean', 'mixed-get-choice'];
const measured = (make: () => Promise<Case>) => async () => runCase(await make(), { minCpuTimeNs, rounds });
const steps: Step[] = [
  { id: 'get-by-name-100', run: measured(() => getByNameCase(100)) },
  { id: 'get-by-name-100000', run: measured(() => getByNameCase(100_000)) },
  { id: 'get-by-ref', run: measured(getByRefCase) },
  { id: 'set-by-name', run: measured(setByNameCase) },
  { id: 'set-by-ref', run: measured(setByRefCase) },
  { id: 'pattern-set', run: measured(patternSetCase) },
  { id: 'get-variables-100', run: measured(getVariablesCase) },
  { id: 'update-variables-100', run: measured(updateVariablesCase) },
  { id: 'register-10k', run: () => registerCase(quick ? 3 : 9) },
  { id: 'unwatched-set-name', run: measured(() => unwatchedSetCase(false)) },
  { id: 'unwatched-set-ref', run: measured(() => unwatchedSetCase(true)) },
  {
    id: 'notify',
    run: async () => {
      const result = await runCase(await notifyCase(), { minCpuTimeNs, rounds });
      const perWatcher = ((result.medians['100 watchers'] ?? 0) - (result.medians['0 watchers'] ?? 0)) / 100;
      return { ...result, note: `notification cost per watcher: ${formatNs(perWatcher)}` };
    },
  },
  { id: 'list-1k', run: measured(listCase) },
  { id: 'export-import', run: () => (quick ? exportImportCase(3, 30_000) : exportImportCase(5)) },
  { id: 'memory-1m', run: async () => memoryCase(quick ? 200_000 : 1_000_000) },
  {
    id: 'get-scaling',
    // Two stores of 1,000,000 variables take most of a quick run's time to build, whatever the timing.
    full: true,
    run: async () => {
      const [hot, spread] = await getScalingCases();
      return [await runCase(hot, { minCpuTimeNs, rounds }), await runCase(spread, { minCpuTimeNs, rounds })];
    },
  },
  // Integer and choice reads take the same paths as float and string reads (the wasm table, a
  // record), and boolean reads the table too: the quick run keeps one read per path.
  ...mixedCases.map(([id, make]): Step => ({ id, run: measured(make), ...(QUICK_MIXED_SKIPS.includes(id) ? { full: true } : {}) })),
  { id: 'optimizer', run: async () => withTrialRates(await runCase(await optimizerCase(), { minCpuTimeNs, rounds })) },
  { id: 'peers-read-by-name', run: measured(peersReadByNameCase) },
  { id: 'peers-read-by-handle', run: measured(peersReadByHandleCase) },
  { id: 'peers-write', run: measured(peersWriteCase) },
  { id: 'context-move-1k', run: () => moveCase(1000, quick ? 5 : 15) },
  { id: 'context-move-100k', full: true, run: () => moveCase(100_000, 3) },
  { id: 'context-get', run: measured(contextGetCase) },
  { id: 'context-ref-get', run: measured(contextRefCase) },
  {
    // RedisState against plain node-redis, on a redis-server of its own (skipped, with a note, without one).
    id: 'redis',
    run: async () => {
      const missing = redisServerMissing();
      if (missing !== undefined) {
        console.log(`\nRedis cases skipped: ${missing}`);
        return [];
      }
      const bench = await redisCases();
      try {
        const results: CaseResult[] = [];
        for (const c of bench.cases) results.push(await runCase(c, { minCpuTimeNs, rounds }));
        return results;
      } finally {
        await bench.close();
      }
    },
  },
  { id: 'persist-set-by-name', run: measured(persistSetByNameCase) },
  { id: 'persist-set-by-ref', run: measured(persistSetByRefCase) },
  { id: 'persist-update-100', run: measured(persistUpdateCase) },
  { id: 'persist-bytes', run: () => persistBytesCase(quick ? 200_000 : 1_000_000) },
  // 10M writes to journal and recover, and 1M variables to compact: the quick run scales both down.
  { id: 'persist-recovery', run: () => (quick ? persistRecoveryCase(1_000_000, 100_000) : persistRecoveryCase()) },
  { id: 'persist-compaction-stall', run: () => persistCompactionStallCase(quick ? 200_000 : 1_000_000) },
];

const selected = steps.filter((s) => (!only || only.split(',').some((part) => s.id.includes(part))) && !(quick && s.full && !only));
const results: CaseResult[] = [];
const started = Date.now();
const tty = process.stdout.isTTY;
console.log(
  `localstate-wasm benchmarks: Node ${process.version}, V8 ${process.versions.v8}, ${cpus()[0]?.model ?? 'unknown CPU'}${quick ? ' (quick)' : ''}`,
);
for (const [i, step] of selected.entries()) {
  const progress = `[${i + 1}/${selected.length}] ${step.id} …`;
  if (tty) process.stdout.write(`\r${progress}`.padEnd(60));
  else console.log(progress);
  const outcome = await step.run();
  if (tty) process.stdout.write('\r'.padEnd(61));
  for (const result of [outcome].flat()) {
    results.push(result);
    printCase(result);
  }
}

const originBars = { get: 1000, set: 5000 };
const wasmGet = results.find((r) => r.id === 'get-by-name-100')?.medians['wasm LocalState'];
const wasmSet = results.find((r) => r.id === 'set-by-name')?.medians['wasm LocalState'];
console.log('\nOrigin design bars (Elixir Agent): get < 1 µs, set < 5 µs');
if (wasmGet !== undefined) console.log(`  get by name: ${formatNs(wasmGet)} (${(originBars.get / wasmGet).toFixed(0)}× under the bar)`);
if (wasmSet !== undefined) console.log(`  set by name: ${formatNs(wasmSet)} (${(originBars.set / wasmSet).toFixed(0)}× under the bar)`);

console.log('\nSide by side (medians, per operation; memory in bytes per variable)');
for (const r of results) {
  const show = (v: number) => (r.unit === 'bytes' ? `${v.toFixed(0)} B` : formatNs(v));
  const cells = Object.entries(r.medians).map(([label, v]) => `${label} ${show(v)}`);
  const verdicts =
    r.ratios.map((t) => `${formatRatio(t.ratio)}× (${describeBound(t)}) ${VERDICT_WORDS[verdictOfResult(t)].trim()}`).join(', ') ||
    'report';
  console.log(`  ${r.id.padEnd(26)} ${verdicts.padEnd(40)} ${cells.join(' | ')}`);
}

const targets = results.flatMap((r) => r.ratios.map((t) => ({ case: r.id, ...t, verdict: verdictOfResult(t) })));
const count = (verdict: Verdict) => targets.filter((t) => t.verdict === verdict).length;
console.log(
  `\n${count('met')} of ${targets.length} targets met, ${count('tie')} tied (within their noise margin), ${count('missed')} missed, in ${((Date.now() - started) / 1000).toFixed(0)} s`,
);
for (const t of targets.filter((x) => x.verdict !== 'met')) {
  console.log(`  ${t.verdict}: ${t.case}: ${t.subject} / ${t.baseline} = ${formatRatio(t.ratio)}× (target ${describeBound(t)})`);
}

if (json) {
  const file = new URL('./results.json', import.meta.url);
  const report: Report = {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    quick,
    originBars: { getNs: originBars.get, setNs: originBars.set },
    cases: results,
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  const chart = new URL('./results.svg', import.meta.url);
  await writeChart(file, chart);
  console.log(`\nwrote ${file.pathname} and ${chart.pathname}`);
}
