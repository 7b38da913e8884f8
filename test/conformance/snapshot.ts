import { describe, expect, it } from 'vitest';
import type { Mode } from '../../dist/index.js';
import { type ConformanceFactory, codeOf, errorOf, type Factory, observe, type Store } from './backend.js';

/** A store holding every type, special floats, a RegExp pattern, metadata and history. */
export async function richStore<M extends Mode>(factory: Factory<M>): Promise<Store<M>> {
  const s = await factory({ sessionId: 'source' });
  await s.registerVariable('temperature', 'float', 0.7, { constraints: { min: 0, max: 2 }, description: 'sampling temperature' });
  await s.registerVariable('nan', 'float', 'NaN');
  await s.registerVariable('inf', 'float', 'Infinity');
  await s.registerVariable('ninf', 'float', '-Infinity');
  await s.registerVariable('negzero', 'float', -0);
  await s.registerVariable('tiny', 'float', 5e-324);
  await s.registerVariable('max_tokens', 'integer', 256, { constraints: { min: 1, max: 4096 } });
  await s.registerVariable('flag', 'boolean', true);
  await s.registerVariable('instruction', 'string', 'Answer briefly.', { constraints: { pattern: /^[A-Z]/gi, maxLength: 100 } });
  await s.registerVariable('literal', 'string', 'a[b', { constraints: { pattern: '[b' } });
  await s.registerVariable('module', 'module', 'Predict', { constraints: { allowedModules: ['Predict', 'ChainOfThought'] } });
  await s.registerVariable('strategy', 'choice', 'greedy', { constraints: { choices: ['greedy', 'beam'] } });
  await s.registerVariable('embedding', 'embedding', [0.5, -0, 1e-300], { constraints: { dimensions: 3 } });
  await s.registerVariable('tensor', 'tensor', { shape: [2, 1], data: [[-0], [2]] });
  await s.registerVariable('__proto__', 'string', 'odd name', { metadata: JSON.parse('{"__proto__": {"x": 1}}') });
  await s.registerVariable('10', 'integer', 10);
  await s.setVariable('temperature', 0.9, { reason: 'step 3' });
  await s.setVariable('temperature', 1.1);
  await s.setVariable('instruction', 'Be precise.');
  await s.deleteVariable('inf');
  await s.registerVariable('inf', 'float', Number.POSITIVE_INFINITY);
  return s;
}

async function sameVariables(a: Store, b: Store): Promise<void> {
  const left = await a.listVariables();
  const right = await b.listVariables();
  expect(right.map((v) => v.id)).toEqual(left.map((v) => v.id));
  for (let i = 0; i < left.length; i++) {
    const l = left[i];
    const r = right[i];
    expect(r?.name).toBe(l?.name);
    expect(r?.type).toBe(l?.type);
    expect(r?.version).toBe(l?.version);
    expect(r?.createdAt).toBe(l?.createdAt);
    expect(r?.lastUpdatedAt).toBe(l?.lastUpdatedAt);
    expect(r?.metadata).toEqual(l?.metadata);
    expect(r?.constraints).toEqual(l?.constraints);
    // Object.is through the structure: NaN equals NaN, -0 differs from 0.
    expect(Object.is(r?.value, l?.value) || JSON.stringify(r?.value) === JSON.stringify(l?.value)).toBe(true);
    if (typeof l?.value === 'number') expect(Object.is(r?.value, l.value)).toBe(true);
  }
}

