// One store per directory: a LOCK file naming the holder's pid, created with
// O_EXCL. A second store, in this process or another, gets `locked` naming
// that pid. A lock whose process is gone (killed with SIGKILL, say) is stale:
// the next opener removes it and takes the directory.
//
// Node has no flock(2), so liveness is `kill(pid, 0)` on this host. Two limits
// follow, stated in the README: a pid reused by an unrelated process keeps a
// stale lock looking held until that process ends, and two openers racing to
// take over the same stale lock are told apart only by re-reading it before
// removing it (a window of microseconds).

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StateError } from '../errors.js';
import { LOCK_FILE } from './format.js';
import type { PersistFs } from './fs.js';
import { ioError } from './io.js';

export interface Lock {
  readonly file: string;
  readonly content: string;
}

interface Holder {
  readonly pid: number;
  readonly host: string;
}

const ATTEMPTS = 5;

function holderOf(content: string): Holder | undefined {
  try {
    const parsed = JSON.parse(content) as Partial<Holder>;
    if (typeof parsed.pid === 'number' && Number.isSafeInteger(parsed.pid) && typeof parsed.host === 'string') {
      return { pid: parsed.pid, host: parsed.host };
    }
  } catch {
    // torn or foreign: judged below
  }
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOrUndefined(fs: PersistFs, file: string): string | undefined {
  try {
    return fs.readFileSync(file).toString('utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError(file, 'read', error);
  }
}

/** Takes the directory's lock, or throws `locked` naming the holder. */
export function acquireLock(fs: PersistFs, dir: string): Lock {
  const file = join(dir, LOCK_FILE);
  const content = JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString(), token: randomUUID() });
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    let fd: number;
    try {
      fd = fs.openSync(file, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(file, 'create', error);
      const existing = readOrUndefined(fs, file);
      if (existing === undefined) continue; // released meanwhile: try again
      const holder = holderOf(existing);
      if (holder !== undefined && (holder.host !== hostname() || alive(holder.pid))) {
        throw new StateError(
          'locked',
          `${dir} is in use by process ${holder.pid}${holder.host === hostname() ? '' : ` on ${holder.host}`}: one store per directory`,
          { file, pid: holder.pid, rule: 'lock' },
        );
      }
      if (holder === undefined && attempt < ATTEMPTS - 1) {
        // Being written by an opener right now, or torn by a crash: give a writer a moment first.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
        if (readOrUndefined(fs, file) !== existing) continue;
      }
      // Stale: its process is gone. Remove it only if it is still the lock that was judged.
      if (readOrUndefined(fs, file) === existing) {
        try {
          fs.unlinkSync(file);
        } catch (unlinkError) {
          if ((unlinkError as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(file, 'remove a stale lock', unlinkError);
        }
      }
      continue;
    }
    try {
      const bytes = Buffer.from(content);
      fs.writeSync(fd, bytes, 0, bytes.length, 0);
    } catch (error) {
      fs.closeSync(fd);
      fs.unlinkSync(file);
      throw ioError(file, 'write', error);
    }
    fs.closeSync(fd);
    return { file, content };
  }
  throw new StateError('locked', `${dir}: could not take its lock after ${ATTEMPTS} attempts (other openers keep racing for it)`, {
    file,
    rule: 'lock',
  });
}

/** Gives the directory up, if the lock is still this one. */
export function releaseLock(fs: PersistFs, lock: Lock): void {
  try {
    if (readOrUndefined(fs, lock.file) === lock.content) fs.unlinkSync(lock.file);
  } catch {
    // A lock that cannot be removed is stale once this process ends; nothing else to do here.
  }
}

/** Who holds the directory's lock, if anyone alive does (for `localstate inspect`). */
export function lockHolder(fs: PersistFs, dir: string): Holder | undefined {
  const content = readOrUndefined(fs, join(dir, LOCK_FILE));
  if (content === undefined) return undefined;
  const holder = holderOf(content);
  return holder !== undefined && (holder.host !== hostname() || alive(holder.pid)) ? holder : undefined;
}
