// One store per directory, across processes: a second opener gets `locked`
// naming the holder's pid; a holder killed with SIGKILL leaves a stale lock
// that the next open detects and takes over.

import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { StateError } from '../../dist/index.js';
import { BACKENDS, freshPath, persistOptions } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/crash-child.mjs', import.meta.url));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Starts a child in `mode`; resolves with it once it has opened the store (hold), or once it has exited. */
function child(backend: 'wasm' | 'js', path: string, mode: 'hold' | 'exit'): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const process = spawn(globalThis.process.execPath, [CHILD, backend, path, 'everysec', '1', String(2 ** 30), mode], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(process);
    let out = '';
    let err = '';
    process.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (mode === 'hold' && out.includes('ready')) resolve(process);
    });
    process.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
    });
    process.on('error', reject);
    process.on('exit', (code) => {
      if (mode === 'exit' && code === 0) resolve(process);
      else if (mode === 'hold' || code !== 0) reject(new Error(`child exited (${code}): ${err}`));
    });
  });
}

function exited(process: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (process.exitCode !== null || process.signalCode !== null) resolve();
    else process.on('exit', () => resolve());
  });
}

describe.each(BACKENDS)('the lock, across processes, on %s', (_label, Backend) => {
  const backend = Backend.name === 'LocalState' ? 'wasm' : 'js';

  it('a second process opening a held path gets locked naming the holder; after SIGKILL the next open takes over', async () => {
    const path = freshPath();
    const holder = await child(backend, path, 'hold');
    const error = (await Backend.init({ persist: persistOptions(path) }).catch((e: unknown) => e)) as StateError;
    expect(error.code).toBe('locked');
    expect(error.pid).toBe(holder.pid);
    expect(error.message).toContain(String(holder.pid));
    holder.kill('SIGKILL');
    await exited(holder);
    const store = await Backend.init({ persist: persistOptions(path) });
    store.registerVariable('taken over', 'boolean', true);
    store.cleanup();
    const again = await Backend.init({ persist: persistOptions(path) });
    expect(again.getVariable('taken over')).toBe(true);
    again.cleanup();
  });

  it('a lock file left torn by a crash is stale; one held on another host is not', async () => {
    const path = freshPath();
    (await Backend.init({ persist: persistOptions(path) })).cleanup();
    writeFileSync(join(path, 'LOCK'), '{"pid": 12');
    (await Backend.init({ persist: persistOptions(path) })).cleanup();
    writeFileSync(join(path, 'LOCK'), JSON.stringify({ pid: 1, host: `not-${hostname()}` }));
    const error = (await Backend.init({ persist: persistOptions(path) }).catch((e: unknown) => e)) as StateError;
    expect(error.code).toBe('locked');
    expect(error.message).toContain(`not-${hostname()}`);
  });

  it('process.exit() in the middle of a synchronous stretch still hands the journal to the OS', async () => {
    const path = freshPath();
    await child(backend, path, 'exit');
    const store = await Backend.init({ persist: persistOptions(path) });
    expect(store.getVariable('x')).toBe(100);
    store.cleanup();
  });
});
