// The shape of a batch, shared by every backend: reading the updates, and
// collecting one error per failing item in item order, so that `batch_failed`
// lists every failing item, whichever check found it, the same way everywhere.

import { type BatchItemError, batchFailed, batchItemError, describeValue, invalidArgument, StateError } from '../errors.js';
import type { Updates } from '../provider.js';

/** The [identifier, value] pairs of updateVariables, in the order given. */
export function readPairs(updates: Updates): Array<[string, unknown]> {
  try {
    if (updates instanceof Map) {
      const pairs: Array<[string, unknown]> = [];
      for (const [key, value] of updates) {
        if (typeof key !== 'string') throw invalidArgument(`updateVariables: Map key ${describeValue(key)} is not a string`);
        pairs.push([key, value]);
      }
      return pairs;
    }
    if (updates === null || typeof updates !== 'object' || Array.isArray(updates)) {
      throw invalidArgument('updateVariables: updates must be an object or a Map of identifier → value');
    }
    const record = updates as Readonly<Record<string, unknown>>;
    return Object.keys(record).map((key) => [key, record[key]]);
  } catch (error) {
    if (error instanceof StateError) throw error;
    // A getter or a Proxy trap threw while the updates were read.
    throw invalidArgument(`updateVariables: the updates could not be read: ${String(error)}`);
  }
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

  /** `batch_failed` with every failing item, keyed by identifier as given, in item order. */
  error(total: number): StateError {
    const errors: Record<string, BatchItemError> = Object.create(null);
    for (const entry of this.byPosition) if (entry !== undefined && !(entry[0] in errors)) errors[entry[0]] = entry[1];
    return batchFailed(errors, total);
  }
}
