// What ships: `npm pack` must hold everything an importer needs, and a
// separate project must be able to install the tarball and use the API, from
// ES modules and from CommonJS. The Redis entry needs `redis`, an optional
// peer: the main entry must work without it and never load it.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithRedis } from './redis/server.js';

const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'localstate-pack-'));
const app = join(work, 'app');
let files: string[] = [];
afterAll(() => rmSync(work, { recursive: true, force: true }));

// One tarball, installed once into a fresh project that has no `redis`; the tests below run in order.
beforeAll(() => {
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: root, encoding: 'utf8' }),
  ) as Array<{ filename: string; files: Array<{ path: string }> }>;
  files = packed[0]?.files.map((f) => f.path) ?? [];
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, packed[0]?.filename ?? '')], {
    cwd: app,
    stdio: 'pipe',
  });
}, 120_000);

it('packs the built JS, types and release wasm, and a fresh project can import and use it', () => {
  for (const required of [
    'dist/index.js',
    'dist/index.d.ts',
    'dist/core.wasm',
    'dist/local-state.js',
    'dist/redis/index.js',
    'dist/redis/index.d.ts',
    'dist/cli.js',
    'dist/persist/compaction-worker.js',
    'package.json',
    'README.md',
  ]) {
    expect(files).toContain(required);
  }
  expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/') || f.endsWith('.wat'))).toBe(false);
  writeFileSync(
    join(app, 'main.js'),
    `import { LocalState, StateError } from 'localstate-wasm';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const state = await LocalState.init({ sessionId: 'app' });
state.registerVariable('temperature', 'float', 0.7, { constraints: { min: 0, max: 2 } });
state.ref('temperature').set(0.9);
let code;
try { state.setVariable('temperature', 3); } catch (e) { code = e instanceof StateError ? e.code : 'wrong'; }
const wasmPath = createRequire(import.meta.url).resolve('localstate-wasm/core.wasm');
const mod = new WebAssembly.Module(readFileSync(wasmPath));
console.log(JSON.stringify({ value: state.getVariable('temperature'), code, imports: WebAssembly.Module.imports(mod).length }));
`,
  );
  const out = execFileSync('node', ['main.js'], { cwd: app, encoding: 'utf8' });
  expect(JSON.parse(out)).toEqual({ value: 0.9, code: 'constraint_violation', imports: 0 });

  // Persistence from the installed package, the compaction worker included, and its CLI as a bin.
  writeFileSync(
    join(app, 'persist.js'),
    `import { LocalState } from 'localstate-wasm';
const state = await LocalState.init({ persist: { path: './run.lsdb', compaction: { minBytes: 0 } } });
state.registerVariable('temperature', 'float', 0.7);
await state.flush();
state.setVariable('temperature', 0.8);
state.cleanup();
const again = await LocalState.init({ persist: { path: './run.lsdb' } });
console.log(JSON.stringify({ value: again.getVariable('temperature'), persistent: again.capabilities().persistent }));
again.cleanup();
`,
  );
  expect(JSON.parse(execFileSync('node', ['persist.js'], { cwd: app, encoding: 'utf8' }))).toEqual({ value: 0.8, persistent: true });
  const inspected = execFileSync(join(app, 'node_modules/.bin/localstate'), ['inspect', 'run.lsdb'], { cwd: app, encoding: 'utf8' });
  expect(inspected).toMatch(/temperature\s+float\s+1\s+0\.8/);

  // The shipped declarations type-check in a strict consumer that does not skip library checks:
  // nothing public may refer to a stripped internal type or to the WebAssembly DOM types.
  writeFileSync(
    join(app, 'check.ts'),
    `import { JsLocalState, LocalState, StateError, type StateProvider, type VariableRef, type WatchEvent } from 'localstate-wasm';
const wasm: StateProvider<'sync'> = await LocalState.init({ sessionId: 'typed' });
const any: StateProvider = await JsLocalState.init();
const ref: VariableRef<number> = (await LocalState.init()).ref<number>('x');
const seen: WatchEvent[] = [];
export { any, ref, seen, StateError, wasm };
`,
  );
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        skipLibCheck: false,
        noEmit: true,
        types: ['node'],
        typeRoots: [join(root, 'node_modules/@types')],
      },
      files: ['check.ts'],
    }),
  );
  const tsc = join(root, 'node_modules/.bin/tsc');
  const typecheck = spawnSync(tsc, ['-p', app], { encoding: 'utf8' });
  expect(typecheck.stdout + typecheck.stderr).toBe('');
  expect(typecheck.status).toBe(0);
});

