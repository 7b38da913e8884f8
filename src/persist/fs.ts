// The file-system seam: every call persistence makes to the file system goes
// through one of these functions, so tests can make a write, an fsync or the
// disk fail exactly where they want (test/persist/io-faults.test.ts). Nothing
// else in the package swaps it.

import * as fs from 'node:fs';

export interface PersistFs {
  openSync(path: string, flags: string): number;
  closeSync(fd: number): void;
  /** May write fewer bytes than asked (a short write); the caller loops. */
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position?: number | null): number;
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  fstatSync(fd: number): { readonly size: number };
  ftruncateSync(fd: number, length: number): void;
  fdatasyncSync(fd: number): void;
  fsyncSync(fd: number): void;
  /** In the thread pool: what `everysec` and flush() use, so the event loop never waits for a disk. */
  fdatasync(fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void;
  fsync(fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
  mkdirSync(path: string, options: { recursive: true }): void;
  readdirSync(path: string): string[];
  readFileSync(path: string): Buffer;
  copyFileSync(from: string, to: string): void;
}

export const nodeFs: PersistFs = {
  openSync: (path, flags) => fs.openSync(path, flags),
  closeSync: (fd) => fs.closeSync(fd),
  writeSync: (fd, buffer, offset, length, position) => fs.writeSync(fd, buffer, offset, length, position),
  readSync: (fd, buffer, offset, length, position) => fs.readSync(fd, buffer, offset, length, position),
  fstatSync: (fd) => fs.fstatSync(fd),
  ftruncateSync: (fd, length) => fs.ftruncateSync(fd, length),
  fdatasyncSync: (fd) => fs.fdatasyncSync(fd),
  fsyncSync: (fd) => fs.fsyncSync(fd),
  fdatasync: (fd, callback) => fs.fdatasync(fd, callback),
  fsync: (fd, callback) => fs.fsync(fd, callback),
  renameSync: (from, to) => fs.renameSync(from, to),
  unlinkSync: (path) => fs.unlinkSync(path),
  mkdirSync: (path, options) => {
    fs.mkdirSync(path, options);
  },
  readdirSync: (path) => fs.readdirSync(path),
  readFileSync: (path) => fs.readFileSync(path),
  copyFileSync: (from, to) => fs.copyFileSync(from, to),
};

let active: PersistFs = nodeFs;

/** The file system stores opened from now on use. */
export function persistFs(): PersistFs {
  return active;
}

/** Tests only (this module is not exported by the package): the file system stores opened from now on use (undefined: node:fs again). */
export function setPersistFs(replacement: PersistFs | undefined): void {
  active = replacement ?? nodeFs;
}
