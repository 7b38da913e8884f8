// The export format: JSON-safe, self-describing, validated as a whole on import.
// NaN, ±Infinity and -0 travel as the strings "NaN", "Infinity", "-Infinity"
// and "-0"; a RegExp pattern as { regexp, flags }.

import { z } from 'zod';
import { firstIssue, quote, StateError } from './errors.js';
import { MAX_SERIAL, serialOf } from './ids.js';
import { copyMetadata, type JsonValue, type Metadata, setOwn } from './metadata.js';
import { parseConstraints, specOf, type TypeSpec, VARIABLE_TYPES, type VariableType, type VariableValue } from './types/index.js';

export const SNAPSHOT_FORMAT = 'localstate';
export const SNAPSHOT_FORMAT_VERSION = 1;

export interface SnapshotVariable {
  readonly id: string;
  readonly name: string;
  readonly type: VariableType;
  readonly value: unknown;
  readonly constraints: Readonly<Record<string, unknown>>;
  readonly metadata: Metadata;
  readonly version: number;
  readonly createdAt: number;
  readonly lastUpdatedAt: number;
}

export interface StateSnapshot {
  readonly format: typeof SNAPSHOT_FORMAT;
  readonly formatVersion: typeof SNAPSHOT_FORMAT_VERSION;
  readonly sessionId: string;
  /** Variables by id, in registration order. */
  readonly variables: Readonly<Record<string, SnapshotVariable>>;
  /** Name → id. */
  readonly variableIndex: Readonly<Record<string, string>>;
  /** Session-level facts (backend, creation time); informational on import. */
  readonly metadata: Readonly<Record<string, JsonValue>>;
  /** Counters at export time; informational on import. */
  readonly stats: Readonly<Record<string, number>>;
  /**
   * The serial the exporting store would give its next id. An import raises the target's to at
   * least this, so no id is generated twice across a move, not even one of a variable deleted
   * before it. Optional: exports from before it was added import as they did.
   */
  readonly nextSerial?: number;
}

/** What a backend hands to `buildSnapshot` for each variable, in registration order. */
export interface ExportItem {
  readonly id: string;
  readonly name: string;
  readonly spec: TypeSpec;
  readonly value: VariableValue;
  readonly constraints: unknown;
  readonly metadata: Metadata;
  readonly version: number;
  readonly createdAt: number;
  readonly lastUpdatedAt: number;
}

export function buildSnapshot(
  sessionId: string,
  items: Iterable<ExportItem>,
  metadata: Readonly<Record<string, JsonValue>>,
  stats: Readonly<Record<string, number>>,
  nextSerial: number,
): StateSnapshot {
  const variables: Record<string, SnapshotVariable> = {};
  const variableIndex: Record<string, string> = {};
  for (const item of items) {
    setOwn(variables, item.id, snapshotVariable(item));
    setOwn(variableIndex, item.name, item.id);
  }
  return {
    format: SNAPSHOT_FORMAT,
    formatVersion: SNAPSHOT_FORMAT_VERSION,
    sessionId,
    variables,
    variableIndex,
    metadata: { ...metadata },
    stats: { ...stats },
    nextSerial,
  };
}

/** One variable in the export format (JSON-safe). */
export function snapshotVariable(item: ExportItem): SnapshotVariable {
  return {
    id: item.id,
    name: item.name,
    type: item.spec.type,
    value: item.spec.encode(item.value),
    constraints: item.spec.encodeConstraints(item.constraints) as Record<string, unknown>,
    metadata: item.metadata,
    version: item.version,
    createdAt: item.createdAt,
    lastUpdatedAt: item.lastUpdatedAt,
  };
}

/** A variable of an import payload, decoded and validated, ready to insert. */
export interface ImportedVariable {
  readonly id: string;
  readonly serial: number;
  readonly name: string;
  readonly spec: TypeSpec;
  readonly value: VariableValue;
  readonly constraints: unknown;
  readonly rules: unknown;
  readonly metadata: Metadata;
  readonly version: number;
  readonly createdAt: number;
  readonly lastUpdatedAt: number;
}

const envelopeSchema = z.strictObject({
  format: z.literal(SNAPSHOT_FORMAT),
  formatVersion: z.literal(SNAPSHOT_FORMAT_VERSION),
  sessionId: z.string(),
  variables: z.unknown(),
  variableIndex: z.unknown(),
  metadata: z.unknown().optional(),
  stats: z.unknown().optional(),
  nextSerial: z
    .number()
    .int()
    .min(1)
    .max(MAX_SERIAL + 1)
    .optional(),
});
const variableSchema = z.strictObject({
  id: z.string().min(1),
  name: z.string().min(1),
  type: z.enum(VARIABLE_TYPES),
  value: z.unknown(),
  constraints: z.unknown(),
  metadata: z.unknown(),
  version: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  // Epoch milliseconds: integers every backend (and Redis's Lua) can carry exactly.
  createdAt: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  lastUpdatedAt: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});

