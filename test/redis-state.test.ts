// RedisState against a real redis-server: the shared conformance suite,
// unchanged, plus what only a shared backend promises.

import { describeConformance } from './conformance/index.js';
import { redisFactory } from './redis/factory.js';
import { describeWithRedis } from './redis/server.js';

describeWithRedis('RedisState (redis-server)', (server) => {
  // The test server runs with persistence off.
  describeConformance(redisFactory('conformance', () => ({ url: server().url })).factory);
});
