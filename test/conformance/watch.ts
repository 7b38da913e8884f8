import { describe, expect, it } from 'vitest';
import type { Watch, WatchEvent, WatchOptions } from '../../dist/index.js';
import { type ConformanceFactory, codeOf, delivered, itNeeds, observe, returned, type Store } from './backend.js';

/** The watch API, which StateProvider makes optional: these backends have it. */
type Watching = Store & Required<Pick<Store, 'watchVariables' | 'unwatchVariables' | 'listWatchers'>>;

const brief = (e: WatchEvent) => [e.kind, e.identifier, e.oldValue, e.newValue, e.version];

// A callback cannot await what it calls on the store, so it pushes the results
// to `pending`, which the test awaits afterwards: on a synchronous backend the
// calls have already run (and a throw still reaches the callback, as before);
// on an asynchronous one this settles them, and a rejection fails the test
// rather than going unhandled. Reads made in a callback are kept the same way
// and compared once awaited.

export function watchTests(factory: ConformanceFactory): void {
  describe('watching', () => {
    async function seeded(): Promise<Watching> {
      const s = (await factory()) as Watching;
      await s.registerVariable('t', 'float', 0.5, { constraints: { min: 0, max: 2 } });
      await s.registerVariable('k', 'integer', 1);
      await s.registerVariable('p', 'string', 'a', { constraints: { maxLength: 5 } });
      return s;
    }

    it('reports streaming in capabilities', async () => {
      expect((await factory()).capabilities().streaming).toBe(true);
    });

    it('delivers set events after the write commits, with old and new value, version and metadata', async () => {
      const s = await seeded();
      const events: WatchEvent[] = [];
      const reads: Array<[read: unknown, newValue: unknown]> = [];
      const id = (await s.listVariables())[0]?.id as string;
      await s.watchVariables(['t', 'p'], (e) => {
        events.push(e);
        reads.push([s.getVariable(e.name), e.newValue]); // read in the callback: already committed
      });
      await delivered(factory, s.setVariable('t', 0.9, { reason: 'step' }), () => expect(events).toHaveLength(1));
      const p = await s.ref('p');
      await delivered(factory, p.set('b'), () => expect(events).toHaveLength(2));
      // k is not watched: its write adds nothing.
      await delivered(factory, s.setVariable('k', 2), () =>
        expect(events.map(brief)).toEqual([
          ['set', 't', 0.5, 0.9, 1],
          ['set', 'p', 'a', 'b', 1],
        ]),
      );
      expect(events[0]).toMatchObject({ id, name: 't', metadata: { reason: 'step' } });
      for (const [read, newValue] of reads) expect(await read).toEqual(newValue);
    });

    it('delivers to watchers in registration order, and keeps the identifier as given', async () => {
      const s = await seeded();
      const order: string[] = [];
      const id = (await s.listVariables())[0]?.id as string;
      await s.watchVariables(['t'], (e) => order.push(`first:${e.identifier}`));
      await s.watchVariables([id], (e) => order.push(`second:${e.identifier}`));
      await delivered(factory, s.setVariable('t', 1), () => expect(order).toEqual(['first:t', `second:${id}`]));
    });

    it('includeInitial delivers current values synchronously before watchVariables returns', async () => {
      const s = await seeded();
      const events: WatchEvent[] = [];
      // Not `delivered`: WatchOptions promises these before watchVariables returns (or resolves), on every backend.
      await returned(
        s.watchVariables(['t', 'p'], (e) => events.push(e), { includeInitial: true }),
        () =>
          expect(events.map(brief)).toEqual([
            ['initial', 't', undefined, 0.5, 0],
            ['initial', 'p', undefined, 'a', 0],
          ]),
      );
    });

    it('filter decides which events are delivered', async () => {
      const s = await seeded();
      const seen: unknown[] = [];
      await s.watchVariables(['t'], (e) => seen.push(e.newValue), {
        filter: (oldValue, newValue) => Math.abs((newValue as number) - (oldValue as number)) > 0.5,
      });
      await s.setVariable('t', 0.6);
      await delivered(factory, s.setVariable('t', 1.5), () => expect(seen).toEqual([1.5]));
      await delivered(factory, s.setVariable('t', 1.6), () => expect(seen).toEqual([1.5]));
    });

    it('watching a missing identifier throws not_found and registers nothing', async () => {
      const s = await seeded();
      const calls: WatchEvent[] = [];
      expect(await codeOf(() => s.watchVariables(['t', 'missing'], (e) => calls.push(e)))).toBe('not_found');
      expect(await s.listWatchers()).toEqual([]);
      await delivered(factory, s.setVariable('t', 1), () => expect(calls).toEqual([]));
      expect(await codeOf(() => s.watchVariables([], () => {}))).toBe('invalid_argument');
      expect(await codeOf(() => s.watchVariables(['t'], 'x' as unknown as () => void))).toBe('invalid_argument');
      expect(await codeOf(() => s.watchVariables(['t'], () => {}, { bogus: 1 } as WatchOptions))).toBe('invalid_argument');
    });

    it('unwatch by object or id stops delivery; unwatching twice is harmless', async () => {
      const s = await seeded();
      const seen: unknown[] = [];
      const a = await s.watchVariables(['t'], (e) => seen.push(`a${e.newValue}`));
      const b = await s.watchVariables(['t'], (e) => seen.push(`b${e.newValue}`));
      expect((await s.listWatchers()).map((w) => w.id)).toEqual([a.id, b.id]);
      expect((await s.listWatchers())[0]?.identifiers).toEqual(['t']);
      // Received before the unwatch, which drops whatever has not been delivered yet.
      await delivered(factory, s.setVariable('t', 1), () => expect(seen).toEqual(['a1', 'b1']));
      await a.unwatch();
      await s.unwatchVariables(b.id);
      await a.unwatch();
      await s.unwatchVariables(b);
      await s.unwatchVariables('watch_unknown');
      await delivered(factory, s.setVariable('t', 1.5), () => expect(seen).toEqual(['a1', 'b1']));
      expect(await s.listWatchers()).toEqual([]);
    });

    it('an AbortSignal unwatches', async () => {
      const s = await seeded();
      const controller = new AbortController();
      const seen: unknown[] = [];
      await s.watchVariables(['t'], (e) => seen.push(e.newValue), { signal: controller.signal });
      // Received before the abort, which drops whatever has not been delivered yet.
      await delivered(factory, s.setVariable('t', 1), () => expect(seen).toEqual([1]));
      controller.abort();
      await delivered(factory, s.setVariable('t', 1.5), () => expect(seen).toEqual([1]));
      expect(await s.listWatchers()).toEqual([]);
      await s.watchVariables(['t'], (e) => seen.push(e.newValue), { signal: controller.signal }); // already aborted
      await delivered(factory, s.setVariable('t', 0.1), () => expect(seen).toEqual([1]));
    });

    it('a batch delivers its events after the whole batch commits, in batch order; a failed batch delivers none', async () => {
      const s = await seeded();
      const seen: string[] = [];
      const reads: unknown[] = [];
      await s.watchVariables(['p', 't', 'k'], (e) => {
        seen.push(`${e.name}=${String(e.newValue)}`);
        reads.push(s.getVariables(['t', 'k', 'p'])); // read in the callback
      });
      await delivered(factory, s.updateVariables({ k: 7, t: 1.25, p: 'zz' }), () => expect(seen).toEqual(['k=7', 't=1.25', 'p=zz']));
      for (const read of reads) expect(await read).toEqual({ t: 1.25, k: 7, p: 'zz' }); // the whole batch was visible
      await expect(async () => s.updateVariables({ k: 8, t: 5 })).rejects.toThrow();
      expect(seen).toHaveLength(3); // an absence, so checking after the awaits is no weaker than at once
    });

    itNeeds(
      'synchronousDelivery',
      factory,
      'a throwing callback does not undo the write or stop other watchers; errors come back as one AggregateError',
      async () => {
        const s = await seeded();
        const seen: string[] = [];
        await s.watchVariables(['t'], () => {
          throw new Error('first fails');
        });
        await s.watchVariables(['t'], (e) => seen.push(`second ${e.newValue}`));
        await s.watchVariables(['t'], () => {
          throw new Error('third fails');
        });
        let caught: unknown;
        try {
          await s.setVariable('t', 1);
        } catch (error) {
          caught = error;
        }
        expect(caught).toBeInstanceOf(AggregateError);
        expect((caught as AggregateError).errors.map((e: Error) => e.message)).toEqual(['first fails', 'third fails']);
        expect(seen).toEqual(['second 1']);
        expect(await s.getVariable('t')).toBe(1);
        expect(await (await s.ref('t')).version).toBe(1);
      },
    );

    it('onError receives a watcher’s errors instead of the caller', async () => {
      const s = await seeded();
      const reported: string[] = [];
      await s.watchVariables(
        ['t'],
        () => {
          throw new Error('boom');
        },
        { onError: (error, event) => reported.push(`${(error as Error).message} on ${event.name}`) },
      );
      await delivered(factory, s.setVariable('t', 1), () => expect(reported).toEqual(['boom on t']));
    });

    itNeeds(
      'synchronousDelivery',
      factory,
      'callbacks may read, set, watch and unwatch; their writes are delivered after the current round, in order',
      async () => {
        const s = await seeded();
        const log: string[] = [];
        const pending: unknown[] = [];
        let inner: Watch | Promise<Watch> | undefined;
        await s.watchVariables(['t'], (e) => {
          log.push(`A t=${e.newValue}`);
          if (e.newValue === 1) {
            pending.push(s.setVariable('k', 10));
            pending.push(s.setVariable('p', 'x'));
            inner = s.watchVariables(['k'], (k) => log.push(`C k=${k.newValue}`));
          }
        });
        await s.watchVariables(['t'], (e) => log.push(`B t=${e.newValue}`));
        await s.watchVariables(['k', 'p'], (e) => log.push(`D ${e.name}=${e.newValue}`));
        // The round for t finishes (A, B) before the callback's writes are delivered, in the order made.
        await returned(s.setVariable('t', 1), () => expect(log).toEqual(['A t=1', 'B t=1', 'D k=10', 'D p=x']));
        await Promise.all(pending);
        await (await inner)?.unwatch();
        await returned(s.setVariable('k', 11), () => expect(log.at(-1)).toBe('D k=11'));
      },
    );

    itNeeds(
      'synchronousDelivery',
      factory,
      'a runaway loop (a watcher setting what it watches) stops with watch_loop, state consistent',
      async () => {
        const s = await seeded();
        let calls = 0;
        const pending: unknown[] = [];
        await s.watchVariables(['k'], (e) => {
          calls++;
          pending.push(s.setVariable('k', (e.newValue as number) + 1));
        });
        expect(await codeOf(() => s.setVariable('k', 0))).toBe('watch_loop');
        await Promise.all(pending);
        expect(calls).toBe(100);
        const k = (await s.getVariable('k')) as number;
        expect(await (await s.ref('k')).version).toBe(k + 1); // every write counted once, none lost
        expect((await s.stats()).totalUpdates).toBe(k + 1);
        await s.setVariable('p', 'ok'); // and the store goes on working
      },
    );

    itNeeds(
      'synchronousDelivery',
      factory,
      'two watchers writing back to each other stop with watch_loop too (the writes double every round)',
      async () => {
        const s = await seeded();
        const pending: unknown[] = [];
        for (let w = 0; w < 2; w++) await s.watchVariables(['k'], (e) => pending.push(s.setVariable('k', (e.newValue as number) + 1)));
        expect(await codeOf(() => s.setVariable('k', 0))).toBe('watch_loop');
        await Promise.all(pending);
        expect(await (await s.ref('k')).version).toBe((await s.stats()).totalUpdates);
        await s.setVariable('p', 'ok');
      },
    );

    it('a watch whose includeInitial delivery throws is not left behind (the caller never got its handle)', async () => {
      const s = await seeded();
      await expect(async () =>
        s.watchVariables(
          ['t'],
          () => {
            throw new Error('no');
          },
          { includeInitial: true },
        ),
      ).rejects.toThrow(AggregateError);
      expect(await s.listWatchers()).toEqual([]);
    });

    it('events of writes committed before a delete reach every watcher subscribed then', async () => {
      const s = await seeded();
      const id = (await s.listVariables())[0]?.id as string;
      const first: unknown[] = [];
      const second: unknown[] = [];
      const pending: unknown[] = [];
      await s.watchVariables(['t'], (e) => {
        first.push(brief(e));
        if (e.kind === 'set' && e.version === 1) pending.push(s.deleteVariable('t'));
      });
      await s.watchVariables(['t', 'k'], (e) => second.push(brief(e)));
      const expected = [
        ['set', 't', 0.5, 1, 1],
        ['set', 't', 1, 2, 2],
        ['delete', 't', 2, undefined, 2],
      ];
      await delivered(factory, s.updateVariables({ t: 1, [id]: 2 }), () => {
        expect(first).toEqual(expected);
        expect(second).toEqual(expected);
      });
      await Promise.all(pending);
    });

    it('deleting a watched variable sends a delete event and ends that part of the watch', async () => {
      const s = await seeded();
      const seen: unknown[] = [];
      await s.watchVariables(['t', 'k'], (e) => seen.push(brief(e)));
      await delivered(factory, s.setVariable('t', 1), () => expect(seen).toHaveLength(1));
      await delivered(factory, s.deleteVariable('t'), () => expect(seen.at(-1)).toEqual(['delete', 't', 1, undefined, 1]));
      expect((await s.listWatchers())[0]?.identifiers).toEqual(['k']);
      await s.registerVariable('t', 'float', 0.25);
      await s.setVariable('t', 0.3); // the new 't' is another variable: not watched
      await delivered(factory, s.deleteVariable('k'), () => expect(seen.at(-1)).toEqual(['delete', 'k', 1, undefined, 0]));
      expect(await s.listWatchers()).toEqual([]); // nothing left to watch: the watch ended
      expect(seen).toHaveLength(3);
    });

    itNeeds(
      'synchronousDelivery',
      factory,
      'an unwatch after the last watched variable was deleted still drops the events not yet delivered',
      async () => {
        const s = await seeded();
        const log: string[] = [];
        const pending: unknown[] = [];
        let target: Watch | undefined;
        await s.watchVariables(['k'], () => {
          pending.push(s.deleteVariable('t'));
          pending.push(target?.unwatch());
        });
        target = await s.watchVariables(['t'], (e) => log.push(e.kind));
        await s.updateVariables({ k: 2, t: 1 });
        await Promise.all(pending);
        expect(log).toEqual([]);
      },
    );

    it('unwatchVariables ignores a watch object that belongs to another store', async () => {
      const a = await seeded();
      const b = await seeded();
      const seen: unknown[] = [];
      const inA = await a.watchVariables(['t'], (e) => seen.push(e.newValue));
      const inB = await b.watchVariables(['t'], (e) => seen.push(`b${e.newValue}`));
      expect(inB.id).toBe(inA.id); // ids are per store
      await b.unwatchVariables(inA);
      // Two stores need not deliver in the order written across them: b's event is in before a is written.
      await delivered(factory, b.setVariable('t', 1), () => expect(seen).toEqual(['b1']));
      await delivered(factory, a.setVariable('t', 1.5), () => expect(seen).toEqual(['b1', 1.5]));
    });

    it('cleanup ends every watch', async () => {
      const s = await seeded();
      const seen: unknown[] = [];
      await s.watchVariables(['t'], (e) => seen.push(e));
      await s.cleanup();
      expect(seen).toEqual([]);
      expect(await codeOf(() => s.listWatchers())).toBe('closed');
      expect(await codeOf(() => s.watchVariables(['t'], () => {}))).toBe('closed');
    });

    it('watching changes nothing observable about the store', async () => {
      const s = await seeded();
      const before = await observe(s);
      const watch = await s.watchVariables(['t', 'p'], () => {}, { includeInitial: true });
      await watch.unwatch();
      expect(await observe(s)).toEqual(before);
    });
  });
}
