// What the conformance suite needs from a backend: the provider API plus refs,
// in either mode. Every test awaits every call, so the same suite runs against
// synchronous backends (values) and asynchronous ones (promises). Each
// backend's test file passes a factory that also states which in-process
// guarantees the backend gives; the tests that rest on one skip, naming it,
// where it is not given.

import { it, vi } from 'vitest';
import type { Capabilities, Mode, Result, StateProvider, VariableType, VariableValue } from '../../dist/index.js';

/**
 * A handle to one variable on a backend of mode `M`: a synchronous backend's VariableRef, or its
 * asynchronous counterpart, whose get() and set() return promises and whose `version` (a getter, which
 * cannot block) is a promise of the number. Await every member but the fixed id, name and type.
 */
export interface Ref<T extends VariableValue = VariableValue, M extends Mode = Mode> {
  readonly id: string;
  readonly name: string;
  readonly type: VariableType;
  /** Current version; `not_found` once the variable is deleted (a throw, or a rejected promise). */
  readonly version: Result<M, number>;
  get(): Result<M, T>;
  set(value: unknown, metadata?: Readonly<Record<string, unknown>>): Result<M, void>;
}

/**
 * The provider API plus refs. Without `M`, any backend: each call may return a value or a promise.
 * `ref` takes no value type here, unlike VariableRef's: TypeScript cannot match a generic ref() whose
 * results may be promises against LocalState's, and the tests need no more than VariableValue.
 */
export interface Store<M extends Mode = Mode> extends StateProvider<M> {
  ref(identifier: string): Result<M, Ref<VariableValue, M>>;
}

export interface BackendOptions {
  sessionId?: string;
  existingState?: unknown;
  maxMemoryBytes?: number;
}

/** Creates a fresh store. `Factory<'sync'>` for code that uses its results without awaiting them. */
export type Factory<M extends Mode = Mode> = (options?: BackendOptions) => Promise<Store<M>>;

/**
 * Guarantees only an in-process backend gives, beyond the contract every backend keeps. Each is
 * required, so that a backend states it rather than skipping tests by omission.
 */
export interface InProcessGuarantees {
  /** Every call returns its result, never a promise: a loop of calls never yields to the event loop. */
  readonly synchronousCalls: boolean;
  /**
   * Watch events are delivered before the call that caused them returns (or resolves), round by round
   * in the in-process order, and what a callback throws comes back to that call. Without it, events
   * arrive after the call resolves or shortly after, and `delivered` waits for them.
   */
  readonly synchronousDelivery: boolean;
}

/** What the conformance suite runs against: a factory, the guarantees it gives, and the capabilities it reports. */
export type ConformanceFactory = Factory & InProcessGuarantees & { readonly capabilities: Capabilities };

/**
 * Declares a test that rests on an in-process guarantee, for the backends that give it. Elsewhere the rule
 * does not apply as stated (an asynchronous backend's call cannot return before it yields, nor deliver
 * within it), so the test is not declared there rather than declared and skipped; the rest of the suite
 * covers those backends' own form of the rule (`delivered` waits for their events).
 */
export function itNeeds(guarantee: keyof InProcessGuarantees, factory: ConformanceFactory, name: string, test: () => Promise<void>): void {
  if (factory[guarantee]) it(name, test);
}

/** How long `delivered` waits for the events of a backend without synchronous delivery. */
const DELIVERY_TIMEOUT_MS = 2000;

/**
 * Checks what must hold once a call has returned, given what the call returned. For a value, `check`
 * runs at once, before anything the call may have queued (a microtask, a timer) can run: an `await`
 * first would hide a backend that defers what it promised to do before returning. For a promise,
 * `check` runs once it resolves.
 */
export async function returned(result: unknown, check: () => void): Promise<void> {
  if (typeof (result as PromiseLike<unknown> | undefined)?.then !== 'function') return check();
  await result;
  check();
}

/**
 * Checks what watchers have received from a call, given what the call returned. Where delivery is
 * synchronous, the events are in when the call returns, and `check` runs as `returned` runs it. Elsewhere
 * they arrive after the call resolves or shortly after, so `check` is retried until it passes or
 * DELIVERY_TIMEOUT_MS runs out; there, a check that an event did *not* arrive proves only that it had
 * not arrived yet.
 */
export async function delivered(factory: ConformanceFactory, result: unknown, check: () => void): Promise<void> {
  if (factory.synchronousDelivery) return returned(result, check);
  await result;
  await vi.waitFor(check, { timeout: DELIVERY_TIMEOUT_MS });
}

/** Runs `call` and returns the StateError code it threw or rejected with (fails the test if it did neither). */
export async function codeOf(call: () => unknown): Promise<string> {
  try {
    await call();
  } catch (error) {
    if (error instanceof Error && error.name === 'StateError') return (error as Error & { code: string }).code;
    throw error;
  }
  throw new Error('expected a StateError, but the call returned');
}

/** The error a call threw or rejected with, typed loosely for assertions on its fields. */
export async function errorOf(
  call: () => unknown,
): Promise<Error & { code: string; errors?: Record<string, { code: string; message: string }> }> {
  try {
    await call();
  } catch (error) {
    if (error instanceof Error) return error as Error & { code: string };
    throw error;
  }
  throw new Error('expected an error, but the call returned');
}

/** Everything observable about the store's variables, for "nothing changed" checks. */
export async function observe(store: Store): Promise<unknown> {
  return { list: await store.listVariables(), stats: { ...(await store.stats()) } };
}
