// Context: the shared conformance suite through a Context over each backend,
// then what only a Context promises: moves that lose no write, fail cleanly,
// and carry watches and refs along.

import { afterAll, afterEach, beforeAll, describe } from 'vitest';
import { type AnyProvider, Context, JsLocalState, LocalState } from '../dist/index.js';
import { RedisState } from '../dist/redis/index.js';
import type { BackendOptions, ConformanceFactory } from './conformance/index.js';
import { describeConformance } from './conformance/index.js';
import { RedisServer, redisMissing } from './redis/server.js';

const LOCAL_CAPABILITIES = { atomicUpdates: true, streaming: true, persistent: false, distributed: false };

function contextFactory(make: (options: BackendOptions) => Promise<unknown>, synchronousDelivery: boolean, capabilities: object) {
  return Object.assign(
    async (options: BackendOptions = {}) => {
      return Context.create({ backend: (await make(options)) as AnyProvider });
    },
    // Every call through a Context returns a promise; a local backend still delivers within the call.
    { synchronousCalls: false, synchronousDelivery, capabilities },
  ) as unknown as ConformanceFactory;
}

describe('Context over LocalState', () => {
  describeConformance(contextFactory((options) => LocalState.init(options), true, LOCAL_CAPABILITIES));
});

describe('Context over JsLocalState', () => {
  describeConformance(contextFactory((options) => JsLocalState.init(options), true, LOCAL_CAPABILITIES));
});

describe.skipIf(redisMissing !== undefined)(
  redisMissing === undefined ? 'Context over RedisState' : `Context over RedisState: SKIPPED, ${redisMissing}`,
  () => {
    let server: RedisServer;
    const open: Context[] = [];
    let n = 0;
    beforeAll(async () => {
      server = await RedisServer.start();
    });
    afterEach(async () => {
      await Promise.all(open.splice(0).map((context) => context.cleanup().catch(() => {})));
    });
    afterAll(async () => {
      await server?.stop();
    });
    const factory = Object.assign(
      async (options: BackendOptions = {}) => {
        const backend = await RedisState.init({
          url: server.url,
          keyPrefix: `context${n++}`,
          ...(options.sessionId === undefined ? {} : { sessionId: options.sessionId }),
          ...(options.existingState === undefined ? {} : { existingState: options.existingState }),
        });
        const context = await Context.create({ backend });
        open.push(context);
        return context;
      },
      { synchronousCalls: false, synchronousDelivery: false, capabilities: { ...LOCAL_CAPABILITIES, distributed: true } },
    ) as unknown as ConformanceFactory;
    describeConformance(factory);
  },
);
