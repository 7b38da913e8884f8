// What the conformance suite needs from a backend: the synchronous provider
// API plus refs. Each backend's test file passes a factory.

import type { StateProvider, VariableRef, VariableValue } from '../../dist/index.js';

export interface Store extends StateProvider<'sync'> {
  ref<T extends VariableValue = VariableValue>(identifier: string): VariableRef<T>;
}

export interface BackendOptions {
  sessionId?: string;
  existingState?: unknown;
  maxMemoryBytes?: number;
}

export type Factory = (options?: BackendOptions) => Promise<Store>;

/** Runs `fn` and returns the StateError code it threw (fails the test if it did not throw one). */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof Error && error.name === 'StateError') return (error as Error & { code: string }).code;
    throw error;
  }
  throw new Error('expected a StateError, but the call returned');
}

/** The error a call threw, typed loosely for assertions on its fields. */
export function errorOf(fn: () => unknown): Error & { code: string; errors?: Record<string, { code: string; message: string }> } {
  try {
    fn();
  } catch (error) {
    if (error instanceof Error) return error as Error & { code: string };
    throw error;
  }
  throw new Error('expected an error, but the call returned');
}

/** Everything observable about the store's variables, for "nothing changed" checks. */
export function observe(store: Store): unknown {
  return { list: store.listVariables(), stats: { ...store.stats() } };
}
