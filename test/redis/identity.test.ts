// A write's value is checked in this client against the variable's rules, then
// sent to a script. Between the two, the variable may be replaced: dropped and
// imported back under the same id, with another type and other constraints
// (by another client, or by caller code run while the input is read, as here,
// where the order is certain: one connection, commands in the order sent). The
// script compares the variable's stored descriptor with the one the client
// checked against and sends the write back ('stale') to be checked again,
// rather than landing a value the session's variable cannot hold (which left
// the whole session unreadable: every listing failed with invalid_export).

import { expect, it } from 'vitest';
import { JsLocalState, type StateError } from '../../dist/index.js';
import { RedisState } from '../../dist/redis/index.js';
import { describeWithRedis } from './server.js';

describeWithRedis('RedisState: a write checked against a variable that is replaced before it lands', (server) => {
  /** A snapshot holding x under the same id as a fresh session's first variable (var_x_1), as an integer with max 2. */
  async function replacement() {
    const other = await JsLocalState.init({ sessionId: 'replacement' });
    other.registerVariable('x', 'integer', 0, { constraints: { max: 2 } });
    return other.exportState();
  }

  for (const how of ['setVariable', 'ref.set', 'updateVariables'] as const) {
    it(`${how}: does not land, and the session stays readable`, async () => {
      const snapshot = await replacement();
      const a = await RedisState.init({ url: server().url, keyPrefix: 'identity' });
      await a.registerVariable('x', 'float', 1);
      const ref = await a.ref('x');
      // Sent at once, ahead of the write's script: x is gone and back as an integer with max 2.
      const swap = () => {
        void a.dropSession().catch(() => {});
        void a.importState(snapshot).catch(() => {});
      };
      const metadata = {
        get note() {
          swap();
          return 'n';
        },
      };
      let error: StateError | undefined;
      try {
        if (how === 'setVariable') await a.setVariable('x', 5.5, metadata);
        if (how === 'ref.set') await ref.set(5.5, metadata);
        if (how === 'updateVariables')
          await a.updateVariables({
            get x() {
              swap();
              return 5.5;
            },
          });
      } catch (caught) {
        error = caught as StateError;
      }
      // dropSession also closed this client: the write, sent back by the script ('stale'), ends there.
      expect(error?.code).toBe('closed');
      const b = await RedisState.init({ url: server().url, keyPrefix: 'identity', sessionId: a.sessionId });
      expect((await b.listVariables()).map((v) => [v.id, v.type, v.value, v.version])).toEqual([['var_x_1', 'integer', 0, 0]]);
      await b.dropSession();
    });
  }
});
