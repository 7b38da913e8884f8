// assembly/ABI.md against the module it documents (dist/core.wasm): every
// export is documented, every documented ls_ name is exported, the function
// table's signatures are the binary's, and every number the page gives for a
// constant global is the global's value.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const DOC = readFileSync(new URL('../../assembly/ABI.md', import.meta.url), 'utf8');
const BYTES = new Uint8Array(readFileSync(new URL('../../dist/core.wasm', import.meta.url)));
const MODULE = new WebAssembly.Module(BYTES);
const EXPORTS = WebAssembly.Module.exports(MODULE);
const INSTANCE = new WebAssembly.Instance(MODULE, {});

const VALTYPES: Readonly<Record<number, string>> = { 127: 'i32', 126: 'i64', 125: 'f32', 124: 'f64' };

interface Signature {
  readonly params: string[];
  readonly results: string[];
}

/**
 * Signatures of exported functions and types of exported globals, read from
 * the binary's type, import, function, global and export sections (the JS API
 * does not reflect them).
 */
function readBinary(bytes: Uint8Array) {
  let p = 8;
  const byte = () => bytes[p++]!;
  const u32 = () => {
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      b = byte();
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return result;
  };
  const name = () => {
    const length = u32();
    const text = new TextDecoder().decode(bytes.subarray(p, p + length));
    p += length;
    return text;
  };
  const valtype = () => {
    const b = byte();
    return VALTYPES[b] ?? `0x${b.toString(16)}`;
  };
  /** Skips a constant expression up to its `end`; only the opcodes a global initialiser may use here. */
  const skipInit = () => {
    for (;;) {
      const op = byte();
      if (op === 0x0b) return;
      if (op === 0x41 || op === 0x42 || op === 0x23)
        u32(); // i32.const / i64.const (LEB) / global.get
      else if (op === 0x44) p += 8;
      else if (op === 0x43) p += 4;
      else throw new Error(`unexpected opcode 0x${op.toString(16)} in a global initialiser`);
    }
  };

  const types: Signature[] = [];
  const functionTypes: number[] = [];
  const globals: Array<{ type: string; mutable: boolean }> = [];
  const exports: Array<{ name: string; kind: number; index: number }> = [];
  let imports = 0;
  while (p < bytes.length) {
    const id = byte();
    const size = u32();
    const end = p + size;
    if (id === 1) {
      for (let n = u32(); n > 0; n--) {
        expect(byte(), 'func type form').toBe(0x60);
        const params = Array.from({ length: u32() }, valtype);
        const results = Array.from({ length: u32() }, valtype);
        types.push({ params, results });
      }
    } else if (id === 2) {
      imports = u32();
    } else if (id === 3) {
      for (let n = u32(); n > 0; n--) functionTypes.push(u32());
    } else if (id === 6) {
      for (let n = u32(); n > 0; n--) {
        const type = valtype();
        const mutable = byte() === 1;
        skipInit();
        globals.push({ type, mutable });
      }
    } else if (id === 7) {
      for (let n = u32(); n > 0; n--) exports.push({ name: name(), kind: byte(), index: u32() });
    }
    p = end;
  }
  expect(imports, 'the module imports nothing').toBe(0);
  const functions = new Map<string, Signature>();
  const globalTypes = new Map<string, { type: string; mutable: boolean }>();
  for (const e of exports) {
    if (e.kind === 0) functions.set(e.name, types[functionTypes[e.index]!]!);
    if (e.kind === 3) globalTypes.set(e.name, globals[e.index]!);
  }
  return { functions, globalTypes };
}

/** Rows of the markdown table under `## heading`: cells with the surrounding pipes and header rows removed. */
function tableRows(heading: string): string[][] {
  const start = DOC.indexOf(`\n## ${heading}\n`);
  expect(start, `ABI.md has a "## ${heading}" section`).toBeGreaterThanOrEqual(0);
  const rest = DOC.slice(start + heading.length + 5);
  const next = rest.indexOf('\n## ');
  const section = next >= 0 ? rest.slice(0, next) : rest;
  return section
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim()),
    )
    .filter((cells) => !cells.every((cell) => /^-+$/.test(cell)))
    .slice(1);
}