export function snapshotTests(factory: ConformanceFactory): void {
  describe('exportState / importState', () => {
    it('exports { sessionId, variables by id, variableIndex by name, metadata, stats } plus a format version', async () => {
      const s = await richStore(factory);
      const snap = await s.exportState();
      expect(snap.sessionId).toBe('source');
      expect(snap.formatVersion).toBe(1);
      expect(Object.keys(snap.variables)).toEqual((await s.listVariables()).map((v) => v.id));
      expect(snap.variableIndex.temperature).toBe((await s.listVariables())[0]?.id);
      expect(snap.stats.variableCount).toBe(16);
      expect(typeof snap.metadata.backend).toBe('string');
    });

    it('round-trips through JSON exactly: special floats, -0 inside arrays, RegExp patterns, order, ids, versions, times', async () => {
      const s = await richStore(factory);
      const snap = JSON.parse(JSON.stringify(await s.exportState()));
      const t = await factory({ sessionId: 'target' });
      await t.importState(snap);
      await sameVariables(s, t);
      expect(Object.is(await t.getVariable('negzero'), -0)).toBe(true);
      expect(Number.isNaN(await t.getVariable('nan'))).toBe(true);
      expect(Object.is(((await t.getVariable('embedding')) as number[])[1], -0)).toBe(true);
      expect(Object.is(((await t.getVariable('tensor')) as unknown as { data: number[][] }).data[0]?.[0], -0)).toBe(true);
      const pattern = (await t.listVariables()).find((v) => v.name === 'instruction')?.constraints.pattern;
      expect(pattern).toBeInstanceOf(RegExp);
      expect(String(pattern)).toBe('/^[A-Z]/gi');
      expect(await codeOf(() => t.setVariable('instruction', '1 lowercase start'))).toBe('constraint_violation');
      await t.setVariable('instruction', 'ok'); // i flag survived
      expect(await codeOf(() => t.setVariable('temperature', 2.5))).toBe('constraint_violation');
      // And again: the import of the import's export is the same.
      const u = await factory();
      await u.importState(JSON.parse(JSON.stringify(await t.exportState())));
      await sameVariables(t, u);
    });

    it('imports at init through existingState', async () => {
      const s = await richStore(factory);
      const t = await factory({ existingState: JSON.parse(JSON.stringify(await s.exportState())) });
      await sameVariables(s, t);
      await expect(factory({ existingState: { not: 'a snapshot' } })).rejects.toMatchObject({ code: 'invalid_export' });
    });

    it('never generates an id that arrived by import, even after the imported variable is deleted', async () => {
      const s = await factory();
      for (let i = 0; i < 5; i++) await s.registerVariable(`v${i}`, 'integer', i);
      const t = await factory();
      await t.importState(await s.exportState());
      const imported = new Set((await t.listVariables()).map((v) => v.id));
      await t.deleteVariable('v4');
      await t.registerVariable('v4', 'integer', 4);
      const fresh = await t.registerVariable('new', 'integer', 1);
      expect(imported.has((await t.listVariables()).find((v) => v.name === 'v4')?.id ?? '')).toBe(false);
      expect(imported.has(fresh)).toBe(false);
    });

    it('merges into the current state; a name or id that already exists is refused and nothing is imported', async () => {
      const s = await richStore(factory);
      const t = await factory();
      await t.registerVariable('other', 'integer', 1);
      await t.importState(await s.exportState());
      expect(await t.listVariables()).toHaveLength(17);
      const u = await factory();
      await u.registerVariable('temperature', 'float', 0);
      await u.registerVariable('unrelated', 'float', 0);
      const before = await observe(u);
      expect(await codeOf(async () => u.importState(await s.exportState()))).toBe('already_exists');
      expect(await observe(u)).toEqual(before);
      expect(await codeOf(async () => t.importState(await s.exportState()))).toBe('already_exists');
      expect(await t.listVariables()).toHaveLength(17);
    });

    it('refuses a defective payload with invalid_export naming the path, importing nothing', async () => {
      const s = await richStore(factory);
      const good = JSON.parse(JSON.stringify(await s.exportState()));
      const firstId = Object.keys(good.variables)[0] as string;
      const mutations: Array<[string, (p: Record<string, unknown> & { variables: Record<string, Record<string, unknown>> }) => void]> = [
        ['formatVersion', (p) => (p.formatVersion = 2)],
        ['variables', (p) => (p.variables = [] as never)],
        [`variables.${firstId}.value`, (p) => ((p.variables[firstId] as Record<string, unknown>).value = 'hot')],
        [`variables.${firstId}.value`, (p) => ((p.variables[firstId] as Record<string, unknown>).value = 5)],
        [`variables.${firstId}.version`, (p) => ((p.variables[firstId] as Record<string, unknown>).version = -1)],
        [`variables.${firstId}.id`, (p) => ((p.variables[firstId] as Record<string, unknown>).id = 'var_other_1')],
        [`variables.${firstId}.type`, (p) => ((p.variables[firstId] as Record<string, unknown>).type = 'double')],
        [`variables.${firstId}`, (p) => ((p.variables[firstId] as Record<string, unknown>).extra = 1)],
        [`variables.${firstId}.constraints`, (p) => ((p.variables[firstId] as Record<string, unknown>).constraints = { maxLenght: 1 })],
        [`variables.${firstId}.metadata`, (p) => ((p.variables[firstId] as Record<string, unknown>).metadata = [1])],
        ['variableIndex.temperature', (p) => ((p.variableIndex as Record<string, string>).temperature = 'var_x_1')],
        ['variableIndex', (p) => ((p.variableIndex as Record<string, string>).ghost = firstId)],
        ['variableIndex', (p) => delete (p.variableIndex as Record<string, string>).temperature],
        ['sessionId', (p) => delete p.sessionId],
      ];
      for (const [path, mutate] of mutations) {
        const payload = structuredClone(good);
        mutate(payload);
        const t = await factory();
        await t.registerVariable('keep', 'integer', 1);
        const before = await observe(t);
        const error = await errorOf(() => t.importState(payload));
        expect(error.code, path).toBe('invalid_export');
        expect(error.message, path).toContain(path);
        expect(await observe(t), path).toEqual(before);
      }
      const t = await factory();
      for (const bad of [null, 5, 'x', [], {}, { variables: {} }]) expect(await codeOf(() => t.importState(bad))).toBe('invalid_export');
    });

    it('keeps every id it generates parseable and unique: imported serials stop at 2^52, and generation stops there too', async () => {
      const s = await factory();
      await s.registerVariable('a', 'integer', 1);
      const withSerial = async (n: number) => JSON.parse(JSON.stringify(await s.exportState()).replaceAll(/var_a_\d+/g, `var_a_${n}`));
      expect(await codeOf(async () => s.importState(await withSerial(2 ** 52 + 1)))).toBe('invalid_export');
      const high = await factory({ existingState: await withSerial(2 ** 51) });
      const id = await high.registerVariable('b', 'integer', 2);
      expect(id).toBe(`var_b_${2 ** 51 + 1}`);
      const copy = await factory({ existingState: JSON.parse(JSON.stringify(await high.exportState())) });
      expect(await copy.getVariable(id)).toBe(2);
      const top = await factory({ existingState: await withSerial(2 ** 52) });
      expect(await codeOf(() => top.registerVariable('c', 'integer', 3))).toBe('invalid_argument');
      expect(await codeOf(() => top.registerVariable('d', 'integer', 3))).toBe('invalid_argument');
      expect((await top.listVariables()).map((v) => v.name)).toEqual(['a']);
      // A refused registration uses nothing up: the store still exports, and the export still imports.
      const exported = JSON.parse(JSON.stringify(await top.exportState()));
      expect(exported.nextSerial).toBe(2 ** 52 + 1);
      expect(await (await factory({ existingState: exported })).getVariable('a')).toBe(1);
    });

    it("an import carries the exporter's next id serial: no id is generated twice across a move, deleted ones included", async () => {
      const s = await factory();
      await s.registerVariable('a', 'float', 1);
      const gone = await s.registerVariable('b', 'float', 1);
      await s.deleteVariable('b');
      const snapshot = JSON.parse(JSON.stringify(await s.exportState()));
      expect(snapshot.nextSerial).toBe(3);
      const t = await factory({ existingState: snapshot });
      const again = await t.registerVariable('b', 'float', 2);
      expect(again).not.toBe(gone);
      // Both stores go on from the same serial.
      expect(again).toBe(await s.registerVariable('b', 'float', 2));
    });

    it('an export without nextSerial (from before it existed) still imports; a malformed one is invalid_export', async () => {
      const s = await factory();
      await s.registerVariable('a', 'float', 1);
      const snapshot = JSON.parse(JSON.stringify(await s.exportState()));
      delete snapshot.nextSerial;
      const t = await factory({ existingState: snapshot });
      expect(await t.getVariable('a')).toBe(1);
      for (const bad of [0, -1, 1.5, '3', 2 ** 60]) {
        const u = await factory();
        expect(await codeOf(() => u.importState({ ...snapshot, nextSerial: bad }))).toBe('invalid_export');
      }
    });

    it('reads an import payload once: a getter that changes its answer cannot act after validation', async () => {
      const s = await factory();
      await s.registerVariable('a', 'integer', 1);
      const payload = JSON.parse(JSON.stringify(await s.exportState()));
      let reads = 0;
      Object.defineProperty(payload, 'sessionId', {
        enumerable: true,
        get() {
          if (reads++ > 0) throw new TypeError('read twice');
          return 'source';
        },
      });
      const t = await factory();
      await t.importState(payload);
      expect(await t.getVariable('a')).toBe(1);
      expect((await t.exportState()).metadata.lastImport).toMatchObject({ sessionId: 'source', variables: 1 });
      expect(Object.isFrozen((await t.exportState()).metadata.lastImport)).toBe(true);
    });

    it('imports "__proto__" names and keys as data without polluting any prototype', async () => {
      const s = await richStore(factory);
      const json = JSON.stringify(await s.exportState());
      expect(json).toContain('"__proto__"');
      const t = await factory();
      await t.importState(JSON.parse(json));
      expect(await t.getVariable('__proto__')).toBe('odd name');
      expect(({} as Record<string, unknown>).x).toBeUndefined();
      const snap = await t.exportState();
      expect(Object.getOwnPropertyDescriptor(snap.variableIndex, '__proto__')?.value).toMatch(/^var___proto___\d+$/);
    });
  });
}
