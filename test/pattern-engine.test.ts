// Which engine checks a pattern, and why that choice is safe. Native RegExp may
// only check patterns whose backtracking pattern-cost.ts bounds; these tests
// hold that bound against the corpus and against a backtracking matcher that
// counts its own steps.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePattern } from '../dist/types/pattern.js';
import { backtrackingCost } from '../dist/types/pattern-cost.js';
import { type PatternNode, readPattern } from '../dist/types/pattern-syntax.js';
import { CATASTROPHES } from './conformance/patterns.js';

const engineOf = (pattern: string | RegExp) => {
  const compiled = pattern instanceof RegExp ? compilePattern(pattern.source, pattern.flags, false) : compilePattern(pattern, '', true);
  return compiled.refused ?? compiled.engine;
};

// Quadratic or worse for a backtracking engine, though some are not in the corpus's exponential class.
const DANGEROUS = [
  '^\\d*\\d*$',
  '^[a-z]*[a-z]*$',
  'a*a*b',
  '[a-z]+$',
  '\\s+$',
  '^(?:a+){2}$',
  '^(?:[a-z]+,){0,5}$',
  '^(a|ab)*c$',
  '^(?:a|b)*$',
  '(?:x{1,64}){1,10}y',
  '^.*.*=.*$',
  '^(?:\\w{1,40}\\s?){1,20}$',
];

describe('the engine chosen for a pattern', () => {
  it('is never native for a pattern of the catastrophic corpus, nor for other known slow ones', () => {
    for (const { pattern } of CATASTROPHES) expect(engineOf(pattern), String(pattern)).toBe('linear');
    for (const pattern of DANGEROUS) expect(engineOf(pattern), pattern).toBe('linear');
  });

  it('is native for typical validation patterns', () => {
    for (const pattern of [
      '^[a-z_]{1,64}$',
      '^\\d+$',
      '^[A-Z]',
      /^[a-z]+$/i,
      'abc',
      '^\\w+@example\\.com$',
      '\\d{3}-\\d{4}',
      /^.{0,200}$/s,
    ]) {
      expect(engineOf(pattern), String(pattern)).toBe('native');
    }
    expect(engineOf(/^\p{L}+$/u)).toBe('linear'); // each engine has its own Unicode tables: one answer, the linear engine's
  });
});

// ─── a backtracking matcher that counts its steps ───────────────────────────
// It explores the tree as a backtracking engine does (alternatives in order,
// greedy or lazy repeats, an empty iteration ends a loop, as in ECMAScript) and
// counts each set, anchor and boundary it tests. If the bound were wrong for
// some pattern, a value would make this count exceed it.

const WORD = /[0-9A-Za-z_]/;
const isWord = (c: number | undefined) => c !== undefined && c < 0x80 && WORD.test(String.fromCharCode(c));

function inSet(node: PatternNode & { kind: 'set' }, c: number): boolean {
  let found = node.ranges.some(([lo, hi]) => c >= lo && c <= hi);
  for (const shared of node.escapes) {
    const hit = { '\\d': /\d/, '\\D': /\D/, '\\w': /\w/, '\\W': /\W/ }[shared]?.test(String.fromCodePoint(c)) ?? false;
    found ||= hit;
  }
  return node.negated ? !found : found;
}

function countSteps(tree: PatternNode, text: number[]): { matched: boolean; steps: number } {
  let steps = 0;
  const match = (node: PatternNode, pos: number, k: (pos: number) => boolean): boolean => {
    switch (node.kind) {
      case 'set':
        steps++;
        return pos < text.length && inSet(node, text[pos] as number) && k(pos + 1);
      case 'assert': {
        steps++;
        const ok =
          node.what === 'start'
            ? pos === 0
            : node.what === 'end'
              ? pos === text.length
              : (isWord(text[pos - 1]) !== isWord(text[pos])) === (node.what === 'word');
        return ok && k(pos);
      }
      case 'seq': {
        const from = (i: number, p: number): boolean =>
          i === node.items.length ? k(p) : match(node.items[i] as PatternNode, p, (q) => from(i + 1, q));
        return from(0, pos);
      }
      case 'alt':
        return node.branches.some((branch) => match(branch, pos, k));
      case 'repeat': {
        const loop = (count: number, p: number): boolean => {
          if (count < node.min) return match(node.body, p, (q) => loop(count + 1, q));
          const more = () => count < node.max && match(node.body, p, (q) => q !== p && loop(count + 1, q));
          return node.lazy ? k(p) || more() : more() || k(p);
        };
        return loop(0, pos);
      }
    }
  };
  for (let start = 0; start <= text.length; start++) if (match(tree, start, () => true)) return { matched: true, steps };
  return { matched: false, steps };
}

