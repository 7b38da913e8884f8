// The benchmark cases check their own answers before they are timed. These
// tests run each cheap case's checks and one call of every contender, with no
// timing at all (speed is judged in bench/, never here).

import { expect, it } from 'vitest';
import { getVariablesCase, updateVariablesCase } from '../bench/batch.js';
import { getByNameCase, getByRefCase } from '../bench/get.js';
import { assertEqual, type Case, runCase, verdictOf } from '../bench/harness.js';
import { listCase } from '../bench/lifecycle.js';
import { mixedCases } from '../bench/mixed.js';
import { setByNameCase, setByRefCase } from '../bench/set.js';

const cheapCases: Array<() => Promise<Case>> = [
  () => getByNameCase(100),
  getByRefCase,
  setByNameCase,
  setByRefCase,
  getVariablesCase,
  updateVariablesCase,
  listCase,
  ...mixedCases.map(([, make]) => make),
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

it('every benchmark contender computes the right answer, before and after running', async () => {
  for (const make of cheapCases) {
    const c = await make();
    exercise(c, 1000);
  }
});

it('the mixed cases have the ids the bench steps run them by', async () => {
  for (const [id, make] of mixedCases) expect((await make()).id).toBe(id);
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
