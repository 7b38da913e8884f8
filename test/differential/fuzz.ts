// What both differential tests (in-process and Redis) share: the environment
// knobs (FUZZ_LONG, FUZZ_SEED, FUZZ_RUNS, FUZZ_PATH) and a run of fast-check
// that says, when it fails, how to replay it.

import fc from 'fast-check';

export const LONG = process.env.FUZZ_LONG === '1';

function envInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got ${JSON.stringify(raw)}`);
  return value;
}

export interface FuzzSettings {
  readonly seed: number;
  readonly numRuns: number;
  /** Whether FUZZ_RUNS set the run count. */
  readonly runsFromEnv: boolean;
  readonly path: string | undefined;
}

/** The seed (fixed in CI, fresh in long mode, unless FUZZ_SEED) and run count (FUZZ_RUNS, else the mode's). */
export function fuzzSettings(ciRuns: number, longRuns: number): FuzzSettings {
  const runs = envInt('FUZZ_RUNS');
  return {
    seed: envInt('FUZZ_SEED') ?? (LONG ? (Date.now() ^ (Math.random() * 2 ** 31)) | 0 : 42),
    numRuns: runs ?? (LONG ? longRuns : ciRuns),
    runsFromEnv: runs !== undefined,
    path: process.env.FUZZ_PATH,
  };
}

/** fc.assert of `property`; a failure is rethrown with the line that replays it (FUZZ_PATH narrows to the counterexample). */
export async function assertReplayable<T>(property: fc.IAsyncProperty<T>, settings: FuzzSettings): Promise<void> {
  const { seed, numRuns, path } = settings;
  try {
    await fc.assert(property, { seed, numRuns, ...(path === undefined ? {} : { path, endOnFailure: true }) });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const replay = `Replay: FUZZ_SEED=${seed}${LONG ? ' FUZZ_LONG=1' : ''} FUZZ_RUNS=${numRuns} (add FUZZ_PATH from the line below to run only the counterexample)`;
    throw new Error(`${replay}\n${message}`, { cause: error });
  }
}
