// Torn and damaged files. A directory is built with fsync 'always', so each
// operation is one frame and the state after every frame is known: a
// snapshot, a middle segment and a last one. Then:
//   - the last segment is cut at every byte offset: each open recovers the
//     state after the last whole frame and cuts the file back to it;
//   - every byte of the manifest, the snapshot and the segments is flipped in
//     turn: each open is refused with corrupt_data naming the file, and with
//     `repair` a damaged journal opens at exactly the state before the damaged
//     frame, the damaged file moved aside as .broken. Never other values.

import { cpSync, readdirSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mulberry32 } from '../../bench/harness.js';
import type { StateError, VariableValue } from '../../dist/index.js';
import {
  type AnyStore,
  BACKENDS,
  type Backend,
  fingerprint,
  frameEnds,
  freshPath,
  internals,
  noSyncFs,
  persistOptions,
  useFs,
} from './helpers.js';

interface History {
  readonly path: string;
  /** The state after each operation; [0] is the empty store. */
  readonly states: string[];
  /** Index into `states` of the state each segment starts from. */
  readonly middleStart: number;
  readonly lastStart: number;
}

const ops: Array<(s: AnyStore) => void> = [
  (s) => s.registerVariable('t', 'float', 0.5, { constraints: { min: -1, max: 2 }, metadata: { owner: 'x' } }),
  (s) => s.registerVariable('k', 'integer', 3),
  (s) => s.registerVariable('s', 'string', 'hello'),
  (s) => s.registerVariable('e', 'embedding', [1, 2]),
  (s) => s.setVariable('t', -0),
  (s) => s.updateVariables({ t: 1.5, k: 4, s: 'batch' }, { by: 'batch' }),
  (s) => s.ref('k').set(5),
  (s) => s.deleteVariable('e'),
];
const middleOps: Array<(s: AnyStore) => void> = [
  (s) => s.setVariable('t', Number.NaN),
  (s) => s.registerVariable('b', 'boolean', true),
  (s) => s.updateVariables({ a: 1 } as Record<string, VariableValue>, undefined), // refused: nothing journaled
  (s) => s.setVariable('s', 'middle', { note: 'm' }),
  (s) => s.ref('t').set(1),
];
const lastOps: Array<(s: AnyStore) => void> = [
  (s) => s.setVariable('k', 6),
  (s) => s.registerVariable('e', 'tensor', { shape: [1], data: [-0] }),
  (s) => s.updateVariables({ t: 0.25, b: false }),
  (s) => s.deleteVariable('s'),
  (s) => s.setVariable('k', 7, { last: true }),
];

async function buildHistory(Backend: Backend): Promise<History> {
  const path = freshPath();
  const store = await Backend.init({
    sessionId: 'damage',
    persist: persistOptions(path, { fsync: 'always', compaction: { minBytes: 2 ** 40 } }),
  });
  const states = [fingerprint(store)];
  const apply = (op: (s: AnyStore) => void) => {
    try {
      op(store);
      states.push(fingerprint(store));
    } catch {
      // A refused write journals nothing: no frame, no state.
    }
  };
  for (const op of ops) apply(op);
  await internals(store).journal?.compactNow(); // snapshot 2; segment 2 starts
  const middleStart = states.length - 1;
  for (const op of middleOps) apply(op);
  // Segment 3 starts now. With the snapshot out of its way this compaction cannot finish (and
  // cleanup() cancels it anyway), so the manifest still names snapshot 2 and segment 2: two live segments.
  renameSync(join(path, 'snapshot-00000002.lss'), join(path, 'aside'));
  const failing = internals(store).journal?.compactNow();
  const lastStart = states.length - 1;
  for (const op of lastOps) apply(op);
  await failing?.catch(() => undefined);
  store.cleanup();
  renameSync(join(path, 'aside'), join(path, 'snapshot-00000002.lss'));
  const files = readdirSync(path).sort();
  expect(files).toEqual(['MANIFEST', 'journal-00000002.lsj', 'journal-00000003.lsj', 'snapshot-00000002.lss']);
  return { path, states, middleStart, lastStart };
}

async function openState(Backend: Backend, path: string, repair = false): Promise<string> {
  const store = await Backend.init({ persist: persistOptions(path, { repair }) });
  try {
    return fingerprint(store);
  } finally {
    store.cleanup();
  }
}

