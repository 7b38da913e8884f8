// The benchmark cases check their own answers before they are timed. These
// tests run each cheap case's checks and one call of every contender, with no
// timing at all (speed is judged in bench/, never here).

import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { getVariablesCase, updateVariablesCase } from '../bench/batch.js';
import { renderChart } from '../bench/chart.js';
import { getByNameCase, getByRefCase } from '../bench/get.js';
import { assertEqual, type Case, type Report, runCase, verdictOf } from '../bench/harness.js';
import { listCase } from '../bench/lifecycle.js';
import { mixedCases } from '../bench/mixed.js';
import { model, optimizerCase, optimizerOn } from '../bench/optimizer.js';
import { patternSetCase } from '../bench/pattern.js';
import { peersReadByHandleCase, peersReadByNameCase, peersWriteCase } from '../bench/peers.js';
import {
  persistBytesCase,
  persistCompactionStallCase,
  persistRecoveryCase,
  persistSetByNameCase,
  persistSetByRefCase,
  persistUpdateCase,
} from '../bench/persist.js';
import { redisCases } from '../bench/redis.js';
import { setByNameCase, setByRefCase } from '../bench/set.js';
import { JsLocalState, LocalState } from '../dist/index.js';
import { redisMissing } from './redis/server.js';

const cheapCases: Array<() => Promise<Case>> = [
  () => getByNameCase(100),
  getByRefCase,
  setByNameCase,
  setByRefCase,
  getVariablesCase,
  updateVariablesCase,
  listCase,
  ...mixedCases.map(([, make]) => make),
  peersReadByNameCase,
  peersReadByHandleCase,
  peersWriteCase,
  optimizerCase,
  patternSetCase,
  persistSetByNameCase,
  persistSetByRefCase,
  persistUpdateCase,
];

/** Checks every contender, runs it `calls` times, and checks it again, as runCase does around its timing. */
function exercise(c: Case, calls: number): void {
  expect(c.contenders.length).toBeGreaterThanOrEqual(2);
  for (const contender of c.contenders) {
    contender.check();
    for (let i = 0; i < calls; i++) contender.fn();
    contender.check();
  }
  for (const target of c.targets) {
    expect(c.contenders.map((x) => x.label)).toContain(target.subject);
    expect(c.contenders.map((x) => x.label)).toContain(target.baseline);
  }
}

/** As exercise(), for asynchronous contenders: every call and check awaited, as runCase awaits them. */
async function exerciseAsync(c: Case, calls: number): Promise<void> {
  expect(c.contenders.length).toBeGreaterThanOrEqual(2);
  for (const contender of c.contenders) {
    await contender.check();
    for (let i = 0; i < calls; i++) await contender.fn();
    await contender.check();
  }
  for (const target of c.targets) {
    expect(c.contenders.map((x) => x.label)).toContain(target.subject);
    expect(c.contenders.map((x) => x.label)).toContain(target.baseline);
  }
}

it('every benchmark contender computes the right answer, before and after running', async () => {
  for (const make of cheapCases) {
    const c = await make();
    // An optimizer run takes milliseconds; two show that the last timed run is checked too.
    exercise(c, c.id === 'optimizer' ? 2 : 1000);
  }
});

it('the mixed cases have the ids the bench steps run them by', async () => {
  for (const [id, make] of mixedCases) expect((await make()).id).toBe(id);
});

