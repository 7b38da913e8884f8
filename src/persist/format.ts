// The on-disk format of a persisted store: one definition of every magic,
// size and record tag. The shape follows Redis's multi-part AOF and etcd's
// WAL: a manifest names the live files, everything is framed and checksummed
// (CRC-32, zlib.crc32), a torn tail of the last journal segment is expected
// after a crash and cut off, and any other damage is refused by name.
//
//   <path>/
//     MANIFEST                 which snapshot and which first segment are live (written temp → fsync → rename → fsync dir)
//     LOCK                     the holder's pid (not state: never checksummed, never trusted for anything else)
//     snapshot-<generation>.lss  the whole state before segment <generation>
//     journal-<n>.lsj          segments <firstSegment>, <firstSegment>+1, … consecutive, the last one open for appends
//     *.tmp                    files being written (a crash may leave them; deleted at open)
//     *.broken                 what `repair` moved aside (never read again)
//
// Every file starts with a 32-byte header, then frames:
//
//   file header                                     frame
//   ┌───────────────┬────────────┬───────────┐      ┌──────────┬──────────┬───────────┬────────────┬─────────────┐
//   │ u32 magic     │ u16 format │ u16 zero  │      │ u32 bytes│ u32 index│ u32 crc of│ u32 crc of │ payload …   │
//   │ u32 number    │ 16 B store id          │      │ (payload)│ in file  │  payload  │ bytes 0–11 │             │
//   │ u32 crc of bytes 0–27                  │      └──────────┴──────────┴───────────┴────────────┴─────────────┘
//   └────────────────────────────────────────┘
//
// The header checksum lets a frame's length be trusted before the payload is
// read: a flipped length byte is damage, not a frame that runs past the end
// of the file (which is what a torn write looks like). A frame's index (0, 1,
// 2, … within its file) catches a frame that is checksummed but out of place.
// All integers are little-endian.

/** 'LSJ1', 'LSS1', 'LSM1' read as little-endian u32s. */
export const JOURNAL_MAGIC = 0x314a534c;
export const SNAPSHOT_MAGIC = 0x3153534c;
export const MANIFEST_MAGIC = 0x314d534c;
/** Bumped whenever anything in this file changes meaning. */
export const FORMAT_VERSION = 1;

export const FILE_HEADER_SIZE = 32;
export const FILE_HEADER_NUMBER = 8;
export const FILE_HEADER_STORE_ID = 12;
export const FILE_HEADER_CRC = 28;
export const STORE_ID_SIZE = 16;

export const FRAME_HEADER_SIZE = 16;
export const FRAME_BYTES = 0;
export const FRAME_INDEX = 4;
export const FRAME_PAYLOAD_CRC = 8;
export const FRAME_HEADER_CRC = 12;
/** A frame's payload may not be larger (a batch of 2^20 items or an import of 1M variables fits easily). */
export const MAX_FRAME_BYTES = 1 << 30;

/**
 * Journal records, the payload of a journal frame: one tag byte, then fixed fields or a length and
 * bytes. A frame holds whole operations only, so a batch, an import, a register or a delete is in
 * the journal entirely or not at all. Variables are named by their registration order, which is
 * unique for a store's whole life (a serial is not: an import may bring `var_b_3` next to `var_a_3`).
 *
 *   TIME        f64 now, f64 totalOperations        the clock reading for the writes after it; the
 *                                                   operation count before them (reads are counted there)
 *   SET         u32 order, f64 value                a numeric write (13 bytes)
 *   SET_WIDE    f64 order, f64 value                the same, for an order ≥ 2^32
 *   SET_RECORD  f64 order, u32 n, n bytes JSON      a write to a record: the value in the export encoding
 *   METADATA    f64 order, u32 n, n bytes JSON      merge into that variable's metadata (after its write)
 *   BATCH_META  u32 count, u32 n, n bytes JSON      merge into the metadata of each of the next `count` writes
 *   REGISTER    a variable (see codec.ts)           also sets the next serial and order
 *   DELETE      f64 order
 *   IMPORT      u32 count, f64 at, f64 nextSerial (the exporter's), u32 n, n bytes session id (UTF-16), then `count` variables
 */
export const RECORD = {
  TIME: 1,
  SET: 2,
  SET_WIDE: 3,
  SET_RECORD: 4,
  METADATA: 5,
  BATCH_META: 6,
  REGISTER: 7,
  DELETE: 8,
  IMPORT: 9,
} as const;

export const SET_SIZE = 13;
export const TIME_SIZE = 17;
/** Orders below this fit the short SET record. */
export const SHORT_ORDER_LIMIT = 2 ** 32;

/** The snapshot's frames: a JSON header, then variables in registration order, then an end frame. */
export const SNAPSHOT_FRAME = { HEADER: 1, VARIABLES: 2, END: 3 } as const;

export const MANIFEST_FILE = 'MANIFEST';
export const LOCK_FILE = 'LOCK';
export const BROKEN_SUFFIX = '.broken';
export const TEMP_SUFFIX = '.tmp';

const SEGMENT_PATTERN = /^journal-(\d{8,})\.lsj$/;
const SNAPSHOT_PATTERN = /^snapshot-(\d{8,})\.lss$/;

/** `journal-00000001.lsj`: zero-padded so a directory listing sorts in order. */
export function segmentFile(n: number): string {
  return `journal-${String(n).padStart(8, '0')}.lsj`;
}

export function snapshotFile(generation: number): string {
  return `snapshot-${String(generation).padStart(8, '0')}.lss`;
}

/** The number of a segment file name, or undefined. */
export function segmentNumber(file: string): number | undefined {
  const match = SEGMENT_PATTERN.exec(file);
  return match ? Number(match[1]) : undefined;
}

export function snapshotGeneration(file: string): number | undefined {
  const match = SNAPSHOT_PATTERN.exec(file);
  return match ? Number(match[1]) : undefined;
}
