// core.wasm hosted outside JavaScript: test/embed/host.c runs the release
// module through wasm2c (wabt) and gcc; test/embed/scenario.ts runs the same
// scenario against the raw exports with an empty import object. Both print one
// line per step and must print the same bytes.
//
// The C host needs wasm2c, gcc, wasm-rt.h and the wasm2c runtime (Debian and
// Ubuntu: apt-get install wabt gcc). Without them that test is skipped, and
// says so in its title and on stderr; .ci/run installs wabt so CI runs it.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CORE_WASM, formatF64, runScenario } from './scenario.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const HOST_C = join(HERE, 'host.c');
const WASM_PATH = fileURLToPath(CORE_WASM);

function run(command: string, args: readonly string[], input?: string) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, input });
  return {
    ok: result.error === undefined && result.status === 0,
    status: result.status,
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? '',
    error: result.error,
  };
}

function which(command: string): string | undefined {
  const found = run('sh', ['-c', `command -v ${command}`]);
  const path = found.stdout.trim();
  return found.ok && path !== '' ? path : undefined;
}

interface Toolchain {
  readonly wasm2c: string;
  readonly version: string;
  /** -I for wasm-rt.h, when it is not on gcc's default include path. */
  readonly includeArgs: readonly string[];
  /** How to link the wasm2c runtime: -lwasm-rt-impl, or its sources. */
  readonly runtimeArgs: readonly string[];
}

/** Finds wasm2c, gcc, wasm-rt.h and the runtime; returns what is missing instead when something is. */
function findToolchain(): Toolchain | { readonly missing: string[] } {
  const missing: string[] = [];
  const wasm2c = which('wasm2c');
  const gcc = which('gcc');
  if (wasm2c === undefined) missing.push('wasm2c (package wabt)');
  if (gcc === undefined) missing.push('gcc');
  if (wasm2c === undefined || gcc === undefined) return { missing };

  // Where wabt may have put wasm-rt.h and wasm-rt-impl.c, besides gcc's default paths.
  const prefix = resolve(dirname(realpathSync(wasm2c)), '..');
  const dirs = [
    join(prefix, 'include'),
    join(prefix, 'share', 'wabt', 'wasm2c'),
    join(prefix, 'src', 'wasm2c'),
    '/usr/include',
    '/usr/local/include',
    '/usr/share/wabt/wasm2c',
    '/usr/src/wasm2c',
  ];

  let includeArgs: string[] = [];
  const onDefaultPath = run('gcc', ['-x', 'c', '-fsyntax-only', '-'], '#include <wasm-rt.h>\n').ok;
  if (!onDefaultPath) {
    const dir = dirs.find((d) => existsSync(join(d, 'wasm-rt.h')));
    if (dir === undefined) missing.push('wasm-rt.h (package wabt)');
    else includeArgs = ['-I', dir];
  }

  let runtimeArgs: string[] = [];
  const library = run('gcc', ['-print-file-name=libwasm-rt-impl.a']).stdout.trim();
  if (library.startsWith('/') && existsSync(library)) {
    runtimeArgs = ['-L', dirname(library), '-lwasm-rt-impl'];
  } else {
    const dir = dirs.find((d) => existsSync(join(d, 'wasm-rt-impl.c')));
    if (dir === undefined) {
      missing.push('the wasm2c runtime (libwasm-rt-impl.a or wasm-rt-impl.c, package wabt)');
    } else {
      const sources = readdirSync(dir).filter((f) => /^wasm-rt-.*impl\.c$/.test(f));
      runtimeArgs = ['-I', dir, ...sources.map((f) => join(dir, f))];
    }
  }
  if (missing.length > 0) return { missing };
  return { wasm2c, version: run(wasm2c, ['--version']).stdout.trim(), includeArgs, runtimeArgs };
}

const toolchain = findToolchain();
const missing = 'missing' in toolchain ? toolchain.missing.join(', ') : undefined;
if (missing !== undefined) {
  console.warn(
    `test/embed: SKIPPING the C host test (wasm2c + gcc): not found: ${missing}. Install wabt and gcc (apt-get install wabt gcc) to run it.`,
  );
}

