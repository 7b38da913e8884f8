// The benchmark harness: every case measures each contender with mitata in
// one process, after checking that each contender computes the right answer
// (a benchmark of a wrong answer is worthless), and reports medians and the
// ratios the issue sets as targets.

import { measure } from 'mitata';

export interface Contender {
  readonly label: string;
  /**
   * The measured operation; must return (or pass to do_not_optimize) what it computes. An asynchronous
   * one returns its promise, every time: mitata awaits each call before the next (one at a time, so
   * round trips are never pipelined), and a call whose promise is dropped would time only its start.
   */
  readonly fn: () => unknown;
  /** Throws (or rejects) when the contender's answer is wrong. Runs, and is awaited, before and after timing. */
  readonly check: () => void | Promise<void>;
  /**
   * Each call waits for a server: time calls one by one. mitata otherwise times a fast call 4,096 at a
   * time, and a sample of a round trip would then take a second; one by one, the median and p99 are
   * those of single calls.
   */
  readonly roundTrip?: true;
}

export interface Target {
  /** Contender whose median is divided ... */
  readonly subject: string;
  /** ... by this contender's median. */
  readonly baseline: string;
  /** The ratio must be at most this. */
  readonly max: number;
  /**
   * Relative margin of noise around `max` (0.05: within 5%). A ratio inside it is reported as a tie
   * rather than met or missed, so a noisy machine neither grants nor denies a target it cannot resolve.
   */
  readonly tie?: number;
}

/** met: below the bound by more than the tie margin; tie: within it, either side; missed: above it. */
export type Verdict = 'met' | 'tie' | 'missed';

export interface TargetResult extends Target {
  readonly ratio: number;
  /** The ratio is within `max`, the literal bound. */
  readonly pass: boolean;
  readonly verdict: Verdict;
}

export interface Case {
  readonly id: string;
  readonly title: string;
  readonly contenders: readonly Contender[];
  readonly targets: readonly Target[];
  /** Free-form note printed under the case. */
  readonly note?: string;
  /** Reported unit: ns per operation (default) or per item of a batch. */
  readonly perItem?: number;
}

export interface CaseResult {
  readonly id: string;
  readonly title: string;
  readonly medians: Record<string, number>;
  readonly p99: Record<string, number>;
  readonly ratios: readonly TargetResult[];
  readonly perItem?: number;
  readonly note?: string;
  /** What the medians count: ns per operation (default) or bytes. */
  readonly unit?: 'ns' | 'bytes';
}

/** bench/results.json: what `npm run bench -- --json` writes and report.ts and chart.ts read. */
export interface Report {
  readonly date: string;
  readonly node: string;
  readonly v8: string;
  readonly cpu: string;
  readonly cores: number;
  readonly quick: boolean;
  readonly originBars: { readonly getNs: number; readonly setNs: number };
  readonly cases: readonly CaseResult[];
}

export interface MeasureOptions {
  /** Minimum CPU time per contender and round, in ns (mitata's default is 642 ms). */
  readonly minCpuTimeNs?: number;
  /** Rounds of measurement; each contender keeps its best median. */
  readonly rounds?: number;
}

export function assertEqual(actual: unknown, expected: unknown, what: string): void {
  if (!Object.is(actual, expected) && JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`benchmark check failed: ${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

export function verdictOf(target: Target, ratio: number): Verdict {
  const margin = target.max * (target.tie ?? 0);
  if (!(ratio <= target.max + margin)) return 'missed'; // NaN (a contender without a median) included
  return margin > 0 && ratio >= target.max - margin ? 'tie' : 'met';
}

export function judge(target: Target, ratio: number): TargetResult {
  return { ...target, ratio, pass: ratio <= target.max, verdict: verdictOf(target, ratio) };
}

/** Results written before verdicts existed carry only `pass`. */
export function verdictOfResult(r: Pick<TargetResult, 'pass'> & { readonly verdict?: Verdict }): Verdict {
  return r.verdict ?? (r.pass ? 'met' : 'missed');
}

/** The target as text: "≤ 1×, tie within 5%". */
export function describeBound(target: Target): string {
  return `≤ ${target.max}×${target.tie ? `, tie within ${Math.round(target.tie * 100)}%` : ''}`;
}

export async function runCase(c: Case, options: MeasureOptions = {}): Promise<CaseResult> {
  for (const contender of c.contenders) await contender.check();
  const medians: Record<string, number> = {};
  const p99: Record<string, number> = {};
  const divisor = c.perItem ?? 1;
  // Contenders take turns over several rounds, in alternating order, and each keeps its best
  // median: on a shared machine a slow spell then hits one round, not one contender.
  const rounds = options.rounds ?? 2;
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? c.contenders : [...c.contenders].reverse();
    for (const contender of order) {
      const stats = await measure(contender.fn, {
        min_cpu_time: options.minCpuTimeNs ?? 300e6,
        // A call at or under batch_threshold ns in warm-up is timed in batches; 0 turns batches off.
        ...(contender.roundTrip ? { batch_threshold: 0 } : {}),
      });
      const median = stats.p50 / divisor;
      if (!(median >= (medians[contender.label] ?? Number.POSITIVE_INFINITY))) {
        medians[contender.label] = median;
        p99[contender.label] = stats.p99 / divisor;
      }
    }
  }
  // Checked again after timing: the measured loop must not have corrupted the answer.
  for (const contender of c.contenders) await contender.check();
  // Report contenders in their declared order, whatever order the rounds ran in.
  const ordered = (values: Record<string, number>) => Object.fromEntries(c.contenders.map((x) => [x.label, values[x.label] as number]));
  const sorted = ordered(medians);
  const ratios = c.targets.map((t) => judge(t, (sorted[t.subject] ?? Number.NaN) / (sorted[t.baseline] ?? Number.NaN)));
  const result: CaseResult = { id: c.id, title: c.title, medians: sorted, p99: ordered(p99), ratios };
  return { ...result, ...(c.perItem === undefined ? {} : { perItem: c.perItem }), ...(c.note === undefined ? {} : { note: c.note }) };
}

/** A ratio with two significant digits below 0.1 (a 100× target's ratios would all print as 0.00×). */
export function formatRatio(ratio: number): string {
  return Math.abs(ratio) >= 0.1 || !Number.isFinite(ratio) || ratio === 0 ? ratio.toFixed(2) : ratio.toPrecision(2);
}

export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return String(ns);
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(ns < 10 ? 2 : 1)} ns`;
}

/** Console words, one width, so the lines align. */
export const VERDICT_WORDS: Readonly<Record<Verdict, string>> = { met: 'MET ', tie: 'TIE ', missed: 'MISS' };

export function printCase(result: CaseResult, print: (line: string) => void = console.log): void {
  print(`\n${result.title}${result.perItem ? ` (per item, batch of ${result.perItem})` : ''}`);
  for (const [label, median] of Object.entries(result.medians)) {
    const p99 = result.p99[label];
    const shown = result.unit === 'bytes' ? `${median.toFixed(0)} B` : formatNs(median);
    print(`  ${label.padEnd(34)} ${shown.padStart(10)}${p99 === undefined ? '' : `   p99 ${formatNs(p99)}`}`);
  }
  for (const r of result.ratios) {
    print(`  ${VERDICT_WORDS[verdictOfResult(r)]} ${r.subject} / ${r.baseline} = ${formatRatio(r.ratio)}× (target ${describeBound(r)})`);
  }
  if (result.note) print(`  ${result.note}`);
}

/** A deterministic PRNG for computed parameters. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