async function refusal(Backend: Backend, path: string, repair = false): Promise<StateError | undefined> {
  try {
    (await Backend.init({ persist: persistOptions(path, { repair }) })).cleanup();
    return undefined;
  } catch (error) {
    return error as StateError;
  }
}

const warnings: string[] = [];
beforeAll(() => {
  // Repairs warn (process.emitWarning); collected here instead of printed.
  vi.spyOn(process, 'emitWarning').mockImplementation((warning: string | Error) => {
    warnings.push(String(warning));
  });
});
afterAll(() => {
  vi.restoreAllMocks();
});
useFs(noSyncFs);

/** The byte-by-byte tests open a store hundreds of times: slow on a loaded machine, never stuck. */
const MANY_OPENS_MS = 240_000;

describe.each(BACKENDS)('damage on %s', (label, Backend) => {
  let history: History;
  beforeAll(async () => {
    history = await buildHistory(Backend);
  });

  it(
    'recovers the state after the last whole frame when the last segment is cut at any byte, and cuts the file back',
    async () => {
      const segment = 'journal-00000003.lsj';
      const ends = frameEnds(join(history.path, segment));
      const size = statSync(join(history.path, segment)).size;
      // The closing frame of cleanup() carries only the operation count: the state after it is the last one.
      const stateAfter = (frames: number) => history.states[Math.min(history.lastStart + frames, history.states.length - 1)];
      const work = freshPath();
      // Every byte of the header, and of the last three frames.
      const cuts = [
        ...Array.from({ length: 40 }, (_, i) => i),
        ...Array.from({ length: size - (ends.at(-4) ?? 32) }, (_, i) => (ends.at(-4) ?? 32) + i),
      ];
      for (const cut of cuts) {
        rmSync(work, { recursive: true, force: true });
        cpSync(history.path, work, { recursive: true });
        truncateSync(join(work, segment), cut);
        const whole = ends.filter((end) => end <= cut).length;
        expect(await openState(Backend, work), `${label}: cut at ${cut}`).toBe(stateAfter(whole));
        const kept = statSync(join(work, segment)).size;
        expect(kept, `cut at ${cut}`).toBe(cut < 32 ? 32 : whole === 0 ? 32 : (ends[whole - 1] as number));
      }
    },
    MANY_OPENS_MS,
  );

  it('treats zeros where frames should be (a machine crash) as a torn tail', async () => {
    const work = freshPath();
    cpSync(history.path, work, { recursive: true });
    const file = join(work, 'journal-00000003.lsj');
    const size = statSync(file).size;
    writeFileSync(file, Buffer.alloc(4096), { flag: 'a' });
    expect(await openState(Backend, work)).toBe(history.states[history.states.length - 1]);
    expect(statSync(file).size).toBe(size);
  });

  it('refuses a segment before the last one that is cut short, with corrupt_data naming it', async () => {
    const work = freshPath();
    cpSync(history.path, work, { recursive: true });
    const file = join(work, 'journal-00000002.lsj');
    truncateSync(file, statSync(file).size - 3);
    const error = await refusal(Backend, work);
    expect(error?.code).toBe('corrupt_data');
    expect(error?.file).toBe('journal-00000002.lsj');
  });

  it('refuses a missing segment by name, never with a raw ENOENT', async () => {
    const work = freshPath();
    cpSync(history.path, work, { recursive: true });
    rmSync(join(work, 'journal-00000002.lsj'));
    expect(await refusal(Backend, work)).toMatchObject({ code: 'corrupt_data', file: 'journal-00000002.lsj' });
    rmSync(join(work, 'snapshot-00000002.lss'));
    expect(await refusal(Backend, work)).toMatchObject({ code: 'corrupt_data', file: 'snapshot-00000002.lss' });
    rmSync(join(work, 'MANIFEST'));
    expect(await refusal(Backend, work)).toMatchObject({ code: 'corrupt_data', file: 'MANIFEST' });
  });

  // LocalState flips every byte; JsLocalState, which shares every line of the reading code, every third.
  const stride = label === 'LocalState' ? 1 : 3;

  it.each(['MANIFEST', 'snapshot-00000002.lss'])(
    'refuses any flipped byte of %s with corrupt_data, repair or not',
    async (name) => {
      const work = freshPath();
      cpSync(history.path, work, { recursive: true });
      const file = join(work, name);
      const original = readFileSync(file);
      const random = mulberry32(name.length);
      for (let at = 0; at < original.length; at += stride) {
        const flipped = Buffer.from(original);
        flipped[at] = (flipped[at] as number) ^ (1 + Math.floor(random() * 255));
        writeFileSync(file, flipped);
        // repair changes nothing here (it keeps a journal's prefix; a damaged base has none): tried on every fifth byte.
        for (const repair of at % 5 === 0 ? [false, true] : [false]) {
          const error = await refusal(Backend, work, repair);
          expect(error?.code, `${name} byte ${at} flipped, repair ${repair}`).toBe('corrupt_data');
          expect(error?.file).toBe(name);
          expect(error?.offset).toBeLessThanOrEqual(at);
        }
      }
      writeFileSync(file, original);
      expect(await openState(Backend, work)).toBe(history.states[history.states.length - 1]);
    },
    MANY_OPENS_MS,
  );

  it.each(['journal-00000002.lsj', 'journal-00000003.lsj'])(
    'refuses any flipped byte of %s; with repair, opens at exactly the state before the damaged frame',
    async (name) => {
      const middle = name === 'journal-00000002.lsj';
      const work = freshPath();
      cpSync(history.path, work, { recursive: true });
      const file = join(work, name);
      const original = readFileSync(file);
      const ends = frameEnds(file);
      const start = middle ? history.middleStart : history.lastStart;
      const random = mulberry32(name.length + 7);
      for (let at = 0; at < original.length; at += stride) {
        const flipped = Buffer.from(original);
        flipped[at] = (flipped[at] as number) ^ (1 + Math.floor(random() * 255));
        writeFileSync(file, flipped);
        const error = await refusal(Backend, work);
        expect(error?.code, `${name} byte ${at} flipped`).toBe('corrupt_data');
        expect(error?.file).toBe(name);
        if (at % (2 * stride) !== 0) continue;
        // With repair (every other flip): the frames before the damaged one, nothing after (the last segment goes aside too).
        const repaired = freshPath();
        cpSync(work, repaired, { recursive: true });
        const before = at < 32 ? 0 : ends.filter((end) => end <= at).length;
        const expected = history.states[Math.min(start + before, history.states.length - 1)];
        const count = warnings.length;
        expect(await openState(Backend, repaired, true), `${name} byte ${at} flipped, repaired`).toBe(expected);
        expect(readdirSync(repaired)).toContain(`${name}.broken`);
        if (middle) expect(readdirSync(repaired)).toContain('journal-00000003.lsj.broken');
        expect(warnings.length).toBeGreaterThan(count);
        // Repaired for good: it opens without repair now, at the same state.
        expect(await openState(Backend, repaired)).toBe(expected);
        rmSync(repaired, { recursive: true, force: true });
      }
      writeFileSync(file, original);
    },
    MANY_OPENS_MS,
  );

  it('says what repair dropped, in persistence().recovery', async () => {
    const work = freshPath();
    cpSync(history.path, work, { recursive: true });
    const file = join(work, 'journal-00000002.lsj');
    const bytes = readFileSync(file);
    const ends = frameEnds(file);
    const damagedFrame = ends[1] as number; // the third frame starts here
    bytes[damagedFrame + 20] = (bytes[damagedFrame + 20] as number) ^ 0xff;
    writeFileSync(file, bytes);
    const store = await Backend.init({ persist: persistOptions(work, { repair: true }) });
    const repairs = store.persistence()?.recovery.repairs ?? [];
    expect(repairs.map((r) => [r.file, r.offset, r.movedTo])).toEqual([
      ['journal-00000003.lsj', 0, 'journal-00000003.lsj.broken'],
      ['journal-00000002.lsj', damagedFrame, 'journal-00000002.lsj.broken'],
    ]);
    expect(repairs[1]?.droppedBytes).toBe(bytes.length - damagedFrame);
    store.setVariable('k', 100); // it goes on writing where the valid prefix ends
    store.cleanup();
    const reopened = await Backend.init({ persist: persistOptions(work) });
    expect(reopened.getVariable('k')).toBe(100);
    reopened.cleanup();
  });
});