function invalid(path: string, why: string): StateError {
  return new StateError('invalid_export', `Invalid export at ${path}: ${why}`, { path, rule: 'schema' });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Validates one variable of the export format stored under `key`; throws `invalid_export` naming the path. */
export function parseVariable(key: string, raw: unknown): ImportedVariable {
  const base = `variables.${key}`;
  const parsed = variableSchema.safeParse(raw);
  if (!parsed.success) {
    const { path: where, message } = firstIssue(parsed.error);
    invalidThrow(where ? `${base}.${where}` : base, message);
  }
  const v = parsed.data;
  if (v.id !== key) invalidThrow(`${base}.id`, `id ${quote(v.id)} does not match its key`);
  const serial = serialOf(v.id, v.name);
  if (serial === undefined) invalidThrow(`${base}.id`, `id must be "var_<name>_<n>" for name ${quote(v.name)}, with 1 <= n <= 2^52`);
  const spec = specOf(v.type, v.name);
  let parsedConstraints: ReturnType<typeof parseConstraints>;
  let metadata: Metadata;
  try {
    parsedConstraints = parseConstraints(spec, spec.decodeConstraints(v.constraints), v.name);
    metadata = copyMetadata(v.metadata, `Variable ${quote(v.name)}`);
  } catch (error) {
    const path = error instanceof StateError && error.path ? `${base}.${error.path}` : `${base}.constraints`;
    throw invalid(path, error instanceof Error ? error.message : String(error));
  }
  const value = spec.decode(v.value);
  if (value === undefined) invalidThrow(`${base}.value`, `not a valid ${spec.type} (${spec.expects})`);
  const violation = spec.violation(value, parsedConstraints.rules);
  if (violation) invalidThrow(`${base}.value`, `breaks ${violation.rule} (${violation.expected})`);
  return {
    id: v.id,
    serial,
    name: v.name,
    spec,
    value,
    constraints: parsedConstraints.constraints,
    rules: parsedConstraints.rules,
    metadata,
    version: v.version + 0, // -0 is a valid JSON integer; a version has no sign of zero
    createdAt: v.createdAt,
    lastUpdatedAt: v.lastUpdatedAt,
  };
}

function invalidThrow(path: string, why: string): never {
  throw invalid(path, why);
}

/**
 * Validates a whole payload: envelope, every variable (schema, id form, type,
 * constraints, value, metadata) and the name index. Throws `invalid_export`
 * naming the path of the first defect; returns the variables in payload order.
 */
export function parseSnapshot(payload: unknown): {
  readonly sessionId: string;
  readonly variables: ImportedVariable[];
  /** The lowest serial the importing store may generate next (1 when the payload does not say). */
  readonly nextSerial: number;
} {
  try {
    const envelope = envelopeSchema.safeParse(payload);
    if (!envelope.success) {
      const { path: where, message } = firstIssue(envelope.error);
      throw invalid(where || '(root)', message);
    }
    const { variables, variableIndex } = envelope.data;
    if (!isRecord(variables)) throw invalid('variables', 'must be an object keyed by id');
    if (!isRecord(variableIndex)) throw invalid('variableIndex', 'must be an object keyed by name');
    const result: ImportedVariable[] = [];
    const names = new Map<string, string>();
    for (const key of Object.keys(variables)) {
      const variable = parseVariable(key, variables[key]);
      if (names.has(variable.name)) throw invalid(`variables.${key}.name`, `name ${quote(variable.name)} appears twice`);
      names.set(variable.name, variable.id);
      result.push(variable);
    }
    const indexKeys = Object.keys(variableIndex);
    for (const name of indexKeys) {
      const id = variableIndex[name];
      if (names.get(name) !== id) throw invalid(`variableIndex.${name}`, `does not match the variable named ${quote(name)}`);
    }
    if (indexKeys.length !== names.size) throw invalid('variableIndex', `has ${indexKeys.length} names for ${names.size} variables`);
    return { sessionId: envelope.data.sessionId, variables: result, nextSerial: envelope.data.nextSerial ?? 1 };
  } catch (error) {
    if (error instanceof StateError && error.code === 'invalid_export') throw error;
    // A hostile payload (a throwing getter, a Proxy) must still end as invalid_export.
    throw invalid('(root)', error instanceof Error ? error.message : String(error));
  }
}
