// The conformance factory for RedisState, on one server or on a cluster. Each
// store is a session of its own (its own key prefix, whatever sessionId the
// test gives), so no test sees another's data and, on a cluster, sessions
// spread over the slots. Every store is closed after each test.

import { afterEach } from 'vitest';
import { type RedisInitOptions, RedisState } from '../../dist/redis/index.js';
import type { BackendOptions, ConformanceFactory } from '../conformance/index.js';

export interface RedisFactory {
  readonly factory: ConformanceFactory;
  /** The hash tag `{<prefix>:<session>}` of every session the factory opened, in order. */
  readonly tags: string[];
}

/** `server` is read when a store is made (the server or cluster starts in beforeAll). */
export function redisFactory(prefix: string, server: () => RedisInitOptions, persistent = false): RedisFactory {
  const open: RedisState[] = [];
  const tags: string[] = [];
  let n = 0;
  afterEach(async () => {
    await Promise.all(open.splice(0).map((store) => store.cleanup()));
  });
  const factory = Object.assign(
    async (options: BackendOptions = {}) => {
      const keyPrefix = `${prefix}${n++}`;
      const store = await RedisState.init({
        ...server(),
        keyPrefix,
        ...(options.sessionId === undefined ? {} : { sessionId: options.sessionId }),
        ...(options.existingState === undefined ? {} : { existingState: options.existingState }),
      });
      open.push(store);
      tags.push(`{${encodeURIComponent(keyPrefix)}:${encodeURIComponent(store.sessionId)}}`);
      return store;
    },
    {
      synchronousCalls: false,
      synchronousDelivery: false,
      capabilities: { atomicUpdates: true, streaming: true, persistent, distributed: true },
    },
  ) as unknown as ConformanceFactory;
  return { factory, tags };
}