const PIECES = ['a', 'b', '[ab]', '[^a]', '.', '\\d', '\\w', '\\W', 'x', '^', '$', '\\b'];
const QUANTIFIED = ['', '', '*', '+', '?', '{0,3}', '{2}', '{1,4}', '*?', '+?'];
const piece = fc
  .tuple(fc.constantFrom(...PIECES), fc.constantFrom(...QUANTIFIED))
  .map(([p, q]) => (p === '^' || p === '$' || p === '\\b' ? p : p + q));
const generated: fc.Arbitrary<string> = fc
  .letrec<{ alt: string; seq: string; term: string }>((tie) => ({
    alt: fc.array(tie('seq'), { minLength: 1, maxLength: 3 }).map((seqs) => seqs.join('|')),
    seq: fc.array(tie('term'), { minLength: 1, maxLength: 4 }).map((terms) => terms.join('')),
    term: fc.oneof(
      { weight: 4, arbitrary: piece },
      { weight: 1, arbitrary: fc.tuple(tie('alt'), fc.constantFrom(...QUANTIFIED)).map(([body, q]) => `(?:${body})${q}`) },
    ),
  }))
  .alt.chain((p) => fc.constantFrom(p, `^(?:${p})`)); // anchored patterns are the ones that may have a star
// Values that backtracking engines find hard: a short unit repeated, then a character that breaks the match.
const hostile = fc
  .tuple(
    fc.string({ unit: fc.constantFrom('a', 'b', 'x', '1', ' '), minLength: 1, maxLength: 3 }),
    fc.integer({ min: 0, max: 300 }),
    fc.constantFrom('', '!', 'b', 'a', 'x'),
  )
  .map(([unit, times, tail]) => unit.repeat(times) + tail);

describe('the bound that lets native RegExp check a pattern', () => {
  it('holds for a counting backtracking matcher, on generated patterns and hostile values', () => {
    let bounded = 0;
    fc.assert(
      fc.property(generated, fc.array(hostile, { minLength: 1, maxLength: 6 }), (source, values) => {
        let tree: PatternNode;
        try {
          new RegExp(source);
          tree = readPattern(source, { unicode: false, dotAll: false, multiline: false });
        } catch {
          return;
        }
        const cost = backtrackingCost(tree);
        if (!cost) return;
        bounded++;
        for (const value of values) {
          const { matched, steps } = countSteps(
            tree,
            [...value].map((c) => c.codePointAt(0) as number),
          );
          expect(matched, `/${source}/ on ${JSON.stringify(value)}`).toBe(new RegExp(source).test(value));
          expect(
            steps,
            `/${source}/ on ${JSON.stringify(value)}: ${steps} steps, bound ${cost.a} + ${cost.b}·${value.length}`,
          ).toBeLessThanOrEqual(cost.a + cost.b * value.length);
        }
      }),
      { numRuns: Number(process.env.PATTERN_RUNS ?? 1000), seed: Number(process.env.PATTERN_SEED ?? 0x13) },
    );
    expect(bounded).toBeGreaterThan(100);
  });

  it('refuses the counter-examples a naive rule would accept', () => {
    // Each has at most one star, yet is slow: the star is repeated, or follows another, or the pattern is unanchored.
    for (const source of ['^(?:a*){2}$', '^a*(?:b|a*)$', 'a*$', '^(?:a*b?){3}$']) {
      expect(backtrackingCost(readPattern(source, { unicode: false, dotAll: false, multiline: false })), source).toBeUndefined();
    }
  });
});
