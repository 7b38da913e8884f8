// File-system steps every part of persistence shares: errors that name the
// file and the call, a write that finishes short writes, and the durable
// replacement of a file (temp file, fsync, rename, fsync of the directory),
// which is how Redis 7 writes its manifest and etcd cuts its WAL files.

import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import { StateError } from '../errors.js';
import { TEMP_SUFFIX } from './format.js';
import type { PersistFs } from './fs.js';

/** `io_error` for a failed file-system call: the store turns read-only (see journal.ts). */
export function ioError(file: string, what: string, cause: unknown): StateError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new StateError('io_error', `${what} ${basename(file)} failed: ${reason}`, { file, rule: 'io', cause });
}

/** Writes all of `bytes[0, length)` at `position`, continuing after short writes. */
export function writeAll(fs: PersistFs, fd: number, bytes: Uint8Array, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    const n = fs.writeSync(fd, bytes, done, length - done, position + done);
    if (n <= 0) throw new Error(`write returned ${n}`);
    done += n;
  }
}

/** fsync of a directory, so that a file created, renamed or removed in it stays so after a machine crash. */
export function syncDirectory(fs: PersistFs, dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** A unique temp name beside `file`: a crashed writer's leftover never collides with a live one. */
export function tempName(file: string): string {
  return `${file}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`;
}

/** Replaces `dir/name` by `bytes` atomically and durably. */
export function replaceFile(fs: PersistFs, dir: string, name: string, bytes: Uint8Array): void {
  const target = join(dir, name);
  const temp = tempName(target);
  try {
    const fd = fs.openSync(temp, 'w');
    try {
      writeAll(fs, fd, bytes, bytes.length, 0);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, target);
    syncDirectory(fs, dir);
  } catch (error) {
    try {
      fs.unlinkSync(temp);
    } catch {
      // already renamed, or never created
    }
    throw ioError(target, 'replace', error);
  }
}
