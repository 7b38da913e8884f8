// Reading the journal back: the live segments in order, each frame verified
// before any of its records is applied, so what is applied is always a prefix
// of whole frames. Where the reading stops decides what happens (after the
// shape of Redis's aof.c load path and etcd's wal/repair.go):
//   - a torn tail of the last segment is expected after a crash: it is cut off;
//   - any other damage (a checksum, a gap between segments, a frame cut short
//     before the last segment) is refused with corrupt_data naming the file and
//     offset, unless `repair` asked to keep the valid prefix: then the damaged
//     file is copied aside as .broken and cut at the damage, and every later
//     segment is moved aside whole.

import { join } from 'node:path';
import type { StateError } from '../errors.js';
import type { Repair } from '../store/journal.js';
import { ByteReader } from './codec.js';
import {
  BROKEN_SUFFIX,
  FILE_HEADER_NUMBER,
  FILE_HEADER_SIZE,
  FILE_HEADER_STORE_ID,
  FRAME_HEADER_SIZE,
  JOURNAL_MAGIC,
  segmentFile,
  segmentNumber,
} from './format.js';
import { corrupt, FrameFile } from './frames.js';
import type { PersistFs } from './fs.js';
import { ioError, syncDirectory, tempName } from './io.js';
import type { Manifest } from './manifest.js';
import type { Replayer } from './replay.js';

/** Where replay stopped early because a record inside a verified frame made no sense (repair replays again up to it). */
export class BadRecord extends Error {
  constructor(
    readonly segment: number,
    readonly offset: number,
    readonly error: StateError,
  ) {
    super(error.message);
  }
}

export interface SegmentState {
  readonly number: number;
  /** Bytes of the segment's valid part (where appends continue). */
  readonly bytes: number;
  readonly frames: number;
}

export interface ReplayedJournal {
  /** The live segments after recovery, in order; empty when repair dropped them all. */
  readonly segments: SegmentState[];
  readonly frames: number;
  /** A torn tail found in the last segment (to cut off), or undefined. */
  readonly torn: { readonly segment: number; readonly offset: number; readonly bytes: number } | undefined;
  /** Damage `repair` will deal with: the segment, and the offset of its valid end (0: the whole file, header included). */
  readonly damage: { readonly segment: number; readonly offset: number; readonly error: StateError } | undefined;
  /** Segments after the damage, to move aside. */
  readonly dropped: number[];
}

export interface ReplayOptions {
  readonly repair: boolean;
  /** Replay only segments below this one, each of which must be whole (the compaction worker). */
  readonly until?: number;
  /** Stop before this frame (a repair replaying up to a bad record). */
  readonly stopAt?: { readonly segment: number; readonly offset: number } | undefined;
}

/** The segment numbers present at or after `first`, sorted. */
export function segmentsFrom(fs: PersistFs, dir: string, first: number): number[] {
  const numbers: number[] = [];
  for (const file of fs.readdirSync(dir)) {
    const n = segmentNumber(file);
    if (n !== undefined && n >= first) numbers.push(n);
  }
  return numbers.sort((a, b) => a - b);
}

/** Replays the live segments into `replayer`; throws corrupt_data for damage unless `repair`. Changes no file. */
export function replaySegments(
  fs: PersistFs,
  dir: string,
  manifest: Manifest,
  replayer: Replayer,
  options: ReplayOptions,
): ReplayedJournal {
  const until = options.until;
  const all = segmentsFrom(fs, dir, manifest.firstSegment).filter((n) => until === undefined || n < until);
  const segments: SegmentState[] = [];
  let frames = 0;
  let torn: ReplayedJournal['torn'];
  let damage: ReplayedJournal['damage'];
  /** Damage at `offset` of `segment`: refused, or (repair) where the kept prefix ends. */
  const fail = (segment: number, offset: number, error: StateError): void => {
    if (!options.repair) throw error;
    damage = { segment, offset, error };
  };
  for (let i = 0; i < all.length; i++) {
    const number = all[i] as number;
    const expected = i === 0 ? manifest.firstSegment : (all[i - 1] as number) + 1;
    if (number !== expected) {
      // A hole: what follows it cannot be applied without losing what was in it.
      fail(
        expected,
        0,
        corrupt(segmentFile(expected), 0, `segment ${expected} is missing, but later segments exist (${segmentFile(number)})`),
      );
      break;
    }
    const last = i === all.length - 1 && until === undefined;
    const state = replaySegment(fs, dir, number, last, manifest, replayer, options.stopAt, fail);
    frames += state.frames;
    if (state.torn !== undefined) torn = state.torn;
    if (damage === undefined || damage.offset > 0) segments.push(state.segment);
    if (damage !== undefined) break;
  }
  if (until !== undefined) {
    if (all[0] !== manifest.firstSegment || all[all.length - 1] !== until - 1) {
      throw corrupt(segmentFile(manifest.firstSegment), 0, `segments ${manifest.firstSegment} to ${until - 1} are not all there`);
    }
    if (torn !== undefined) throw corrupt(segmentFile(torn.segment), torn.offset, 'a segment before the last one is cut short');
  }
  const damaged = damage as ReplayedJournal['damage'];
  const dropped = damaged === undefined ? [] : all.filter((n) => n > damaged.segment);
  return { segments, frames, torn, damage: damaged, dropped };
}

