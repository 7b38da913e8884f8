// Watching variables. A write to a variable nobody watches pays one flag
// check; everything here runs only for watched variables. Events are
// delivered synchronously after the write commits, in watcher registration
// order; writes made by callbacks are queued and delivered in later rounds,
// and a runaway feedback loop stops after MAX_DELIVERY_ROUNDS.

import { StateError } from './errors.js';
import type { Metadata } from './metadata.js';
import type { VariableValue } from './types/index.js';

export type WatchEventKind = 'initial' | 'set' | 'delete';

export interface WatchEvent {
  readonly id: string;
  readonly name: string;
  /** The identifier as given to watchVariables. */
  readonly identifier: string;
  readonly oldValue: VariableValue | undefined;
  readonly newValue: VariableValue | undefined;
  readonly version: number;
  readonly metadata: Metadata;
  readonly kind: WatchEventKind;
}

export interface WatchOptions {
  /** Deliver the current values once, as `initial` events, before watchVariables returns. */
  readonly includeInitial?: boolean;
  /** Called with (oldValue, newValue) for every event; the event is delivered only when it returns true. */
  readonly filter?: (oldValue: VariableValue | undefined, newValue: VariableValue | undefined) => boolean;
  /** Unwatches when aborted. */
  readonly signal?: AbortSignal;
  /**
   * Receives what this watch's callback (or filter) throws. Without it, errors from one delivery are
   * collected and rethrown as one AggregateError by the call that caused the delivery, after every
   * watcher has had its event; the write stands either way.
   */
  readonly onError?: (error: unknown, event: WatchEvent) => void;
}

export interface Watch {
  readonly id: string;
  /** Stops the watch; calling it again does nothing. */
  unwatch(): void;
}

export interface WatcherInfo {
  readonly id: string;
  /** The identifiers still watched, as given. */
  readonly identifiers: readonly string[];
  readonly createdAt: number;
}

/** Rounds of callback-triggered writes delivered before a feedback loop is stopped. */
export const MAX_DELIVERY_ROUNDS = 100;
/**
 * Changes delivered by one outermost write before a feedback loop is stopped. Rounds alone do not
 * bound the work: two watchers that each write back double the writes every round.
 */
export const MAX_DELIVERED_CHANGES = 100_000;

/** @internal One watcher's interest in one variable (a record, or a numeric code). */
export interface Subscription {
  readonly watcher: Watcher;
  readonly identifier: string;
  readonly target: unknown;
  /** The variable's id and name, fixed for its life: computed once here, not per notification. */
  readonly id: string;
  readonly name: string;
}

/** @internal */
export class Watcher implements Watch {
  active = true;
  /**
   * Set when the watcher ended because its last variable was deleted: it still gets the events of
   * writes that committed while it was subscribed (that delete included). An unwatch drops them.
   */
  endedByDelete = false;
  /** Subscriptions still live, one per watched variable, in the order given. */
  readonly subscriptions: Subscription[] = [];
  abortListener: (() => void) | undefined;

  constructor(
    readonly id: string,
    readonly callback: (event: WatchEvent) => void,
    readonly options: WatchOptions,
    readonly createdAt: number,
    private readonly stop: (watcher: Watcher) => void,
  ) {}

  unwatch(): void {
    this.stop(this);
  }

  info(): WatcherInfo {
    return { id: this.id, identifiers: this.subscriptions.map((s) => s.identifier), createdAt: this.createdAt };
  }
}

/** @internal A change to one variable, to be fanned out to its subscriptions. */
export interface Change {
  readonly subscriptions: readonly Subscription[];
  readonly id: string;
  readonly name: string;
  readonly oldValue: VariableValue | undefined;
  readonly newValue: VariableValue | undefined;
  readonly version: number;
  readonly metadata: Metadata;
  readonly kind: WatchEventKind;
}

/** @internal Delivers changes in rounds; re-entrant writes join the next round. */
export class Dispatcher {
  private pending: Change[] = [];
  private delivering = false;

  /** Queues changes and, unless a delivery is already running, delivers until nothing is pending. */
  deliver(changes: readonly Change[]): void {
    for (const change of changes) this.pending.push(change);
    if (this.delivering) return;
    this.delivering = true;
    const errors: unknown[] = [];
    let rounds = 0;
    let delivered = 0;
    try {
      while (this.pending.length > 0) {
        const tooDeep = ++rounds > MAX_DELIVERY_ROUNDS;
        if (tooDeep || delivered > MAX_DELIVERED_CHANGES) {
          const dropped = this.pending.length;
          this.pending = [];
          const bound = tooDeep ? `for ${MAX_DELIVERY_ROUNDS} rounds` : `for ${MAX_DELIVERED_CHANGES} changes`;
          throw new StateError(
            'watch_loop',
            `Watch callbacks kept writing watched variables ${bound}; stopped with ${dropped} notifications undelivered (every write made so far stands)`,
            {
              rule: tooDeep ? 'maxDeliveryRounds' : 'maxDeliveredChanges',
              // Callback errors collected before the loop was stopped are not lost.
              ...(errors.length > 0 ? { cause: new AggregateError(errors, `${errors.length} watch callback(s) threw`) } : {}),
            },
          );
        }
        const round = this.pending;
        this.pending = [];
        for (const change of round) {
          if (++delivered > MAX_DELIVERED_CHANGES) {
            this.pending = round.slice(round.indexOf(change)).concat(this.pending);
            break;
          }
          this.fanOut(change, errors);
        }
      }
    } finally {
      this.delivering = false;
    }
    if (errors.length > 0) {
      throw new AggregateError(errors, `${errors.length} watch callback(s) threw; the writes that triggered them stand`);
    }
  }

  private fanOut(change: Change, errors: unknown[]): void {
    for (const subscription of change.subscriptions) {
      const watcher = subscription.watcher;
      if (!watcher.active && !watcher.endedByDelete) continue;
      const event: WatchEvent = {
        id: change.id,
        name: change.name,
        identifier: subscription.identifier,
        oldValue: change.oldValue,
        newValue: change.newValue,
        version: change.version,
        metadata: change.metadata,
        kind: change.kind,
      };
      try {
        const filter = watcher.options.filter;
        if (filter === undefined || filter(change.oldValue, change.newValue)) watcher.callback(event);
      } catch (error) {
        const onError = watcher.options.onError;
        if (onError === undefined) errors.push(error);
        else {
          try {
            onError(error, event);
          } catch (handlerError) {
            errors.push(handlerError);
          }
        }
      }
    }
  }
}
