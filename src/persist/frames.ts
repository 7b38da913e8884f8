// Frames: the checksummed unit of every file (see format.ts). Writing one is
// sealing a payload already in a buffer; reading is a scan that ends cleanly,
// at a torn tail, or at damage, and says which and where.

import { crc32 } from 'node:zlib';
import { StateError } from '../errors.js';
import {
  FILE_HEADER_CRC,
  FILE_HEADER_NUMBER,
  FILE_HEADER_SIZE,
  FILE_HEADER_STORE_ID,
  FORMAT_VERSION,
  FRAME_BYTES,
  FRAME_HEADER_CRC,
  FRAME_HEADER_SIZE,
  FRAME_INDEX,
  FRAME_PAYLOAD_CRC,
  MAX_FRAME_BYTES,
  STORE_ID_SIZE,
} from './format.js';
import type { PersistFs } from './fs.js';

/** `corrupt_data`, naming the file and the offset where the damage starts. */
export function corrupt(file: string, offset: number, why: string): StateError {
  return new StateError('corrupt_data', `${file} is damaged at byte ${offset}: ${why}`, { file, offset, rule: 'checksum' });
}

/** Writes a file header for `magic` into the first FILE_HEADER_SIZE bytes of `bytes`. */
export function writeFileHeader(bytes: Uint8Array, magic: number, number: number, storeId: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, FILE_HEADER_SIZE);
  view.setUint32(0, magic, true);
  view.setUint16(4, FORMAT_VERSION, true);
  view.setUint16(6, 0, true);
  view.setUint32(FILE_HEADER_NUMBER, number, true);
  bytes.set(storeId, FILE_HEADER_STORE_ID);
  view.setUint32(FILE_HEADER_CRC, crc32(bytes.subarray(0, FILE_HEADER_CRC)), true);
}

/** A fresh file header as bytes. */
export function fileHeader(magic: number, number: number, storeId: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(FILE_HEADER_SIZE);
  writeFileHeader(bytes, magic, number, storeId);
  return bytes;
}

/**
 * Seals the frame whose header starts at `start` of `bytes` and whose payload follows it up to `end`:
 * fills in the length, index and both checksums.
 */
export function sealFrame(bytes: Uint8Array, view: DataView, start: number, end: number, index: number): void {
  const payload = start + FRAME_HEADER_SIZE;
  view.setUint32(start + FRAME_BYTES, end - payload, true);
  view.setUint32(start + FRAME_INDEX, index, true);
  view.setUint32(start + FRAME_PAYLOAD_CRC, crc32(bytes.subarray(payload, end)), true);
  view.setUint32(start + FRAME_HEADER_CRC, crc32(bytes.subarray(start, start + FRAME_HEADER_CRC)), true);
}

/** How a scan of a file's frames ended. */
export type FrameEnd =
  | { readonly kind: 'clean'; readonly offset: number }
  /** The file ends inside a frame (or in zeros where a frame should be): a write cut short by a crash. */
  | { readonly kind: 'torn'; readonly offset: number; readonly bytes: number }
  | { readonly kind: 'corrupt'; readonly offset: number; readonly error: StateError };

const CHUNK = 1 << 20;
const SECTOR = 512;

/**
 * Reads the frames of one file in order, through a buffer refilled in chunks (frames of one write each
 * would otherwise cost two reads apiece). Open it, check `number` and `storeId`, iterate `frames()`, then ask `ending()`.
 */
export class FrameFile {
  readonly size: number;
  /** The number in the file header (segment number, snapshot generation). */
  number = 0;
  storeId: Uint8Array = new Uint8Array(STORE_ID_SIZE);
  private end: FrameEnd = { kind: 'clean', offset: FILE_HEADER_SIZE };
  frameCount = 0;
  /** Sized to the file when it is small: most files a store opens are a few hundred bytes. */
  private buffer: Uint8Array;
  private bufferStart = 0;
  private bufferEnd = 0;
  private readonly fd: number;

  /** Opens `path`; `name` is how errors name it. Throws corrupt_data for a bad header unless the whole file is a torn header. */
  constructor(
    private readonly fs: PersistFs,
    path: string,
    readonly name: string,
    magic: number,
  ) {
    this.fd = fs.openSync(path, 'r');
    try {
      this.size = fs.fstatSync(this.fd).size;
      this.buffer = new Uint8Array(Math.min(CHUNK, Math.max(this.size, FILE_HEADER_SIZE)));
      if (this.size < FILE_HEADER_SIZE) {
        // A file cut short before its header was complete: only a crash while creating it does that.
        this.end = { kind: 'torn', offset: 0, bytes: this.size };
        return;
      }
      const header = this.bytesAt(0, FILE_HEADER_SIZE);
      const view = new DataView(header.buffer, header.byteOffset, FILE_HEADER_SIZE);
      if (view.getUint32(FILE_HEADER_CRC, true) !== crc32(header.subarray(0, FILE_HEADER_CRC))) {
        throw corrupt(name, 0, 'the file header does not match its checksum');
      }
      if (view.getUint32(0, true) !== magic) throw corrupt(name, 0, 'this is not the kind of file its name says');
      const version = view.getUint16(4, true);
      if (version !== FORMAT_VERSION) {
        throw new StateError(
          'corrupt_data',
          `${name} is in format version ${version}; this version of localstate-wasm reads format ${FORMAT_VERSION}`,
          { file: name, offset: 4, rule: 'format' },
        );
      }
      this.number = view.getUint32(FILE_HEADER_NUMBER, true);
      this.storeId = header.slice(FILE_HEADER_STORE_ID, FILE_HEADER_STORE_ID + STORE_ID_SIZE);
    } catch (error) {
      fs.closeSync(this.fd);
      throw error;
    }
  }

