// The benchmark cases check their own answers before they are timed. These
// tests run each cheap case's checks and one call of every contender, with no
// timing at all (speed is judged in bench/, never here).

import { expect, it } from 'vitest';
import { getVariablesCase, updateVariablesCase } from '../bench/batch.js';
import { getByNameCase, getByRefCase } from '../bench/get.js';
import { assertEqual, type Case, runCase } from '../bench/harness.js';
import { listCase } from '../bench/lifecycle.js';
import { patternSetCase } from '../bench/pattern.js';
import { setByNameCase, setByRefCase } from '../bench/set.js';

const cheapCases: Array<() => Promise<Case>> = [
  () => getByNameCase(100),
  getByRefCase,
  setByNameCase,
  setByRefCase,
  getVariablesCase,
  updateVariablesCase,
  listCase,
  patternSetCase,
];

it('every benchmark contender computes the right answer, before and after running', async () => {
  for (const make of cheapCases) {
    const c = await make();
    expect(c.contenders.length).toBeGreaterThanOrEqual(2);
    for (const contender of c.contenders) {
      contender.check();
      for (let i = 0; i < 1000; i++) contender.fn();
      contender.check();
    }
    for (const target of c.targets) {
      expect(c.contenders.map((x) => x.label)).toContain(target.subject);
      expect(c.contenders.map((x) => x.label)).toContain(target.baseline);
    }
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