const unquote = (cell: string) => cell.replace(/^`|`$/g, '');

describe('assembly/ABI.md matches dist/core.wasm', () => {
  const documented = new Set(DOC.match(/\bls_[A-Za-z0-9_]+/g) ?? []);

  it('mentions every export, and every ls_ name it mentions is exported', () => {
    const exported = new Set(EXPORTS.map((e) => e.name));
    const undocumented = EXPORTS.filter((e) => (e.name.startsWith('ls_') ? !documented.has(e.name) : !DOC.includes(`\`${e.name}\``))).map(
      (e) => `${e.kind} ${e.name}`,
    );
    expect(undocumented, 'exports missing from ABI.md').toEqual([]);
    expect(
      [...documented].filter((name) => !exported.has(name)),
      'names in ABI.md that core.wasm does not export',
    ).toEqual([]);
    // Everything but the memory is an ls_ function or global.
    expect(EXPORTS.filter((e) => !e.name.startsWith('ls_')).map((e) => `${e.kind} ${e.name}`)).toEqual(['memory memory']);
  });

  it('documents each exported function in the Functions table with its exact signature', () => {
    const { functions } = readBinary(BYTES);
    const rows = tableRows('Functions');
    const table = new Map<string, string>();
    for (const [name = '', signature = ''] of rows) table.set(unquote(name), unquote(signature));
    expect([...table.keys()].sort(), 'functions in the table').toEqual([...functions.keys()].sort());
    for (const [name, actual] of functions) {
      const match = /^\((.*)\) → (\w+)$/.exec(table.get(name) ?? '');
      expect(match, `signature of ${name} in ABI.md: ${table.get(name)}`).not.toBeNull();
      const params = match![1] === '' ? [] : match![1]!.split(',').map((param) => param.split(':')[1]?.trim());
      expect({ params, results: [match![2]] }, name).toEqual(actual);
    }
    const i64 = [...functions].filter(([, s]) => [...s.params, ...s.results].includes('i64')).map(([name]) => name);
    expect(i64, 'functions taking or returning i64 (ABI.md promises none)').toEqual([]);
  });

  it('exports its constants as immutable i32 globals, and every number ABI.md gives for one is its value', () => {
    const { globalTypes } = readBinary(BYTES);
    for (const [name, global] of globalTypes) expect(global, name).toEqual({ type: 'i32', mutable: false });

    const value = (name: string) => {
      const g = INSTANCE.exports[name];
      if (!(g instanceof WebAssembly.Global)) throw new Error(`${name} is not an exported global`);
      return g.value as number;
    };
    // "| `ls_STATUS_OK` | 0 |" in the tables, "ls_HEADER_COUNT 12" and "ls_ENTRY_SIZE (48)" in the layout.
    const claims = [...DOC.matchAll(/\b(ls_[A-Z][A-Z0-9_]*)`?[ \t]*(?:\|[ \t]*|\([ \t]*)?(\d+)\b(?![.^])/g)].map((m) => ({
      name: m[1]!,
      number: Number(m[2]),
    }));
    expect(claims.length, 'numbers found in ABI.md').toBeGreaterThan(30);
    const wrong = claims.filter(({ name, number }) => globalTypes.has(name) && value(name) >>> 0 !== number);
    expect(
      wrong.map(({ name, number }) => `${name}: ABI.md says ${number}, the module exports ${value(name) >>> 0}`),
      'numbers in ABI.md that disagree with the globals',
    ).toEqual([]);

    // The status and type tables list every status and type global.
    const statusRows = tableRows('Status codes').map(([name = '']) => unquote(name));
    const typeRows = tableRows('Types').map(([name = '']) => unquote(name));
    const globals = [...globalTypes.keys()];
    expect(statusRows.sort()).toEqual(globals.filter((n) => n.startsWith('ls_STATUS_')).sort());
    expect(typeRows.sort()).toEqual(globals.filter((n) => n.startsWith('ls_TYPE_')).sort());
  });
});