it('the optimizer makes improvements, refused writes and checkpoints, and both backends end where the model does', async () => {
  const expected = model();
  // A model that never improves or never refuses would make the comparison vacuous.
  expect(expected.events).toBeGreaterThan(20);
  expect(Object.values(expected.refusals).reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
  expect(Object.keys(expected.refusals).sort()).toEqual([
    'max_tokens invalid_value',
    'strategy constraint_violation',
    'temperature constraint_violation',
  ]);
  expect(new Set(Object.values(expected.versions)).size).toBeGreaterThan(2);
  for (const Backend of [LocalState, JsLocalState]) {
    const run = await optimizerOn(Backend);
    expect(run()).toEqual(expected);
    expect(run()).toEqual(expected); // a second run on the same store starts from the same state
  }
});

it('a contender that computes a wrong answer is refused before timing', async () => {
  const wrong: Case = {
    id: 'wrong',
    title: 'a wrong answer',
    targets: [],
    contenders: [
      {
        label: 'wrong',
        fn: () => 41,
        check: () => assertEqual(41, 42, 'the answer'),
      },
    ],
  };
  await expect(runCase(wrong)).rejects.toThrow('benchmark check failed: the answer');
});

it.skipIf(redisMissing !== undefined)(
  redisMissing === undefined
    ? 'every Redis benchmark contender computes the right answer, before and after running'
    : `Redis benchmark contenders: SKIPPED, ${redisMissing}`,
  async () => {
    const bench = await redisCases();
    try {
      expect(bench.cases.map((c) => c.id)).toEqual(['redis-get', 'redis-set', 'redis-update-100']);
      for (const c of bench.cases) await exerciseAsync(c, 100);
    } finally {
      await bench.close();
    }
  },
);

it('an asynchronous contender whose answer is wrong is refused before timing', async () => {
  const wrong: Case = {
    id: 'wrong-async',
    title: 'a wrong answer, known only once a promise settles',
    targets: [],
    contenders: [
      {
        label: 'wrong',
        fn: async () => 41,
        check: async () => assertEqual(await Promise.resolve(41), 42, 'the awaited answer'),
        roundTrip: true,
      },
    ],
  };
  await expect(runCase(wrong)).rejects.toThrow('benchmark check failed: the awaited answer');
});

it('a ratio within the tie margin of its bound, on either side, is a tie; outside it, met or missed', () => {
  const target = { subject: 'a', baseline: 'b', max: 1, tie: 0.05 };
  expect([0.9, 0.96, 1, 1.04, 1.06, Number.NaN].map((ratio) => verdictOf(target, ratio))).toEqual([
    'met',
    'tie',
    'tie',
    'tie',
    'missed',
    'missed',
  ]);
  // Without a margin the bound itself is met, as before ties existed.
  expect([1, 1.01].map((ratio) => verdictOf({ subject: 'a', baseline: 'b', max: 1 }, ratio))).toEqual(['met', 'missed']);
});

it('the chart draws every case and contender of the committed results, within the README width', async () => {
  const report = JSON.parse(readFileSync(new URL('../bench/results.json', import.meta.url), 'utf8')) as Report;
  const svg = await renderChart(report);
  const width = Number(/<svg[^>]* width="(\d+)"/.exec(svg)?.[1]);
  expect(width).toBeGreaterThan(0);
  expect(width).toBeLessThanOrEqual(900);
  for (const r of report.cases) {
    expect(svg).toContain(`${r.id}: `);
    for (const label of Object.keys(r.medians))
      expect(svg).toContain(`>${label.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')}<`);
  }
});

it('the persistence cases measure what they say, at small sizes: bytes per write, recovery, a compaction under writes', async () => {
  const bytes = await persistBytesCase(20_000);
  for (const perWrite of Object.values(bytes.medians)) {
    expect(perWrite).toBeGreaterThanOrEqual(13); // a SET record
    expect(perWrite).toBeLessThan(24);
  }
  const recovery = await persistRecoveryCase(50_000, 1000);
  expect(Object.keys(recovery.medians)).toEqual(['wasm LocalState', 'pure-JS JsLocalState']);
  expect(recovery.note).toMatch(/M records\/s/);
  // The case itself checks that the compaction ran and that the snapshot holds every variable.
  const stall = await persistCompactionStallCase(2000);
  expect(stall.medians['during compaction']).toBeGreaterThan(0);
  expect(stall.ratios).toHaveLength(1);
}, 120_000);
