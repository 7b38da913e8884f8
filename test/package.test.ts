// What ships: `npm pack` must hold everything an importer needs, and a
// separate project must be able to install the tarball and use the API.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'localstate-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

it('packs the built JS, types and release wasm, and a fresh project can import and use it', () => {
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: root, encoding: 'utf8' }),
  ) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const files = packed[0]?.files.map((f) => f.path) ?? [];
  for (const required of [
    'dist/index.js',
    'dist/index.d.ts',
    'dist/core.wasm',
    'dist/local-state.js',
    'dist/cli.js',
    'dist/persist/compaction-worker.js',
    'package.json',
    'README.md',
  ]) {
    expect(files).toContain(required);
  }
  expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/') || f.endsWith('.wat'))).toBe(false);

  const app = join(work, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, packed[0]?.filename ?? '')], {
    cwd: app,
    stdio: 'pipe',
  });
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
