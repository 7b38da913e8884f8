// RedisState against a real redis-server: the shared conformance suite,
// unchanged, plus what only a shared backend promises.

import { afterAll, afterEach, beforeAll, describe } from 'vitest';
import { RedisState } from '../dist/redis/index.js';
import type { BackendOptions, ConformanceFactory } from './conformance/index.js';
import { describeConformance } from './conformance/index.js';
import { RedisServer, redisMissing } from './redis/server.js';

const title = redisMissing === undefined ? 'RedisState (redis-server)' : `RedisState: SKIPPED, ${redisMissing}`;

describe.skipIf(redisMissing !== undefined)(title, () => {
  let server: RedisServer;
  const open: RedisState[] = [];
  let n = 0;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((store) => store.cleanup()));
  });
  afterAll(async () => {
    await server?.stop();
  });

  // Each store is a session of its own (its own key prefix), whatever sessionId the test gives.
  const factory = Object.assign(
    async (options: BackendOptions = {}) => {
      const store = await RedisState.init({
        url: server.url,
        keyPrefix: `conformance${n++}`,
        ...(options.sessionId === undefined ? {} : { sessionId: options.sessionId }),
        ...(options.existingState === undefined ? {} : { existingState: options.existingState }),
      });
      open.push(store);
      return store;
    },
    {
      synchronousCalls: false,
      synchronousDelivery: false,
      // The test server runs with persistence off.
      capabilities: { atomicUpdates: true, streaming: true, persistent: false, distributed: true },
    },
  ) as unknown as ConformanceFactory;

  describeConformance(factory);
});