  /** Every complete, verified frame's payload (a view, valid until the next one), with its offset. Sets `end`. */
  *frames(): Generator<{ readonly payload: Uint8Array; readonly offset: number; readonly index: number }> {
    if (this.end.kind === 'torn') return;
    let offset = FILE_HEADER_SIZE;
    for (let index = 0; ; index++) {
      const left = this.size - offset;
      if (left === 0) {
        this.end = { kind: 'clean', offset };
        return;
      }
      if (left < FRAME_HEADER_SIZE) {
        this.end = { kind: 'torn', offset, bytes: left };
        return;
      }
      const header = this.bytesAt(offset, FRAME_HEADER_SIZE);
      const view = new DataView(header.buffer, header.byteOffset, FRAME_HEADER_SIZE);
      if (view.getUint32(FRAME_HEADER_CRC, true) !== crc32(header.subarray(0, FRAME_HEADER_CRC))) {
        this.end = this.zeroesToEnd(offset)
          ? { kind: 'torn', offset, bytes: left }
          : { kind: 'corrupt', offset, error: corrupt(this.name, offset, 'a frame header does not match its checksum') };
        return;
      }
      const length = view.getUint32(FRAME_BYTES, true);
      const payloadCrc = view.getUint32(FRAME_PAYLOAD_CRC, true);
      if (view.getUint32(FRAME_INDEX, true) !== index) {
        this.end = { kind: 'corrupt', offset, error: corrupt(this.name, offset, `frame ${index} is out of place`) };
        return;
      }
      if (length > MAX_FRAME_BYTES) {
        this.end = { kind: 'corrupt', offset, error: corrupt(this.name, offset, `a frame claims ${length} bytes`) };
        return;
      }
      if (left < FRAME_HEADER_SIZE + length) {
        this.end = { kind: 'torn', offset, bytes: left };
        return;
      }
      const payload = this.bytesAt(offset + FRAME_HEADER_SIZE, length);
      if (crc32(payload) !== payloadCrc) {
        // A machine crash may keep a frame's header but not all of its pages: a zeroed sector in the
        // last frame is a torn write (as etcd's WAL judges it); anything else is damage.
        this.end =
          left === FRAME_HEADER_SIZE + length && this.hasZeroSector(offset + FRAME_HEADER_SIZE, length)
            ? { kind: 'torn', offset, bytes: left }
            : { kind: 'corrupt', offset, error: corrupt(this.name, offset, 'a frame does not match its checksum') };
        return;
      }
      this.frameCount = index + 1;
      yield { payload, offset, index };
      offset += FRAME_HEADER_SIZE + length;
    }
  }

  /** How the scan ended (after frames() has run), or a torn header found on opening. */
  ending(): FrameEnd {
    return this.end;
  }

  close(): void {
    this.fs.closeSync(this.fd);
  }

  /** `length` bytes at file offset `offset`, from the buffer (refilled as needed). */
  private bytesAt(offset: number, length: number): Uint8Array {
    if (offset < this.bufferStart || offset + length > this.bufferEnd) {
      if (length > this.buffer.length) this.buffer = new Uint8Array(Math.max(length, CHUNK));
      const want = Math.min(this.buffer.length, this.size - offset);
      let got = 0;
      while (got < want) {
        const n = this.fs.readSync(this.fd, this.buffer, got, want - got, offset + got);
        if (n === 0) break;
        got += n;
      }
      this.bufferStart = offset;
      this.bufferEnd = offset + got;
      if (got < length) throw corrupt(this.name, offset, 'the file is shorter than its size');
    }
    const at = offset - this.bufferStart;
    return this.buffer.subarray(at, at + length);
  }

  private zeroesToEnd(offset: number): boolean {
    for (let at = offset; at < this.size; at += CHUNK) {
      const bytes = this.bytesAt(at, Math.min(CHUNK, this.size - at));
      for (const byte of bytes) if (byte !== 0) return false;
    }
    return true;
  }

  private hasZeroSector(start: number, length: number): boolean {
    const end = start + length;
    for (let sector = Math.ceil(start / SECTOR) * SECTOR; sector + SECTOR <= end; sector += SECTOR) {
      const bytes = this.bytesAt(sector, SECTOR);
      if (bytes.every((byte) => byte === 0)) return true;
    }
    return false;
  }
}
