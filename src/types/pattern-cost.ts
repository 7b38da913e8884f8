// When native RegExp may check a pattern: only when its backtracking, in the
// worst case over every value, is provably linear with a small constant.
//
// The bound counts the nodes of the backtracking search tree of one match
// attempt, as a + b·n for a value of n UTF-16 units. A set, an anchor or a word
// boundary is one step before the rest of the pattern (the continuation); an
// alternation tries each branch before the continuation; a bounded repeat is
// unrolled into optional copies. The only unbounded repeat allowed is one over
// a single set with a constant-cost continuation: it consumes at most n
// characters, then tries the continuation at each of at most n + 1 positions.
// Anything else unbounded (a repeat of a group, two stars in sequence, a star
// inside a repeat) gets no bound, so the pattern goes to the linear engine. That
// is sound, not complete: `^\d*\.\d*$` is linear in fact but is not proven so.
//
// A pattern anchored with `^` makes one attempt (others fail at once, O(n) in
// all); any other makes up to n + 1, so it must cost a constant per attempt.

import type { PatternNode } from './pattern-syntax.js';

export interface Cost {
  readonly a: number;
  readonly b: number;
}

/** At most this many steps per UTF-16 unit of the value (native steps cost about 1 ns). */
export const MAX_STEPS_PER_UNIT = 32;
/** At most this many steps whatever the length (about 10 µs). */
export const MAX_STEPS_FIXED = 10_000;

const ACCEPT: Cost = { a: 1, b: 0 };

const plus = (x: Cost, y: Cost, extra = 0): Cost => ({ a: x.a + y.a + extra, b: x.b + y.b });
const withinBudget = (c: Cost): boolean => c.a <= MAX_STEPS_FIXED && c.b <= MAX_STEPS_PER_UNIT;

/** The steps of `node` followed by a continuation costing `next`, or undefined when unbounded or over budget. */
function steps(node: PatternNode, next: Cost): Cost | undefined {
  let cost: Cost | undefined;
  switch (node.kind) {
    case 'set':
    case 'assert':
      cost = { a: next.a + 1, b: next.b };
      break;
    case 'seq':
      cost = next;
      for (let i = node.items.length - 1; i >= 0 && cost; i--) cost = steps(node.items[i] as PatternNode, cost);
      break;
    case 'alt': {
      cost = { a: 1, b: 0 };
      for (const branch of node.branches) {
        const each = steps(branch, next);
        cost = each && plus(cost, each);
        if (!cost) break;
      }
      break;
    }
    case 'repeat':
      cost = repeatSteps(node, next);
      break;
  }
  return cost && withinBudget(cost) ? cost : undefined;
}

function repeatSteps(node: PatternNode & { kind: 'repeat' }, next: Cost): Cost | undefined {
  let tail: Cost | undefined;
  if (Number.isFinite(node.max)) {
    // Each optional copy: try the body then the rest, or the rest alone.
    tail = next;
    for (let k = node.min; k < node.max && tail; k++) {
      const once: Cost | undefined = steps(node.body, tail);
      tail = once && plus(once, next, 1);
      if (tail && !withinBudget(tail)) tail = undefined;
    }
  } else {
    if (node.body.kind !== 'set' || next.b !== 0) return undefined;
    tail = { a: 2 * (next.a + 1), b: next.a + 2 };
  }
  for (let k = 0; k < node.min && tail; k++) tail = steps(node.body, tail);
  return tail;
}

/** Whether every match must begin at the start of the value. */
function anchored(node: PatternNode): boolean {
  switch (node.kind) {
    case 'assert':
      return node.what === 'start';
    case 'seq':
      return node.items.length > 0 && anchored(node.items[0] as PatternNode);
    case 'alt':
      return node.branches.every(anchored);
    case 'repeat':
      return node.min > 0 && anchored(node.body);
    default:
      return false;
  }
}

/** The worst-case steps of a whole test(), as a + b·n, or undefined when it has no small linear bound. */
export function backtrackingCost(node: PatternNode): Cost | undefined {
  const attempt = steps(node, ACCEPT);
  if (!attempt) return undefined;
  const total = anchored(node) ? { a: attempt.a, b: attempt.b + 1 } : attempt.b === 0 ? { a: attempt.a, b: attempt.a } : undefined;
  return total && withinBudget(total) ? total : undefined;
}
