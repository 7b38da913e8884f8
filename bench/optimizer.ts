// End to end: a seeded random-search optimizer over the mixed store, as a
// DSPy-style program runs one. Each trial reads the parameters with
// getVariables, scores a candidate, writes an improvement with one atomic
// updateVariables carrying { trial, score }, and now and then makes a write
// the store must refuse. A few times per run the state goes through
// exportState → JSON → importState, and one watcher counts best-score
// changes. The same seeded decisions applied to a plain object give the
// answer every run is checked against.

import { JsLocalState, LocalState, StateError, type VariableValue } from '../dist/index.js';
import { assertEqual, type Case, type CaseResult, mulberry32 } from './harness.js';
import { EMBEDDING_DIMENSIONS, MIXED_NAMES, mixedStore, mixedValues } from './stores.js';

export const TRIALS = 2000;
export const CHECKPOINTS = 4;
const SEED = 9;
/** Share of trials spent on a write the store must refuse. */
const INVALID_SHARE = 0.02;

type Params = Record<string, VariableValue>;
type Backend = typeof LocalState | typeof JsLocalState;

/** What a trial reads: the seven parameters and the best score so far. */
const READ = [...MIXED_NAMES, 'best_score'];
const STRATEGIES = ['predict', 'chain_of_thought', 'react'] as const;
const MODULE_OF: Readonly<Record<string, string>> = { predict: 'Predict', chain_of_thought: 'ChainOfThought', react: 'ReAct' };
const INSTRUCTIONS = ['Answer the question.', 'Think step by step, then answer.', 'Answer briefly.', 'Cite the passage, then answer.'];
const STRATEGY_BONUS: Readonly<Record<string, number>> = { predict: 0, chain_of_thought: 0.08, react: 0.05 };
/** The embedding direction the objective rewards. */
const GOAL = Array.from({ length: EMBEDDING_DIMENSIONS }, (_, i) => (i % 3) - 1);

