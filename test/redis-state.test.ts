// RedisState against a real redis-server: the shared conformance suite,
// unchanged, plus what only a shared backend promises.

import { afterAll, beforeAll, describe } from 'vitest';
import { describeConformance } from './conformance/index.js';
import { redisFactory } from './redis/factory.js';
import { RedisServer, redisMissing } from './redis/server.js';

const title = redisMissing === undefined ? 'RedisState (redis-server)' : `RedisState: SKIPPED, ${redisMissing}`;

describe.skipIf(redisMissing !== undefined)(title, () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  // The test server runs with persistence off.
  describeConformance(redisFactory('conformance', () => ({ url: server.url })).factory);
});
