// The watches of one store: who watches which variable, and the events they
// get. A write to a variable nobody watches pays one check (its storage's
// subscription list, or for a numeric variable one flag); everything here runs
// only for watched variables. Delivery itself (rounds, loop bounds, errors) is
// the Dispatcher's, shared by every backend (../watch.ts).

import { invalidArgument } from '../errors.js';
import type { Metadata } from '../metadata.js';
import { parseOptions, watchOptionsSchema } from '../options.js';
import type { Storage, Target } from '../storage/storage.js';
import type { VariableValue } from '../types/index.js';
import {
  type Change,
  Dispatcher,
  type Subscription,
  type Watch,
  type WatchEvent,
  type WatchEventKind,
  Watcher,
  type WatcherInfo,
  type WatchOptions,
} from '../watch.js';

export class Watching {
  private readonly watchers = new Map<string, Watcher>();
  private nextWatcherId = 1;
  readonly dispatcher = new Dispatcher();

  constructor(private readonly storageOf: (target: Target) => Storage<Target>) {}

  /** Checks the arguments of watchVariables (zod at the edge). The watch keeps the caller's own options object. */
  static validate(identifiers: unknown, callback: unknown, options: unknown): void {
    if (!Array.isArray(identifiers) || identifiers.length === 0) {
      throw invalidArgument('watchVariables: identifiers must be a non-empty array of strings');
    }
    if (typeof callback !== 'function') throw invalidArgument('watchVariables: callback must be a function');
    parseOptions(watchOptionsSchema, options, 'watchVariables');
  }

  /** Starts a watch on resolved targets (each once, with the identifier first given for it). */
  watch(
    targets: ReadonlyArray<readonly [Target, string]>,
    callback: (event: WatchEvent) => void,
    options: WatchOptions,
    now: number,
  ): Watch {
    const watcher = new Watcher(`watch_${this.nextWatcherId++}`, callback, options, now, (w) => this.stop(w));
    const signal = options.signal;
    if (signal?.aborted) {
      watcher.active = false;
      return watcher;
    }
    for (const [target, identifier] of targets) {
      const storage = this.storageOf(target);
      const subscription: Subscription = { watcher, identifier, target, id: storage.id(target), name: storage.name(target) };
      watcher.subscriptions.push(subscription);
      const list = storage.subscriptions(target);
      if (list === undefined) storage.setSubscriptions(target, [subscription]);
      else list.push(subscription);
    }
    this.watchers.set(watcher.id, watcher);
    if (signal !== undefined) {
      watcher.abortListener = () => watcher.unwatch();
      signal.addEventListener('abort', watcher.abortListener, { once: true });
    }
    if (options.includeInitial === true) {
      const initial = watcher.subscriptions.map((subscription) => {
        const target = subscription.target as Target;
        const storage = this.storageOf(target);
        return {
          ...this.change(target, undefined, storage.value(target), storage.version(target), 'initial'),
          subscriptions: [subscription],
        };
      });
      try {
        this.dispatcher.deliver(initial);
      } catch (error) {
        // The caller gets no handle when this throws, so the watch must not outlive the call.
        this.stop(watcher);
        throw error;
      }
    }
    return watcher;
  }

  /** Stops a watch, given the object watchVariables returned or its id. Unknown or stopped: nothing happens. */
  unwatch(watch: Watch | string): void {
    const id = typeof watch === 'string' ? watch : watch?.id;
    const watcher = typeof id === 'string' ? this.watchers.get(id) : undefined;
    // Watch ids are per store: an object from another store is not this store's watch.
    if (watcher !== undefined && (typeof watch === 'string' || watcher === watch)) watcher.unwatch();
  }

  list(): WatcherInfo[] {
    return [...this.watchers.values()].map((watcher) => watcher.info());
  }

  /** What a watcher of `target` is told; undefined when nobody watches it. */
  change(
    target: Target,
    oldValue: VariableValue | undefined,
    newValue: VariableValue | undefined,
    version: number,
    kind: WatchEventKind,
  ): Change {
    const storage = this.storageOf(target);
    const subscriptions = storage.subscriptions(target) ?? [];
    const first = subscriptions[0];
    const metadata: Metadata = storage.metadata(target);
    return {
      // A copy: the variable's list may change (watch, unwatch, delete) before delivery.
      subscriptions: [...subscriptions],
      // Only the fields an event carries, with id and name cached on the subscription.
      id: first?.id ?? storage.id(target),
      name: first?.name ?? storage.name(target),
      oldValue,
      newValue,
      version,
      metadata,
      kind,
    };
  }

  /**
   * Before a watched variable is deleted: its delete event, after which that variable's part of each
   * watch ends (a watcher left with nothing to watch ends after it has had the event).
   */
  deleted(target: Target): Change | undefined {
    const storage = this.storageOf(target);
    const subscriptions = storage.subscriptions(target);
    if (subscriptions === undefined) return undefined;
    const change = this.change(target, storage.value(target), undefined, storage.version(target), 'delete');
    for (const subscription of [...subscriptions]) this.forget(subscription, true);
    return change;
  }

  /** Ends every watch (cleanup). */
  stopAll(): void {
    for (const watcher of this.watchers.values()) this.stop(watcher);
  }

  /** Removes one subscription from its variable (and its watcher), ending the watcher when nothing is left. */
  private forget(subscription: Subscription, byDelete = false): void {
    const watcher = subscription.watcher;
    const index = watcher.subscriptions.indexOf(subscription);
    if (index >= 0) watcher.subscriptions.splice(index, 1);
    const target = subscription.target as Target;
    const storage = this.storageOf(target);
    const list = storage.subscriptions(target);
    if (list !== undefined) {
      const at = list.indexOf(subscription);
      if (at >= 0) list.splice(at, 1);
      if (list.length === 0) storage.setSubscriptions(target, undefined);
    }
    if (watcher.subscriptions.length === 0) this.stop(watcher, byDelete);
  }

  private stop(watcher: Watcher, byDelete = false): void {
    if (!watcher.active) {
      // An explicit unwatch after the last delete still drops the events not yet delivered.
      if (!byDelete) watcher.endedByDelete = false;
      return;
    }
    watcher.active = false;
    watcher.endedByDelete = byDelete;
    this.watchers.delete(watcher.id);
    if (watcher.abortListener !== undefined) watcher.options.signal?.removeEventListener('abort', watcher.abortListener);
    for (const subscription of [...watcher.subscriptions]) this.forget(subscription);
  }
}
