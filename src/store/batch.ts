// The shape of a batch, shared by every backend: reading the updates, and
// collecting one error per failing item in item order, so that `batch_failed`
// lists every failing item, whichever check found it, the same way everywhere.

import { type BatchItemError, batchFailed, batchItemError, describeValue, invalidArgument, StateError } from '../errors.js';
import type { Updates } from '../provider.js';

/**
 * Most items one updateVariables may hold, on every backend: the wasm table's largest batch (a test holds
 * the two equal).
 */
export const MAX_UPDATE_ITEMS = 2 ** 20;

/** The items of updateVariables, in the order given: identifiers and values side by side (no object per item). */
export interface BatchItems {
  readonly identifiers: string[];
  readonly values: unknown[];
}

export function readUpdates(updates: Updates): BatchItems {
  try {
    if (updates instanceof Map) {
      const identifiers: string[] = [];
      const values: unknown[] = [];
      for (const [key, value] of updates) {
        if (typeof key !== 'string') throw invalidArgument(`updateVariables: Map key ${describeValue(key)} is not a string`);
        identifiers.push(key);
        values.push(value);
      }
      if (identifiers.length > MAX_UPDATE_ITEMS) throw tooMany(identifiers.length);
      return { identifiers, values };
    }
    if (updates === null || typeof updates !== 'object' || Array.isArray(updates)) {
      throw invalidArgument('updateVariables: updates must be an object or a Map of identifier → value');
    }
    const record = updates as Readonly<Record<string, unknown>>;
    const identifiers = Object.keys(record);
    if (identifiers.length > MAX_UPDATE_ITEMS) throw tooMany(identifiers.length);
    const values = new Array<unknown>(identifiers.length);
    for (let i = 0; i < identifiers.length; i++) values[i] = record[identifiers[i] as string];
    return { identifiers, values };
  } catch (error) {
    if (error instanceof StateError) throw error;
    // A getter or a Proxy trap threw while the updates were read.
    throw invalidArgument(`updateVariables: the updates could not be read: ${String(error)}`);
  }
}

function tooMany(count: number): StateError {
  return invalidArgument(`updateVariables: ${count} items; a batch holds at most ${MAX_UPDATE_ITEMS}`, { rule: 'batchSize' });
}

/** Failures of a batch, kept in item order whatever order the checks ran in. */
export class BatchErrors {
  private readonly byPosition: Array<readonly [string, BatchItemError] | undefined> = [];
  count = 0;

  /** Records the failure of the item at `position`; rethrows anything that is not a StateError (a bug). */
  add(position: number, identifier: string, error: unknown): void {
    if (!(error instanceof StateError)) throw error;
    this.byPosition[position] = [identifier, batchItemError(error)];
    this.count++;
  }

  has(position: number): boolean {
    return this.byPosition[position] !== undefined;
  }

  /** Takes over the failure another collection recorded at `position`. */
  copy(position: number, from: BatchErrors): void {
    const entry = from.byPosition[position];
    if (entry === undefined) return;
    if (this.byPosition[position] === undefined) this.count++;
    this.byPosition[position] = entry;
  }

  /** `batch_failed` with every failing item, keyed by identifier as given, in item order. */
  error(total: number): StateError {
    const errors: Record<string, BatchItemError> = Object.create(null);
    for (const entry of this.byPosition) if (entry !== undefined && !(entry[0] in errors)) errors[entry[0]] = entry[1];
    return batchFailed(errors, total);
  }
}
