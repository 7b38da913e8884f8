// How a variable is written to and read from Redis: values in the export
// format's JSON encoding (NaN, ±Infinity and -0 exact), metadata as JSON, and
// an immutable descriptor (name, type, constraints) parsed and compiled once
// per variable by the same specs every backend uses.

import { quote, StateError } from '../errors.js';
import { parseId } from '../ids.js';
import { copyMetadata, type Metadata } from '../metadata.js';
import { parseConstraints, specOf, type TypeSpec, type VariableValue } from '../types/index.js';

/** A variable as a RedisState client knows it: the descriptor, and the last state it saw. */
export interface Entry {
  /** The id as JSON: the variable's field in every hash. */
  readonly eid: string;
  readonly id: string;
  readonly name: string;
  readonly spec: TypeSpec;
  /** Frozen public constraints, as given. */
  readonly constraints: unknown;
  /** Compiled constraints, for checking writes. */
  readonly rules: unknown;
  readonly order: number;
  readonly createdAt: number;
  value: VariableValue;
  version: number;
  metadata: Metadata;
  lastUpdatedAt: number;
}

export const encodeValue = (spec: TypeSpec, value: VariableValue): string => JSON.stringify(spec.encode(value));

export function decodeValue(spec: TypeSpec, text: string, eid: string): VariableValue {
  const value = spec.decode(JSON.parse(text));
  if (value === undefined) throw corrupt(eid, `its value is not a ${spec.type}`);
  return value;
}

export const encodeMetadata = (metadata: Metadata): string => JSON.stringify(metadata);

export function decodeMetadata(text: string): Metadata {
  return copyMetadata(JSON.parse(text), 'metadata from Redis');
}

/** The immutable part of a variable, as stored after `<order>|<createdAt>|`. */
export function encodeDescriptor(name: string, spec: TypeSpec, constraints: unknown): string {
  return JSON.stringify({ n: name, t: spec.type, c: spec.encodeConstraints(constraints) });
}

/** The immutable part of a variable, compiled once: what a write is validated against. */
export interface Descriptor {
  readonly eid: string;
  readonly id: string;
  readonly name: string;
  readonly spec: TypeSpec;
  readonly constraints: unknown;
  readonly rules: unknown;
  readonly order: number;
  readonly createdAt: number;
}

export function decodeDescriptor(eid: string, text: string): Descriptor {
  const first = text.indexOf('|');
  const second = text.indexOf('|', first + 1);
  const order = Number(text.slice(0, first));
  const createdAt = Number(text.slice(first + 1, second));
  const { n: name, t: type, c } = JSON.parse(text.slice(second + 1)) as { n: string; t: string; c: unknown };
  const id = JSON.parse(eid) as string;
  if (typeof name !== 'string' || parseId(id)?.name !== name) throw corrupt(eid, 'its descriptor does not match its id');
  const spec = specOf(type, name);
  const { constraints, rules } = parseConstraints(spec, spec.decodeConstraints(c), name);
  return { eid, id, name, spec, constraints, rules, order, createdAt };
}

/** A full entry from a descriptor and the fields a READ returns. */
export function entryOf(descriptor: Descriptor, value: string, version: string, metadata: string, updatedAt: string): Entry {
  return {
    ...descriptor,
    value: decodeValue(descriptor.spec, value, descriptor.eid),
    version: Number(version),
    metadata: decodeMetadata(metadata),
    lastUpdatedAt: Number(updatedAt),
  };
}

function corrupt(eid: string, why: string): StateError {
  return new StateError('invalid_export', `Redis holds a malformed variable ${quote(eid)}: ${why}`, { rule: 'redis' });
}
