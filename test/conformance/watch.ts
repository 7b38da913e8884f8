import { describe, expect, it } from 'vitest';
import type { Watch, WatchEvent, WatchOptions } from '../../dist/index.js';
import { codeOf, type Factory, observe, type Store } from './backend.js';

/** The watch API, which StateProvider makes optional: these backends have it. */
type Watching = Store & {
  watchVariables(identifiers: readonly string[], callback: (event: WatchEvent) => void, options?: WatchOptions): Watch;
  unwatchVariables(watch: Watch | string): void;
  listWatchers(): Array<{ id: string; identifiers: readonly string[]; createdAt: number }>;
};

const brief = (e: WatchEvent) => [e.kind, e.identifier, e.oldValue, e.newValue, e.version];

export function watchTests(factory: Factory): void {
  describe('watching', () => {
    async function seeded(): Promise<Watching> {
      const s = (await factory()) as Watching;
      s.registerVariable('t', 'float', 0.5, { constraints: { min: 0, max: 2 } });
      s.registerVariable('k', 'integer', 1);
      s.registerVariable('p', 'string', 'a', { constraints: { maxLength: 5 } });
      return s;
    }

    it('reports streaming in capabilities', async () => {
      expect((await factory()).capabilities().streaming).toBe(true);
    });

    it('delivers set events after the write commits, with old and new value, version and metadata', async () => {
      const s = await seeded();
      const events: WatchEvent[] = [];
      const id = s.listVariables()[0]?.id as string;
      s.watchVariables(['t', 'p'], (e) => {
        events.push(e);
        expect(s.getVariable(e.name)).toEqual(e.newValue); // already committed
      });
      s.setVariable('t', 0.9, { reason: 'step' });
      s.ref('p').set('b');
      s.setVariable('k', 2); // not watched
      expect(events.map(brief)).toEqual([
        ['set', 't', 0.5, 0.9, 1],
        ['set', 'p', 'a', 'b', 1],
      ]);
      expect(events[0]).toMatchObject({ id, name: 't', metadata: { reason: 'step' } });
    });

    it('delivers to watchers in registration order, and keeps the identifier as given', async () => {
      const s = await seeded();
      const order: string[] = [];
      const id = s.listVariables()[0]?.id as string;
      s.watchVariables(['t'], (e) => order.push(`first:${e.identifier}`));
      s.watchVariables([id], (e) => order.push(`second:${e.identifier}`));
      s.setVariable('t', 1);
      expect(order).toEqual(['first:t', `second:${id}`]);
    });

    it('includeInitial delivers current values synchronously before watchVariables returns', async () => {
      const s = await seeded();
      const events: WatchEvent[] = [];
      s.watchVariables(['t', 'p'], (e) => events.push(e), { includeInitial: true });
      expect(events.map(brief)).toEqual([
        ['initial', 't', undefined, 0.5, 0],
        ['initial', 'p', undefined, 'a', 0],
      ]);
    });

    it('filter decides which events are delivered', async () => {
      const s = await seeded();
      const seen: unknown[] = [];
      s.watchVariables(['t'], (e) => seen.push(e.newValue), {
        filter: (oldValue, newValue) => Math.abs((newValue as number) - (oldValue as number)) > 0.5,
      });
      s.setVariable('t', 0.6);
      s.setVariable('t', 1.5);
      s.setVariable('t', 1.6);
      expect(seen).toEqual([1.5]);
    });

    it('watching a missing identifier throws not_found and registers nothing', async () => {
      const s = await seeded();
      const calls: WatchEvent[] = [];
      expect(codeOf(() => s.watchVariables(['t', 'missing'], (e) => calls.push(e)))).toBe('not_found');
      expect(s.listWatchers()).toEqual([]);
      s.setVariable('t', 1);
      expect(calls).toEqual([]);
      expect(codeOf(() => s.watchVariables([], () => {}))).toBe('invalid_argument');
      expect(codeOf(() => s.watchVariables(['t'], 'x' as unknown as () => void))).toBe('invalid_argument');
      expect(codeOf(() => s.watchVariables(['t'], () => {}, { bogus: 1 } as WatchOptions))).toBe('invalid_argument');
    });

    it('unwatch by object or id stops delivery; unwatching twice is harmless', async () => {
      const s = await seeded();
      const seen: unknown[] = [];
      const a = s.watchVariables(['t'], (e) => seen.push(`a${e.newValue}`));
      const b = s.watchVariables(['t'], (e) => seen.push(`b${e.newValue}`));
      expect(s.listWatchers().map((w) => w.id)).toEqual([a.id, b.id]);
      expect(s.listWatchers()[0]?.identifiers).toEqual(['t']);
      s.setVariable('t', 1);
      a.unwatch();
      s.unwatchVariables(b.id);
      a.unwatch();
      s.unwatchVariables(b);
      s.unwatchVariables('watch_unknown');
      s.setVariable('t', 1.5);
      expect(seen).toEqual(['a1', 'b1']);
      expect(s.listWatchers()).toEqual([]);
    });

    it('an AbortSignal unwatches', async () => {
      const s = await seeded();
      const controller = new AbortController();
      const seen: unknown[] = [];
      s.watchVariables(['t'], (e) => seen.push(e.newValue), { signal: controller.signal });
      s.setVariable('t', 1);
      controller.abort();
      s.setVariable('t', 1.5);
      expect(seen).toEqual([1]);
      expect(s.listWatchers()).toEqual([]);
      s.watchVariables(['t'], (e) => seen.push(e.newValue), { signal: controller.signal }); // already aborted
      s.setVariable('t', 0.1);
      expect(seen).toEqual([1]);
    });

    it('a batch delivers its events after the whole batch commits, in batch order; a failed batch delivers none', async () => {
      const s = await seeded();
      const seen: string[] = [];
      s.watchVariables(['p', 't', 'k'], (e) => {
        seen.push(`${e.name}=${String(e.newValue)}`);
        expect(s.getVariables(['t', 'k', 'p'])).toEqual({ t: 1.25, k: 7, p: 'zz' }); // the whole batch is visible
      });
      s.updateVariables({ k: 7, t: 1.25, p: 'zz' });
      expect(seen).toEqual(['k=7', 't=1.25', 'p=zz']);
      expect(() => s.updateVariables({ k: 8, t: 5 })).toThrow();
      expect(seen).toHaveLength(3);
    });

    it('a throwing callback does not undo the write or stop other watchers; errors come back as one AggregateError', async () => {
      const s = await seeded();
      const seen: string[] = [];
      s.watchVariables(['t'], () => {
        throw new Error('first fails');
      });
      s.watchVariables(['t'], (e) => seen.push(`second ${e.newValue}`));
      s.watchVariables(['t'], () => {
        throw new Error('third fails');
      });
      let caught: unknown;
      try {
        s.setVariable('t', 1);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(AggregateError);
      expect((caught as AggregateError).errors.map((e: Error) => e.message)).toEqual(['first fails', 'third fails']);
      expect(seen).toEqual(['second 1']);
      expect(s.getVariable('t')).toBe(1);
      expect(s.ref('t').version).toBe(1);
    });

    it('onError receives a watcher’s errors instead of the caller', async () => {
      const s = await seeded();
      const reported: string[] = [];
      s.watchVariables(
        ['t'],
        () => {
          throw new Error('boom');
        },
        { onError: (error, event) => reported.push(`${(error as Error).message} on ${event.name}`) },
      );
      s.setVariable('t', 1);
      expect(reported).toEqual(['boom on t']);
    });

    it('callbacks may read, set, watch and unwatch; their writes are delivered after the current round, in order', async () => {
      const s = await seeded();
      const log: string[] = [];
      let inner: Watch | undefined;
      s.watchVariables(['t'], (e) => {
        log.push(`A t=${e.newValue}`);
        if (e.newValue === 1) {
          s.setVariable('k', 10);
          s.setVariable('p', 'x');
          inner = s.watchVariables(['k'], (k) => log.push(`C k=${k.newValue}`));
        }
      });
      s.watchVariables(['t'], (e) => log.push(`B t=${e.newValue}`));
      s.watchVariables(['k', 'p'], (e) => log.push(`D ${e.name}=${e.newValue}`));
      s.setVariable('t', 1);
      // The round for t finishes (A, B) before the callback's writes are delivered, in the order made.
      expect(log).toEqual(['A t=1', 'B t=1', 'D k=10', 'D p=x']);
      inner?.unwatch();
      s.setVariable('k', 11);
      expect(log.at(-1)).toBe('D k=11');
    });

    it('a runaway loop (a watcher setting what it watches) stops with watch_loop, state consistent', async () => {
      const s = await seeded();
      let calls = 0;
      s.watchVariables(['k'], (e) => {
        calls++;
        s.setVariable('k', (e.newValue as number) + 1);
      });
      expect(codeOf(() => s.setVariable('k', 0))).toBe('watch_loop');
      expect(calls).toBe(100);
      const k = s.getVariable('k') as number;
      expect(s.ref('k').version).toBe(k + 1); // every write counted once, none lost
      expect(s.stats().totalUpdates).toBe(k + 1);
      s.setVariable('p', 'ok'); // and the store goes on working
    });

    it('two watchers writing back to each other stop with watch_loop too (the writes double every round)', async () => {
      const s = await seeded();
      for (let w = 0; w < 2; w++) s.watchVariables(['k'], (e) => s.setVariable('k', (e.newValue as number) + 1));
      expect(codeOf(() => s.setVariable('k', 0))).toBe('watch_loop');
      expect(s.ref('k').version).toBe(s.stats().totalUpdates);
      s.setVariable('p', 'ok');
    });

    it('a watch whose includeInitial delivery throws is not left behind (the caller never got its handle)', async () => {
      const s = await seeded();
      expect(() =>
        s.watchVariables(
          ['t'],
          () => {
            throw new Error('no');
          },
          { includeInitial: true },
        ),
      ).toThrow(AggregateError);
      expect(s.listWatchers()).toEqual([]);
    });

    it('events of writes committed before a delete reach every watcher subscribed then', async () => {
      const s = await seeded();
      const id = s.listVariables()[0]?.id as string;
      const first: unknown[] = [];
      const second: unknown[] = [];
      s.watchVariables(['t'], (e) => {
        first.push(brief(e));
        if (e.kind === 'set' && e.version === 1) s.deleteVariable('t');
      });
      s.watchVariables(['t', 'k'], (e) => second.push(brief(e)));
      s.updateVariables({ t: 1, [id]: 2 });
      const expected = [
        ['set', 't', 0.5, 1, 1],
        ['set', 't', 1, 2, 2],
        ['delete', 't', 2, undefined, 2],
      ];
      expect(first).toEqual(expected);
      expect(second).toEqual(expected);
    });

    it('deleting a watched variable sends a delete event and ends that part of the watch', async () => {
      const s = await seeded();
      const seen: unknown[] = [];
      s.watchVariables(['t', 'k'], (e) => seen.push(brief(e)));
      s.setVariable('t', 1);
      s.deleteVariable('t');
      expect(seen.at(-1)).toEqual(['delete', 't', 1, undefined, 1]);
      expect(s.listWatchers()[0]?.identifiers).toEqual(['k']);
      s.registerVariable('t', 'float', 0.25);
      s.setVariable('t', 0.3); // the new 't' is another variable: not watched
      s.deleteVariable('k');
      expect(seen.at(-1)).toEqual(['delete', 'k', 1, undefined, 0]);
      expect(s.listWatchers()).toEqual([]); // nothing left to watch: the watch ended
      expect(seen).toHaveLength(3);
    });

    it('an unwatch after the last watched variable was deleted still drops the events not yet delivered', async () => {
      const s = await seeded();
      const log: string[] = [];
      let target: Watch | undefined;
      s.watchVariables(['k'], () => {
        s.deleteVariable('t');
        target?.unwatch();
      });
      target = s.watchVariables(['t'], (e) => log.push(e.kind));
      s.updateVariables({ k: 2, t: 1 });
      expect(log).toEqual([]);
    });

    it('unwatchVariables ignores a watch object that belongs to another store', async () => {
      const a = await seeded();
      const b = await seeded();
      const seen: unknown[] = [];
      const inA = a.watchVariables(['t'], (e) => seen.push(e.newValue));
      const inB = b.watchVariables(['t'], (e) => seen.push(`b${e.newValue}`));
      expect(inB.id).toBe(inA.id); // ids are per store
      b.unwatchVariables(inA);
      b.setVariable('t', 1);
      a.setVariable('t', 1.5);
      expect(seen).toEqual(['b1', 1.5]);
    });

    it('cleanup ends every watch', async () => {
      const s = await seeded();
      const seen: unknown[] = [];
      s.watchVariables(['t'], (e) => seen.push(e));
      s.cleanup();
      expect(seen).toEqual([]);
      expect(codeOf(() => s.listWatchers())).toBe('closed');
      expect(codeOf(() => s.watchVariables(['t'], () => {}))).toBe('closed');
    });

    it('watching changes nothing observable about the store', async () => {
      const s = await seeded();
      const before = observe(s);
      const watch = s.watchVariables(['t', 'p'], () => {}, { includeInitial: true });
      watch.unwatch();
      expect(observe(s)).toEqual(before);
    });
  });
}