let scenarioLines: string[] | undefined;
/** The TypeScript host's output, computed once. */
function tsLines(): string[] {
  scenarioLines ??= runScenario();
  return scenarioLines;
}

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('core.wasm hosted outside JavaScript (test/embed)', () => {
  it('formatF64 prints as C printf("%.17g"), with nan, inf, -inf, 0 and -0 spelled out', () => {
    // Right-hand sides are glibc's output.
    const cases: Array<[number, string]> = [
      [2 ** -25, '2.9802322387695312e-08'], // an exact tie at 17 digits: rounds to even
      [0.1, '0.10000000000000001'],
      [1e21, '1e+21'],
      [1e-5, '1.0000000000000001e-05'],
      [123456, '123456'],
      [1e16, '10000000000000000'],
      [1e17, '1e+17'],
      [0.0001, '0.0001'],
      [0.00012345, '0.00012344999999999999'],
      [Number.MIN_VALUE, '4.9406564584124654e-324'],
      [Number.MAX_VALUE, '1.7976931348623157e+308'],
      [-1 / 3, '-0.33333333333333331'],
      [2 ** 60, '1.152921504606847e+18'],
      [Number.NaN, 'nan'],
      [Number.POSITIVE_INFINITY, 'inf'],
      [Number.NEGATIVE_INFINITY, '-inf'],
      [0, '0'],
      [-0, '-0'],
    ];
    for (const [value, printed] of cases) expect(formatF64(value), String(value)).toBe(printed);
  });

  it('the TypeScript host runs the scenario against the raw exports, instantiated with an empty import object', () => {
    expect(WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(WASM_PATH)))).toEqual([]);
    const lines = tsLines();
    expect(lines.at(-1)).toMatch(/^ok \d+ checks$/);
    expect(lines.some((line) => line.startsWith('grow at count'))).toBe(true);
  });

  it.skipIf(missing !== undefined)(
    `a C host (wasm2c + gcc) runs the same scenario and prints identical lines${missing === undefined ? '' : ` [SKIPPED: not found: ${missing}]`}`,
    () => {
      if ('missing' in toolchain) throw new Error('unreachable: skipped without a toolchain');
      const dir = mkdtempSync(join(tmpdir(), 'localstate-embed-'));
      tempDirs.push(dir);

      const translated = run(toolchain.wasm2c, [WASM_PATH, '-n', 'core', '-o', join(dir, 'core.c')]);
      expect(translated.ok, `wasm2c ${toolchain.version} failed:\n${translated.stderr}`).toBe(true);
      // wabt <= 1.0.32 names the instance Z_core_instance_t; 1.0.33 and later, w2c_core.
      const header = readFileSync(join(dir, 'core.h'), 'utf8');
      const api = header.includes('Z_core_instance_t') ? 1 : header.includes('w2c_core') ? 2 : 0;
      expect(api, `unrecognised wasm2c ${toolchain.version} output (core.h)`).not.toBe(0);

      const host = join(dir, 'host');
      const compiled = run('gcc', [
        '-O2',
        // wasm2c's advice for optimised builds: keep NaN and rounding behaviour as wasm defines it.
        '-fno-optimize-sibling-calls',
        '-frounding-math',
        '-fsignaling-nans',
        '-ffp-contract=off',
        `-DLS_WASM2C_API=${api}`,
        '-I',
        dir,
        ...toolchain.includeArgs,
        HOST_C,
        join(dir, 'core.c'),
        ...toolchain.runtimeArgs,
        '-lm',
        '-o',
        host,
      ]);
      expect(compiled.ok, `gcc failed:\n${compiled.stderr}`).toBe(true);

      const ran = run(host, []);
      expect(
        ran.ok,
        `the C host exited with ${ran.status}:\n${ran.stderr}\n(last lines: ${ran.stdout.split('\n').slice(-4).join(' | ')})`,
      ).toBe(true);
      const cLines = ran.stdout.split('\n');
      expect(cLines.pop(), 'output ends with a newline').toBe('');
      expect(cLines.at(-1)).toMatch(/^ok \d+ checks$/);

      const expected = tsLines();
      const first = expected.findIndex((line, i) => cLines[i] !== line);
      if (first >= 0) expect(cLines[first], `line ${first + 1} differs (C host, then TypeScript host)`).toBe(expected[first]);
      expect(cLines.length, 'line count').toBe(expected.length);
      expect(ran.stdout).toBe(`${expected.join('\n')}\n`);
    },
    60_000,
  );
});
