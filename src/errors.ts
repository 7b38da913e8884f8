// One error type at the boundary. Inside wasm a failure is a status code;
// here it becomes a StateError whose `code` is stable and whose message names
// the variable, the rule and the value.

import type { z } from 'zod';

export const ERROR_CODES = [
  'not_found',
  'already_exists',
  'unknown_type',
  'invalid_value',
  'constraint_violation',
  'invalid_argument',
  'invalid_export',
  'batch_failed',
  'out_of_memory',
  'closed',
  'watch_loop',
  'version_conflict',
  'unavailable',
  'locked',
  'corrupt_data',
  'io_error',
] as const;

export type StateErrorCode = (typeof ERROR_CODES)[number];

/** One failing item of a batch, keyed by the identifier as given. */
export interface BatchItemError {
  readonly code: StateErrorCode;
  readonly message: string;
}

export interface StateErrorDetails {
  /** The variable's name or the identifier as given, when the error concerns one. */
  readonly variable?: string;
  /** The rule that failed: `min`, `maxLength`, `type`, `schema`, … */
  readonly rule?: string;
  /** Where in an import payload the defect is, as a dotted path. */
  readonly path?: string;
  /** Per-identifier failures of a `batch_failed` error (a null-prototype object). */
  readonly errors?: Readonly<Record<string, BatchItemError>>;
  /** What led to this error (for `watch_loop`: the callbacks' own errors, as an AggregateError). */
  readonly cause?: unknown;
  /** For `version_conflict`: the version the caller expected, and the one the variable has. */
  readonly expectedVersion?: number;
  readonly actualVersion?: number;
  /** For `corrupt_data`, `io_error` and `locked`: the file concerned. */
  readonly file?: string;
  /** For `corrupt_data`: the byte offset in `file` where the damage starts. */
  readonly offset?: number;
  /** For `locked`: the process that holds the store's directory. */
  readonly pid?: number;
}

/**
 * Whether a batch is checking its items. An error made then is caught by the batch and kept only as
 * `{ code, message }` in its `batch_failed` error, so no caller ever sees its stack; capturing one
 * cost ~3.5 µs here, half of a refused batch (an optimizer refuses many). Such errors are made
 * without a stack. Only StateErrors, and never while the batch reads an object the caller gave (its
 * getters or Proxy traps are the caller's code, which may make and keep a StateError of its own).
 */
let itemChecks = false;

/**
 * @internal Sets whether StateErrors are made without a stack (see itemChecks) and returns the
 * previous setting, which the caller puts back in a finally (a getter may run another batch).
 */
export function setItemChecks(on: boolean): boolean {
  const previous = itemChecks;
  itemChecks = on;
  return previous;
}

/** Frozen intrinsics (node --frozen-intrinsics) make the assignment throw in strict code. */
function stackTraceLimitWritable(): boolean {
  return Object.getOwnPropertyDescriptor(Error, 'stackTraceLimit')?.writable === true;
}

export class StateError extends Error {
  override readonly name = 'StateError';
  readonly code: StateErrorCode;
  readonly variable: string | undefined;
  readonly rule: string | undefined;
  readonly path: string | undefined;
  readonly errors: Readonly<Record<string, BatchItemError>> | undefined;
  readonly expectedVersion: number | undefined;
  readonly actualVersion: number | undefined;
  readonly file: string | undefined;
  readonly offset: number | undefined;
  readonly pid: number | undefined;

  constructor(code: StateErrorCode, message: string, details: StateErrorDetails = {}) {
    const limit = Error.stackTraceLimit;
    const quiet = itemChecks && stackTraceLimitWritable();
    if (quiet) Error.stackTraceLimit = 0;
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    if (quiet) Error.stackTraceLimit = limit;
    this.code = code;
    this.variable = details.variable;
    this.rule = details.rule;
    this.path = details.path;
    this.errors = details.errors;
    this.expectedVersion = details.expectedVersion;
    this.actualVersion = details.actualVersion;
    this.file = details.file;
    this.offset = details.offset;
    this.pid = details.pid;
  }
}

export function invalidArgument(message: string, details: { variable?: string; rule?: string } = {}): StateError {
  return new StateError('invalid_argument', message, details);
}

export function closedError(): StateError {
  return new StateError('closed', 'This store was cleaned up; create a new one with init()');
}

/** An identifier that names no variable (or is not a string at all). */
export function notFound(identifier: unknown): StateError {
  if (typeof identifier !== 'string') {
    return invalidArgument(`identifier must be a string (an id or a name), got ${describeValue(identifier)}`, { rule: 'identifier' });
  }
  return new StateError('not_found', `No variable with id or name ${quote(identifier)}`, { variable: identifier });
}

/** registerVariable of a name some variable has. */
export function alreadyExists(name: string): StateError {
  return new StateError('already_exists', `Variable ${quote(name)} already exists`, { variable: name, rule: 'name' });
}

/** A write that named a version (ifVersion / ifVersions) the variable no longer has. */
export function versionConflict(name: string, expected: number, actual: number): StateError {
  return new StateError(
    'version_conflict',
    `Variable ${quote(name)} is at version ${actual}, not the expected ${expected}; nothing was changed`,
    { variable: name, rule: 'ifVersion', expectedVersion: expected, actualVersion: actual },
  );
}

/** One failing item of a batch, as `batch_failed` lists it. */
export function batchItemError(error: StateError): BatchItemError {
  return Object.freeze({ code: error.code, message: error.message });
}

/** The error of a batch in which any item failed: every failing item, keyed by its identifier as given. */
export function batchFailed(errors: Readonly<Record<string, BatchItemError>>, total: number): StateError {
  const failing = Object.values(errors);
  return new StateError(
    'batch_failed',
    `updateVariables: ${failing.length} of ${total} items failed, nothing was changed (first: ${failing[0]?.message ?? ''})`,
    { rule: 'atomic', errors: Object.freeze(errors) },
  );
}

/** Renders a value for an error message: short, and safe for any input. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol' || typeof value === 'function') return typeof value;
  if (value === null || value === undefined || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `array(${value.length})`;
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  return 'object';
}

/** Quotes a variable name or identifier for a message. */
export function quote(name: string): string {
  return JSON.stringify(name.length > 60 ? `${name.slice(0, 57)}...` : name);
}

/** The first issue of a failed zod parse, as a dotted path ('' at the root) and zod's message. */
export function firstIssue(error: z.ZodError): { readonly path: string; readonly message: string } {
  const issue = error.issues[0];
  return { path: issue ? issue.path.map(String).join('.') : '', message: issue?.message ?? 'malformed' };
}