/** A cheap deterministic objective with its optimum inside the bounds. */
export function scoreOf(p: Params): number {
  const t = p.temperature as number;
  const k = p.max_tokens as number;
  const embedding = p.embedding as readonly number[];
  let alignment = 0;
  for (let i = 0; i < EMBEDDING_DIMENSIONS; i++) alignment += (embedding[i] as number) * (GOAL[i] as number);
  return (
    -((t - 1.3) ** 2) -
    ((k - 900) / 1000) ** 2 +
    (p.use_cot ? 0.05 : 0) +
    (STRATEGY_BONUS[p.strategy as string] ?? 0) +
    (p.instruction as string).length / 1000 +
    alignment / EMBEDDING_DIMENSIONS
  );
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** A candidate near the current parameters; only what changed, so each variable's version counts its own writes. */
function propose(current: Params, random: () => number): Params {
  const changed: Params = {};
  const t = clamp((current.temperature as number) + (random() - 0.5) * 0.2, 0, 2);
  if (t !== current.temperature) changed.temperature = t;
  const k = clamp((current.max_tokens as number) + Math.round((random() - 0.5) * 128), 16, 4096);
  if (k !== current.max_tokens) changed.max_tokens = k;
  if (random() < 0.1) changed.use_cot = !current.use_cot;
  if (random() < 0.1) {
    const strategy = STRATEGIES[Math.floor(random() * STRATEGIES.length)] as string;
    if (strategy !== current.strategy) {
      changed.strategy = strategy;
      changed.module = MODULE_OF[strategy] as string;
    }
  }
  if (random() < 0.05) {
    const instruction = INSTRUCTIONS[Math.floor(random() * INSTRUCTIONS.length)] as string;
    if (instruction !== current.instruction) changed.instruction = instruction;
  }
  const embedding = [...(current.embedding as readonly number[])];
  const dim = Math.floor(random() * EMBEDDING_DIMENSIONS);
  embedding[dim] = clamp((embedding[dim] as number) + (random() - 0.5) * 0.2, -1, 1);
  changed.embedding = embedding;
  return changed;
}

/** A write that breaks one rule, and the variable and error code the store must name. */
interface InvalidWrite {
  readonly update: Params;
  readonly variable: string;
  readonly code: 'constraint_violation' | 'invalid_value';
}

function invalidWrite(current: Params, random: () => number): InvalidWrite {
  const pick = Math.floor(random() * 3);
  // Each carries a valid change too: the batch is atomic, so neither part may land.
  const valid = { use_cot: !current.use_cot };
  if (pick === 0) return { update: { ...valid, temperature: 2 + random() }, variable: 'temperature', code: 'constraint_violation' };
  if (pick === 1) return { update: { ...valid, max_tokens: 100.5 }, variable: 'max_tokens', code: 'invalid_value' };
  return { update: { ...valid, strategy: 'guess' }, variable: 'strategy', code: 'constraint_violation' };
}

/** What a run ends with; the model must end with the same. */
export interface Outcome {
  readonly params: Params;
  readonly bestScore: number;
  /** Watcher events on best_score, over every store of the run. */
  readonly events: number;
  readonly versions: Record<string, number>;
  /** Refused writes, counted by "variable code". */
  readonly refusals: Record<string, number>;
  /** The metadata the last improvement left on best_score. */
  readonly lastImprovement: unknown;
}

const isCheckpoint = (trial: number) => (trial + 1) % (TRIALS / CHECKPOINTS) === 0;

type Store = LocalState | JsLocalState;

/**
 * Replaces the store's contents with a saved state, in place: every variable is deleted, then the
 * snapshot imported (importState merges, and refuses names the store still holds). Not into a fresh
 * store: LocalState.init instantiates a wasm table, which takes milliseconds (four would outweigh the
 * run's 2,000 trials), a cost a program pays once per process, not once per checkpoint.
 */
function restore(store: Store, saved: string): void {
  for (const name of READ) store.deleteVariable(name);
  store.importState(JSON.parse(saved));
}

/** An optimizer on one store of `Backend`; each run starts from the same saved state, so every run must end alike. */
export async function optimizerOn(Backend: Backend): Promise<() => Outcome> {
  const store = await mixedStore<Store>(Backend);
  store.registerVariable('best_score', 'float', scoreOf(mixedValues()));
  const start = JSON.stringify(store.exportState());
  return () => optimize(store, start);
}

function optimize(store: Store, start: string): Outcome {
  restore(store, start);
  const random = mulberry32(SEED);
  let events = 0;
  const onEvent = () => {
    events++;
  };
  let watch = store.watchVariables(['best_score'], onEvent);
  const refusals: Record<string, number> = {};
  for (let trial = 0; trial < TRIALS; trial++) {
    const current = store.getVariables(READ);
    if (random() < INVALID_SHARE) {
      const bad = invalidWrite(current, random);
      try {
        store.updateVariables(bad.update, { trial });
      } catch (error) {
        if (!(error instanceof StateError) || error.code !== 'batch_failed') throw error;
        const key = `${bad.variable} ${error.errors?.[bad.variable]?.code}`;
        refusals[key] = (refusals[key] ?? 0) + 1;
      }
    } else {
      const candidate = propose(current, random);
      const score = scoreOf({ ...current, ...candidate });
      if (score > (current.best_score as number)) store.updateVariables({ ...candidate, best_score: score }, { trial, score });
    }
    if (isCheckpoint(trial)) {
      // Saved as a program saves its state, then resumed from what was saved, so a checkpoint that
      // lost anything changes the final answer. The watch is unwatched first (deleting best_score would
      // end it with a delete event) and set up again: a watch is process state, not data.
      const saved = JSON.stringify(store.exportState());
      watch.unwatch();
      restore(store, saved);
      watch = store.watchVariables(['best_score'], onEvent);
    }
  }
  watch.unwatch();
  const info = store.listVariables();
  const best = info.find((v) => v.name === 'best_score');
  return {
    params: store.getVariables(MIXED_NAMES),
    bestScore: best?.value as number,
    events,
    versions: Object.fromEntries(info.map((v) => [v.name, v.version])),
    refusals,
    lastImprovement: best?.metadata,
  };
}

/** The same seeded decisions applied to a plain object, with the rules written out by hand. */
export function model(): Outcome {
  const random = mulberry32(SEED);
  const values: Params = { ...mixedValues(), best_score: scoreOf(mixedValues()) };
  const versions: Record<string, number> = Object.fromEntries(READ.map((name) => [name, 0]));
  const refusals: Record<string, number> = {};
  let events = 0;
  let lastImprovement: unknown = {};
  const breaks = (name: string, value: VariableValue): InvalidWrite['code'] | undefined => {
    if (name === 'temperature') return (value as number) < 0 || (value as number) > 2 ? 'constraint_violation' : undefined;
    if (name === 'max_tokens') return Number.isSafeInteger(value) ? undefined : 'invalid_value';
    if (name === 'strategy') return (STRATEGIES as readonly unknown[]).includes(value) ? undefined : 'constraint_violation';
    return undefined;
  };
  const apply = (update: Params) => {
    for (const [name, value] of Object.entries(update)) {
      values[name] = value;
      versions[name] = (versions[name] ?? 0) + 1;
    }
  };
  for (let trial = 0; trial < TRIALS; trial++) {
    const current = { ...values };
    if (random() < INVALID_SHARE) {
      const bad = invalidWrite(current, random);
      const failures = Object.entries(bad.update).flatMap(([name, value]) => {
        const code = breaks(name, value);
        return code === undefined ? [] : [`${name} ${code}`];
      });
      for (const key of failures) refusals[key] = (refusals[key] ?? 0) + 1;
      if (failures.length === 0) apply(bad.update);
    } else {
      const candidate = propose(current, random);
      const score = scoreOf({ ...current, ...candidate });
      if (score > (current.best_score as number)) {
        apply({ ...candidate, best_score: score });
        events++;
        lastImprovement = { trial, score };
      }
    }
  }
  const params = Object.fromEntries(MIXED_NAMES.map((name) => [name, values[name] as VariableValue]));
  return { params, bestScore: values.best_score as number, events, versions, refusals, lastImprovement };
}

/** Time per run of TRIALS trials (CHECKPOINTS checkpoints included), LocalState against JsLocalState. */
export async function optimizerCase(): Promise<Case> {
  const expected = model();
  const contender = async (label: string, Backend: Backend) => {
    const run = await optimizerOn(Backend);
    let last: Outcome | undefined;
    return {
      label,
      fn: () => {
        last = run();
      },
      // A fresh run, and the last timed one: a timed run that went wrong is caught too.
      check: () => {
        assertEqual(run(), expected, `${label}: optimizer run against the plain-object model`);
        if (last !== undefined) assertEqual(last, expected, `${label}: last timed run against the plain-object model`);
      },
    };
  };
  return {
    id: 'optimizer',
    title: `seeded random-search optimizer, ${TRIALS.toLocaleString()} trials, ${CHECKPOINTS} checkpoints (time per run)`,
    contenders: [await contender('wasm LocalState', LocalState), await contender('pure-JS JsLocalState', JsLocalState)],
    // Time per run, so wasm / JS ≤ 1 is the same as LocalState trials/s ≥ JsLocalState trials/s.
    targets: [{ subject: 'wasm LocalState', baseline: 'pure-JS JsLocalState', max: 1, tie: 0.05 }],
  };
}

/** The run's medians as trials per second, in the case's note. */
export function withTrialRates(result: CaseResult): CaseResult {
  const rates = Object.entries(result.medians).map(([label, ns]) => `${label} ${Math.round((TRIALS * 1e9) / ns).toLocaleString()}`);
  const run = 'a run restores the start state, watches best_score, and restores from JSON at every checkpoint';
  return { ...result, note: `trials per second: ${rates.join('; ')} (${run})` };
}
