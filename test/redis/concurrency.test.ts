// One RedisState client used by concurrent calls, and watches started while
// other clients write: what awaiting the server must not break.

import { expect, it } from 'vitest';
import { RedisState } from '../../dist/redis/index.js';
import { describeWithRedis } from './server.js';

describeWithRedis('RedisState under concurrent calls', (server) => {
  it('concurrent calls never report an existing variable as not_found (near cache off)', async () => {
    const s = await RedisState.init({ url: server().url, sessionId: 'concurrent-off', nearCache: false });
    await s.registerVariable('a', 'integer', 1);
    await s.registerVariable('b', 'integer', 2);
    for (let round = 0; round < 100; round++) {
      const results = await Promise.allSettled([
        s.getVariable('a'),
        s.getVariable('b'),
        s.setVariable('a', round),
        s.getVariables(['a', 'b']),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
      expect(Object.keys((results[3] as PromiseFulfilledResult<Record<string, unknown>>).value)).toEqual(['a', 'b']);
    }
    await s.dropSession();
  });

  it('reads racing this client’s own registrations never lose a variable (near cache on)', async () => {
    const writer = await RedisState.init({ url: server().url, sessionId: 'concurrent-on' });
    await writer.registerVariable('a', 'integer', 1);
    const s = await RedisState.init({ url: server().url, sessionId: 'concurrent-on' });
    for (let i = 0; i < 100; i++) {
      const [read, , many] = await Promise.all([s.getVariable('a'), s.registerVariable(`n${i}`, 'integer', i), s.getVariables(['a'])]);
      expect(read).toBe(1);
      expect(many).toEqual({ a: 1 });
    }
    await s.cleanup();
    await writer.dropSession();
  });

  it('a watch started while another client writes gets each change after its starting state once, in order', async () => {
    const writer = await RedisState.init({ url: server().url, sessionId: 'concurrent-watch' });
    const reader = await RedisState.init({ url: server().url, sessionId: 'concurrent-watch' });
    await writer.registerVariable('x', 'integer', 0);
    let stop = false;
    let n = 0;
    const writing = (async () => {
      while (!stop) await writer.setVariable('x', ++n);
    })();
    for (let trial = 0; trial < 30; trial++) {
      const versions: number[] = [];
      const watch = await reader.watchVariables(['x'], (event) => versions.push(event.version), { includeInitial: true });
      await new Promise((resolve) => setTimeout(resolve, 5));
      await reader.sync();
      watch.unwatch();
      // The initial event, then one per later version: no version twice, none skipped.
      for (let i = 1; i < versions.length; i++) expect(versions[i]).toBe((versions[i - 1] as number) + 1);
    }
    stop = true;
    await writing;
    await reader.cleanup();
    await writer.dropSession();
  });
});