function replaySegment(
  fs: PersistFs,
  dir: string,
  number: number,
  last: boolean,
  manifest: Manifest,
  replayer: Replayer,
  stopAt: ReplayOptions['stopAt'],
  fail: (segment: number, offset: number, error: StateError) => void,
): { segment: SegmentState; frames: number; torn?: { segment: number; offset: number; bytes: number } } {
  const name = segmentFile(number);
  let file: FrameFile;
  try {
    file = new FrameFile(fs, join(dir, name), name, JOURNAL_MAGIC);
  } catch (error) {
    if ((error as StateError).code !== 'corrupt_data') throw ioError(join(dir, name), 'read', error);
    fail(number, 0, error as StateError);
    return { segment: { number, bytes: 0, frames: 0 }, frames: 0 };
  }
  try {
    if (file.ending().kind === 'torn') {
      // Shorter than its header: a crash while the segment was being created.
      if (!last) fail(number, 0, corrupt(name, 0, 'the segment is cut short inside its header'));
      return { segment: { number, bytes: 0, frames: 0 }, frames: 0, torn: { segment: number, offset: 0, bytes: file.size } };
    }
    if (file.number !== number) {
      fail(number, 0, corrupt(name, FILE_HEADER_NUMBER, `the file says it is segment ${file.number}`));
      return { segment: { number, bytes: 0, frames: 0 }, frames: 0 };
    }
    if (!Buffer.from(file.storeId).equals(Buffer.from(manifest.storeId))) {
      fail(number, 0, corrupt(name, FILE_HEADER_STORE_ID, 'the segment belongs to another store'));
      return { segment: { number, bytes: 0, frames: 0 }, frames: 0 };
    }
    let end = FILE_HEADER_SIZE;
    let count = 0;
    for (const { payload, offset } of file.frames()) {
      if (stopAt !== undefined && stopAt.segment === number && stopAt.offset === offset) {
        fail(number, offset, corrupt(name, offset, 'a frame holds a record that makes no sense'));
        return { segment: { number, bytes: offset, frames: count }, frames: count };
      }
      try {
        replayer.applyFrame(new ByteReader(payload, name, offset));
      } catch (error) {
        if ((error as StateError).code === 'corrupt_data') throw new BadRecord(number, offset, error as StateError);
        throw error;
      }
      end = offset + FRAME_HEADER_SIZE + payload.byteLength;
      count++;
    }
    const fileEnd = file.ending();
    if (fileEnd.kind === 'corrupt') {
      fail(number, fileEnd.offset, fileEnd.error);
    } else if (fileEnd.kind === 'torn') {
      if (!last) fail(number, fileEnd.offset, corrupt(name, fileEnd.offset, 'a segment before the last one is cut short'));
      else
        return {
          segment: { number, bytes: end, frames: count },
          frames: count,
          torn: { segment: number, offset: end, bytes: fileEnd.bytes },
        };
    }
    return { segment: { number, bytes: end, frames: count }, frames: count };
  } finally {
    file.close();
  }
}

/**
 * Carries out what replay found (never in read-only use): moves later segments aside, copies the
 * damaged one aside and cuts it at its valid end, and cuts a torn tail. Returns what was dropped.
 */
export function applyRepairs(fs: PersistFs, dir: string, journal: ReplayedJournal): Repair[] {
  const repairs: Repair[] = [];
  // Later segments first, highest first: a crash halfway leaves a chain that is still consecutive.
  for (const number of [...journal.dropped].sort((a, b) => b - a)) {
    const name = segmentFile(number);
    const size = sizeOf(fs, join(dir, name));
    moveAside(fs, dir, name);
    repairs.push({
      file: name,
      offset: 0,
      movedTo: `${name}${BROKEN_SUFFIX}`,
      droppedBytes: size,
      reason: 'after damage in an earlier segment',
    });
  }
  const damage = journal.damage;
  if (damage !== undefined) {
    const name = segmentFile(damage.segment);
    const path = join(dir, name);
    const size = sizeOf(fs, path);
    if (size >= 0) {
      if (damage.offset === 0) {
        moveAside(fs, dir, name);
      } else {
        copyAside(fs, dir, name);
        truncate(fs, path, damage.offset);
      }
      repairs.push({
        file: name,
        offset: damage.offset,
        movedTo: `${name}${BROKEN_SUFFIX}`,
        droppedBytes: size - damage.offset,
        reason: damage.error.message,
      });
    }
  }
  if (journal.torn !== undefined && journal.torn.offset > 0) {
    truncate(fs, join(dir, segmentFile(journal.torn.segment)), journal.torn.offset);
  }
  if (repairs.length > 0) syncDirectory(fs, dir);
  return repairs;
}

function sizeOf(fs: PersistFs, path: string): number {
  try {
    const fd = fs.openSync(path, 'r');
    try {
      return fs.fstatSync(fd).size;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return -1; // missing: a gap
  }
}

function moveAside(fs: PersistFs, dir: string, name: string): void {
  try {
    fs.renameSync(join(dir, name), join(dir, `${name}${BROKEN_SUFFIX}`));
  } catch (error) {
    throw ioError(join(dir, name), 'move aside', error);
  }
}

function copyAside(fs: PersistFs, dir: string, name: string): void {
  const broken = join(dir, `${name}${BROKEN_SUFFIX}`);
  const temp = tempName(broken);
  try {
    fs.copyFileSync(join(dir, name), temp);
    const fd = fs.openSync(temp, 'r+');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, broken);
  } catch (error) {
    throw ioError(join(dir, name), 'copy aside', error);
  }
}

function truncate(fs: PersistFs, path: string, length: number): void {
  try {
    const fd = fs.openSync(path, 'r+');
    try {
      fs.ftruncateSync(fd, length);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch (error) {
    throw ioError(path, 'truncate', error);
  }
}
