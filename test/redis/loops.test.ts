// Watch callbacks that write what they watch, through Redis: the loop is
// bounded as in process, by the number of deliveries that led to a write,
// which travels with each change (so a loop across clients is bounded too).

import { expect, it } from 'vitest';
import { RedisState, type StateError } from '../../dist/redis/index.js';
import { describeWithRedis } from './server.js';

describeWithRedis('RedisState watch loops', (server) => {
  /** Resolves once `check` holds, polling (events arrive through the feed). */
  async function eventually(check: () => boolean, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline) throw new Error('timed out waiting');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  it('a watcher that writes what it watches stops with watch_loop after 100 rounds; every write stands', async () => {
    const s = await RedisState.init({ url: server().url, sessionId: 'loop-one' });
    await s.registerVariable('x', 'integer', 0);
    const errors: StateError[] = [];
    let calls = 0;
    await s.watchVariables(
      ['x'],
      (event) => {
        calls++;
        void s.setVariable('x', (event.newValue as number) + 1);
      },
      { onError: (error) => errors.push(error as StateError) },
    );
    await s.setVariable('x', 1);
    await eventually(() => errors.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await s.sync();
    expect(errors[0]?.code).toBe('watch_loop');
    // As in process: 100 rounds delivered, each writing once after the first write; nothing was undone.
    expect(calls).toBe(100);
    expect(await s.getVariable('x')).toBe(101);
    await s.dropSession();
  });

  it('two clients bouncing a value between them are stopped the same way', async () => {
    const a = await RedisState.init({ url: server().url, sessionId: 'loop-two' });
    const b = await RedisState.init({ url: server().url, sessionId: 'loop-two' });
    await a.registerVariable('ping', 'integer', 0);
    await a.registerVariable('pong', 'integer', 0);
    const errors: string[] = [];
    await a.watchVariables(['ping'], (event) => void a.setVariable('pong', event.newValue), {
      onError: (e) => errors.push((e as StateError).code),
    });
    await b.watchVariables(['pong'], (event) => void b.setVariable('ping', (event.newValue as number) + 1), {
      onError: (e) => errors.push((e as StateError).code),
    });
    await a.setVariable('ping', 1);
    await eventually(() => errors.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await a.sync();
    expect(errors[0]).toBe('watch_loop');
    const ping = (await a.getVariable('ping')) as number;
    expect(ping).toBeGreaterThan(40);
    expect(ping).toBeLessThan(60);
    await b.cleanup();
    await a.dropSession();
  });

  it('a watcher writing back through a ref is bounded the same way', async () => {
    const s = await RedisState.init({ url: server().url, sessionId: 'loop-ref' });
    await s.registerVariable('x', 'integer', 0);
    const ref = await s.ref('x');
    const errors: string[] = [];
    let calls = 0;
    await s.watchVariables(
      ['x'],
      (event) => {
        calls++;
        void ref.set((event.newValue as number) + 1);
      },
      { onError: (error) => errors.push((error as StateError).code) },
    );
    await ref.set(1);
    await eventually(() => errors.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await s.sync();
    expect(errors[0]).toBe('watch_loop');
    expect(calls).toBe(100);
    expect(await s.getVariable('x')).toBe(101);
    await s.dropSession();
  });
});