it('from CommonJS, require() loads the main entry without redis installed; the Redis entry then names what it misses', () => {
  writeFileSync(
    join(app, 'main.cjs'),
    `const { JsLocalState, LocalState, StateError } = require('localstate-wasm');
const result = { redis: 'installed' };
try { require.resolve('redis'); } catch { result.redis = 'absent'; }
Promise.all([LocalState.init({ sessionId: 'cjs' }), JsLocalState.init()]).then(([state, js]) => {
  state.registerVariable('temperature', 'float', 0.7, { constraints: { min: 0, max: 2 } });
  state.ref('temperature').set(0.9);
  try { state.setVariable('temperature', 3); } catch (e) { result.code = e instanceof StateError ? e.code : 'wrong'; }
  result.value = state.getVariable('temperature');
  js.registerVariable('top_k', 'integer', 40);
  result.js = js.getVariable('top_k');
  try { require('localstate-wasm/redis'); result.redisEntry = 'loaded'; } catch (e) { result.redisEntry = e.code + ' ' + /'redis'/.test(e.message); }
  console.log(JSON.stringify(result));
});
`,
  );
  const out = execFileSync('node', ['main.cjs'], { cwd: app, encoding: 'utf8' });
  expect(JSON.parse(out)).toEqual({
    redis: 'absent',
    code: 'constraint_violation',
    value: 0.9,
    js: 40,
    redisEntry: 'ERR_MODULE_NOT_FOUND true',
  });
});

describeWithRedis('with redis installed', (server) => {
  it('both entries work through require() and import; the main entry never loads redis, the Redis entry does', () => {
    // The peer, at the version this project tests against, from npm's cache where it can.
    const version = (JSON.parse(readFileSync(join(root, 'node_modules/redis/package.json'), 'utf8')) as { version: string }).version;
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', `redis@${version}`], { cwd: app, stdio: 'pipe' });
    const use = `const url = process.argv[2];
const state = await RedisState.init({ url, keyPrefix: 'package', sessionId: process.argv[3] });
await state.registerVariable('temperature', 'float', 0.7, { constraints: { min: 0, max: 2 } });
await state.setVariable('temperature', 0.9);
let code;
try { await state.setVariable('temperature', 3); } catch (e) { code = e instanceof StateError ? e.code : 'wrong'; }
const value = await state.getVariable('temperature');
await state.dropSession();
`;
    writeFileSync(
      join(app, 'redis.cjs'),
      `const isRedis = (file) => /[\\/]node_modules[\\/](redis|@redis)[\\/]/.test(file);
const main = require('localstate-wasm');
const afterMain = Object.keys(require.cache).filter(isRedis).length;
const { RedisState, StateError } = require('localstate-wasm/redis');
const afterRedis = Object.keys(require.cache).filter(isRedis).length;
(async () => {
${use}
console.log(JSON.stringify({ afterMain, loaded: afterRedis > 0, sameError: StateError === main.StateError, code, value }));
})();
`,
    );
    writeFileSync(
      join(app, 'redis.js'),
      `import { RedisState, StateError } from 'localstate-wasm/redis';
${use}
console.log(JSON.stringify({ code, value }));
`,
    );
    const cjs = execFileSync('node', ['redis.cjs', server().url, 'cjs'], { cwd: app, encoding: 'utf8' });
    expect(JSON.parse(cjs)).toEqual({ afterMain: 0, loaded: true, sameError: true, code: 'constraint_violation', value: 0.9 });
    const esm = execFileSync('node', ['redis.js', server().url, 'esm'], { cwd: app, encoding: 'utf8' });
    expect(JSON.parse(esm)).toEqual({ code: 'constraint_violation', value: 0.9 });
  }, 120_000);
});
