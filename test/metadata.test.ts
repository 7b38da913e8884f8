// The metadata rules every backend shares (src/metadata.ts): what a copy
// refuses and where it says the defect is, and what a merge hands back.

import { describe, expect, it } from 'vitest';
import { StateError } from '../src/errors.js';
import { copyMetadata, EMPTY_METADATA, MAX_METADATA_DEPTH, mergeMetadata } from '../src/metadata.js';

function refusal(value: unknown): StateError {
  try {
    copyMetadata(value, 'Variable "t"');
  } catch (error) {
    if (error instanceof StateError) return error;
    throw error;
  }
  throw new Error('copyMetadata accepted it');
}

describe('copyMetadata', () => {
  it('names the path of the defect, through objects and arrays', () => {
    const error = refusal({ a: { b: [1, 2, { c: Number.NaN }] } });
    expect(error.code).toBe('invalid_argument');
    expect(error.path).toBe('metadata.a.b[2].c');
    expect(error.message).toBe('Variable "t": metadata.a.b[2].c is NaN, which JSON cannot represent');
  });

  it('names the root for a defect at the top', () => {
    expect(refusal(new Map()).path).toBe('metadata');
    expect(refusal({ f: () => 1 }).path).toBe('metadata.f');
    expect(refusal({ [Symbol('s')]: 1 }).message).toContain('has symbol keys');
  });

  it('refuses a cycle, and accepts one object reached twice without a cycle', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { back: cyclic };
    const error = refusal(cyclic);
    expect(error.path).toBe('metadata.self.back');
    expect(error.message).toContain('is a cycle');

    const shared = { x: 1 };
    const copy = copyMetadata({ left: shared, right: [shared, shared] }, 'c');
    expect(copy).toEqual({ left: { x: 1 }, right: [{ x: 1 }, { x: 1 }] });
  });

  it(`accepts nesting of ${MAX_METADATA_DEPTH} objects and refuses one more`, () => {
    const nest = (levels: number): Record<string, unknown> => {
      let value: Record<string, unknown> = {};
      for (let i = 1; i < levels; i++) value = { n: value };
      return value;
    };
    expect(() => copyMetadata(nest(MAX_METADATA_DEPTH), 'c')).not.toThrow();
    const error = refusal(nest(MAX_METADATA_DEPTH + 1));
    expect(error.message).toContain(`nests deeper than ${MAX_METADATA_DEPTH} levels`);
    expect(error.path).toBe(`metadata${'.n'.repeat(MAX_METADATA_DEPTH)}`);
  });

  it('copies deeply and freezes, keeps "__proto__" as data, and stores -0 as 0', () => {
    const input = JSON.parse('{"__proto__": {"polluted": true}, "list": [1, {"z": -0}], "zero": 0}');
    input.zero = -0;
    const copy = copyMetadata(input, 'c') as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['__proto__', 'list', 'zero']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.is(copy.zero, 0)).toBe(true);
    expect(Object.isFrozen(copy) && Object.isFrozen(copy.list)).toBe(true);
    input.list[1].z = 5;
    expect(copy.list).toEqual([1, { z: 0 }]);
  });

  it('hands out the one shared empty object for {}', () => {
    expect(copyMetadata({}, 'c')).toBe(EMPTY_METADATA);
  });
});

describe('mergeMetadata', () => {
  const frozen = (value: Record<string, unknown>) => copyMetadata(value, 'c');

  it('adds and replaces keys shallowly, base keys first', () => {
    const merged = mergeMetadata(frozen({ owner: 'a', step: 1 }), frozen({ step: 2, note: 'x' }));
    expect(merged).toEqual({ owner: 'a', step: 2, note: 'x' });
    expect(Object.keys(merged)).toEqual(['owner', 'step', 'note']);
    expect(Object.isFrozen(merged)).toBe(true);
  });

  it('returns base for nothing to add, and extra itself when extra replaces all of base', () => {
    const base = frozen({ trial: 1, score: 0.5 });
    expect(mergeMetadata(base, EMPTY_METADATA)).toBe(base);
    const extra = frozen({ trial: 2, score: 0.7 });
    expect(mergeMetadata(base, extra)).toBe(extra);
    expect(mergeMetadata(EMPTY_METADATA, extra)).toBe(extra);
  });

  it('builds a new object when the keys differ in order, so key order stays that of base', () => {
    const base = frozen({ score: 0.5, trial: 1 });
    const extra = frozen({ trial: 2, score: 0.7 });
    const merged = mergeMetadata(base, extra);
    expect(merged).not.toBe(extra);
    expect(Object.keys(merged)).toEqual(['score', 'trial']);
    expect(merged).toEqual({ score: 0.7, trial: 2 });
  });
});
