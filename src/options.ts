// Option schemas shared by every backend: zod at the edges (init, register,
// watch, conditional writes), never on the get/set path.

import { z } from 'zod';
import { firstIssue, invalidArgument, type StateError } from './errors.js';

/** `path: message` of a failed zod parse, for an invalid_argument message. */
export function zodMessage(error: z.ZodError): string {
  const { path, message } = firstIssue(error);
  return path === '' ? message : `${path}: ${message}`;
}

/** Parses `value` with `schema`, or throws invalid_argument prefixed by `context`. */
export function parseOptions<T>(schema: z.ZodType<T>, value: unknown, context: string, rule = 'options'): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidArgument(`${context}: ${zodMessage(parsed.error)}`, { rule });
  return parsed.data;
}

export const aFunction = z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', 'expected a function');

export const registerOptionsSchema = z.strictObject({
  constraints: z.unknown().optional(),
  description: z.unknown().optional(),
  metadata: z.unknown().optional(),
});

export const watchOptionsSchema = z.strictObject({
  includeInitial: z.boolean().optional(),
  filter: aFunction.optional(),
  signal: z.instanceof(AbortSignal).optional(),
  onError: aFunction.optional(),
});

/** A version a caller expects: what the variable's `version` can be. */
export const versionSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** Options of setVariable. */
export interface WriteOptions {
  /** Write only if the variable is still at this version; otherwise `version_conflict`, nothing changed. */
  readonly ifVersion?: number;
}

/** Options of updateVariables. */
export interface BatchOptions {
  /**
   * Commit only if each named variable (id or name, as given) is at that version. A variable the
   * batch does not write is a read guard. Any mismatch fails the batch (`batch_failed`, item code `version_conflict`).
   */
  readonly ifVersions?: Readonly<Record<string, number>>;
}

const writeOptionsSchema = z.strictObject({ ifVersion: versionSchema.optional() });

/** The expected version of a setVariable call, or undefined; invalid_argument for a malformed one. */
export function expectedVersion(options: unknown): number | undefined {
  if (options === undefined) return undefined;
  return (parseOptions(writeOptionsSchema, options, 'setVariable options', 'ifVersion') as WriteOptions).ifVersion;
}

/**
 * The version guards of an updateVariables call as [identifier, version] pairs, or an empty list.
 * Read with own keys only, so a key such as "__proto__" is an identifier like any other.
 */
export function versionGuards(options: unknown): Array<readonly [string, number]> {
  if (options === undefined) return [];
  const fail = (why: string): StateError => invalidArgument(`updateVariables options: ${why}`, { rule: 'ifVersions' });
  try {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) throw fail('must be an object');
    const keys = Object.keys(options);
    for (const key of keys) if (key !== 'ifVersions') throw fail(`unknown option ${JSON.stringify(key)}`);
    const guards = (options as { ifVersions?: unknown }).ifVersions;
    if (guards === undefined) return [];
    if (guards === null || typeof guards !== 'object' || Array.isArray(guards) || guards instanceof Map) {
      throw fail('ifVersions must be an object of identifier → version');
    }
    const pairs: Array<readonly [string, number]> = [];
    for (const identifier of Object.keys(guards)) {
      const version = (guards as Record<string, unknown>)[identifier];
      if (!versionSchema.safeParse(version).success) {
        throw fail(`ifVersions[${JSON.stringify(identifier)}] must be a non-negative safe integer, got ${String(version)}`);
      }
      pairs.push([identifier, (version as number) + 0]);
    }
    return pairs;
  } catch (error) {
    if (error instanceof Error && error.name === 'StateError') throw error;
    // A getter or a Proxy trap threw while the options were read.
    throw fail(`could not be read: ${String(error)}`);
  }
}

/** When journal writes reach the disk (see the README's Persistence section). */
export type FsyncMode = 'always' | 'everysec' | 'no';

export interface PersistOptions {
  /** A directory the store owns: created on first use, recovered from afterwards. */
  readonly path: string;
  /** `'always'`: every write is on disk before its call returns; `'everysec'` (default): synced at least once a second; `'no'`: the OS decides. */
  readonly fsync?: FsyncMode;
  /** Open a damaged journal by keeping its valid prefix; the damaged file is moved aside as `.broken`. */
  readonly repair?: boolean;
  /** When to write a new snapshot (default: journal ≥ 64 MiB and ≥ 2× the snapshot); `false`: never. */
  readonly compaction?: { readonly minBytes?: number; readonly ratio?: number } | false;
}

export const persistOptionsSchema = z.strictObject({
  path: z.string().min(1),
  fsync: z.enum(['always', 'everysec', 'no']).optional(),
  repair: z.boolean().optional(),
  compaction: z
    .union([
      z.literal(false),
      z.strictObject({
        minBytes: z.number().int().min(0).optional(),
        ratio: z.number().positive().finite().optional(),
      }),
    ])
    .optional(),
});

export interface InitOptions {
  /** Defaults to a random `session_<uuid>`. */
  readonly sessionId?: string;
  /** A snapshot (from exportState, possibly through JSON) to import at init. */
  readonly existingState?: unknown;
  /** Cap on the wasm table's linear memory; at least one 64 KiB page. Default: 4 GiB (wasm32's limit). Ignored by JsLocalState. */
  readonly maxMemoryBytes?: number;
  /** Numeric variables to make room for up front (avoids rehashing while registering). Ignored by JsLocalState. */
  readonly initialCapacity?: number;
  /** Keep the state in a directory: recovered from it at init, every write journaled to it. */
  readonly persist?: PersistOptions;
}

const initOptionsSchema = z.strictObject({
  sessionId: z.string().min(1).optional(),
  existingState: z.unknown().optional(),
  maxMemoryBytes: z
    .number()
    .int()
    .positive()
    .max(2 ** 32)
    .optional(),
  initialCapacity: z
    .number()
    .int()
    .min(0)
    .max(2 ** 25)
    .optional(),
  persist: persistOptionsSchema.optional(),
});

/** Validates init options (zod, at the edge) or throws `invalid_argument`. */
export function parseInitOptions(options: InitOptions, who: string): InitOptions {
  return parseOptions(initOptionsSchema, options, `${who}.init`) as InitOptions;
}
