// localstate inspect: prints a store directory's variables, versions and
// journal figures, and never writes, not even to a directory a live store
// holds or to one the next open would repair.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LocalState } from '../../dist/index.js';
import { runCli } from '../../dist/persist/inspect-cli.js';
import { frameEnds, freshPath, internals, persistOptions } from './helpers.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** Runs the command line in this process, as the bin does: its exit code and what it printed. */
async function run(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const status = await runCli(
    args,
    (line) => stdout.push(line),
    (line) => stderr.push(line),
  );
  return { status, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}

/** Every file's name, size, mtime and content hash: what "never writes" must leave equal. */
function image(path: string): string {
  return readdirSync(path)
    .sort()
    .map((name) => {
      const file = join(path, name);
      return `${name} ${statSync(file).size} ${statSync(file).mtimeMs} ${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
    })
    .join('\n');
}

describe('localstate inspect', () => {
  it('prints the variables, versions, snapshot and journal figures of a live store, changing nothing', async () => {
    const path = freshPath();
    const store = await LocalState.init({ sessionId: 'cli', persist: persistOptions(path, { compaction: { minBytes: 2 ** 40 } }) });
    store.registerVariable('temperature', 'float', 0.7);
    store.registerVariable('prompt', 'string', 'Answer briefly.');
    await internals(store).journal?.compactNow();
    store.setVariable('temperature', 0.9);
    store.setVariable('temperature', Number.NaN);
    await store.flush();
    appendFileSync(join(path, 'journal-00000002.lsj'), Buffer.from([9, 0, 0])); // a torn tail
    const before = image(path);
    const result = await run('inspect', path);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('session   cli');
    expect(result.stdout).toContain(`held by process ${process.pid}`);
    expect(result.stdout).toContain('snapshot-00000002.lss: 2 variables');
    expect(result.stdout).toContain('torn tail journal-00000002.lsj');
    expect(result.stdout).toMatch(/temperature\s+float\s+2\s+NaN/);
    expect(result.stdout).toMatch(/prompt\s+string\s+0\s+"Answer briefly\."/);
    expect(image(path)).toBe(before);
    const json = JSON.parse((await run('inspect', path, '--json')).stdout);
    expect(json.variables.map((v: { name: string; version: number }) => [v.name, v.version])).toEqual([
      ['temperature', 2],
      ['prompt', 0],
    ]);
    expect(json.variables[0].value).toBe('NaN');
    expect(json.torn.bytes).toBe(3);
    expect(image(path)).toBe(before);
    store.cleanup();
  });

  it('reports damage and exits 1, listing the valid prefix; refuses bad usage and non-store directories', async () => {
    const path = freshPath();
    const store = await LocalState.init({ persist: persistOptions(path, { fsync: 'always' }) });
    store.registerVariable('x', 'integer', 1);
    store.setVariable('x', 2);
    store.cleanup();
    const file = join(path, 'journal-00000001.lsj');
    const bytes = readFileSync(file);
    const ends = frameEnds(file); // register, set, and the count cleanup() journals
    const inSet = (ends.at(-2) as number) - 2;
    bytes[inSet] = (bytes[inSet] as number) ^ 0x40;
    writeFileSync(file, bytes);
    const before = image(path);
    const result = await run('inspect', path);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('DAMAGE');
    expect(result.stdout).toMatch(/x\s+integer\s+0\s+1/);
    expect(image(path)).toBe(before);
    expect((await run('inspect')).status).toBe(2);
    expect((await run('frobnicate', path)).status).toBe(2);
    const empty = freshPath();
    mkdirSync(empty);
    const refused = await run('inspect', empty);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('holds no store');
  });

  it('is the package bin, with a shebang, and exits with the code of what it found', async () => {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(manifest.bin).toEqual({ localstate: './dist/cli.js' });
    expect(readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const path = freshPath();
    const store = await LocalState.init({ persist: persistOptions(path) });
    store.registerVariable('from the bin', 'boolean', true);
    store.cleanup();
    const ok = spawnSync(process.execPath, [CLI, 'inspect', path], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/from the bin\s+boolean\s+0\s+true/);
    expect(spawnSync(process.execPath, [CLI], { encoding: 'utf8' }).status).toBe(2);
  });
});
