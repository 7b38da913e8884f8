// How a variable is written to and read from Redis: values in the export
// format's JSON encoding (NaN, ±Infinity and -0 exact), metadata as JSON, and
// an immutable descriptor (name, type, constraints) parsed and compiled once
// per variable by the same specs every backend uses.

import { quote, StateError } from '../errors.js';
import { parseId } from '../ids.js';
import { copyMetadata, EMPTY_METADATA, type Metadata } from '../metadata.js';
import { type ParsedConstraints, parseConstraints, specOf, type TypeSpec, type VariableValue } from '../types/index.js';

/** A variable as a RedisState client knows it: the descriptor, and the last state it saw. */
export interface Entry extends Descriptor {
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
  // Most variables have none: no parse, no copy.
  if (text === '{}') return EMPTY_METADATA;
  return copyMetadata(JSON.parse(text), 'metadata from Redis');
}

/**
 * The immutable part of a variable, as stored after `<order>|<createdAt>|`. Type and constraints come
 * first, so that everything before `,"n":` (which only the structure can contain: inside a JSON string
 * a quote is escaped) is the same text for variables that share a type and constraints.
 */
export function encodeDescriptor(name: string, spec: TypeSpec, constraints: unknown): string {
  return `{"t":${JSON.stringify(spec.type)},"c":${JSON.stringify(spec.encodeConstraints(constraints))},"n":${JSON.stringify(name)}}`;
}

/** Compiled constraints by their stored text: most variables share a few constraint sets, compiled once. */
const compiled = new Map<string, ParsedConstraints>();
const MAX_COMPILED = 4096;

function compiledConstraints(key: string, type: string, encoded: unknown, name: string): ParsedConstraints {
  let parsed = compiled.get(key);
  if (parsed === undefined) {
    const spec = specOf(type, name);
    parsed = parseConstraints(spec, spec.decodeConstraints(encoded), name);
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(key, parsed);
  }
  return parsed;
}

/** The immutable part of a variable, compiled once: what a write is validated against. */
export interface Descriptor {
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
  /**
   * The descriptor exactly as the server holds it (`order|createdAt|body`). A write sends it back, and the
   * script refuses the write ('stale') unless the variable still has it: a value is checked here against
   * these rules, and an id can come back by import as another variable with other rules.
   */
  readonly text: string;
}

export function decodeDescriptor(eid: string, text: string): Descriptor {
  const first = text.indexOf('|');
  const second = text.indexOf('|', first + 1);
  const order = Number(text.slice(0, first));
  const createdAt = Number(text.slice(first + 1, second));
  const body = text.slice(second + 1);
  const { n: name, t: type, c } = JSON.parse(body) as { n: string; t: string; c: unknown };
  const id = JSON.parse(eid) as string;
  if (typeof name !== 'string' || parseId(id)?.name !== name) throw corrupt(eid, 'its descriptor does not match its id');
  const spec = specOf(type, name);
  const { constraints, rules } = compiledConstraints(body.slice(0, body.lastIndexOf(',"n":')), type, c, name);
  return { eid, id, name, spec, constraints, rules, order, createdAt, text };
}

/** A full entry from a descriptor and the stored fields (written out, not spread: one object shape for every entry). */
export function entryOf(d: Descriptor, value: string, version: string, metadata: string, updatedAt: string): Entry {
  return {
    eid: d.eid,
    id: d.id,
    name: d.name,
    spec: d.spec,
    constraints: d.constraints,
    rules: d.rules,
    order: d.order,
    createdAt: d.createdAt,
    text: d.text,
    value: decodeValue(d.spec, value, d.eid),
    version: Number(version),
    metadata: decodeMetadata(metadata),
    lastUpdatedAt: Number(updatedAt),
  };
}

function corrupt(eid: string, why: string): StateError {
  return new StateError('invalid_export', `Redis holds a malformed variable ${quote(eid)}: ${why}`, { rule: 'redis' });
}
