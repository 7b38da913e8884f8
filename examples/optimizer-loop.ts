// The main job until the benchmark comparison lands: an optimizer-style loop
// over a few typed variables, printing what it did and how fast.
//   npm start

import { LocalState, StateError } from '../dist/index.js';

const state = await LocalState.init({ sessionId: 'demo' });
state.registerVariable('temperature', 'float', 0.7, { constraints: { min: 0, max: 2 }, description: 'sampling temperature' });
state.registerVariable('max_tokens', 'integer', 256, { constraints: { min: 16, max: 4096 } });
state.registerVariable('use_cot', 'boolean', false);
state.registerVariable('instruction', 'string', 'Answer the question.', { constraints: { maxLength: 200 } });
state.registerVariable('module', 'module', 'Predict', { constraints: { allowedModules: ['Predict', 'ChainOfThought'] } });
state.registerVariable('embedding', 'embedding', [0.1, 0.2, 0.3], { constraints: { dimensions: 3 } });

console.log(`localstate-wasm demo, session ${state.sessionId}`);
console.log(
  'registered:',
  state
    .listVariables()
    .map((v) => `${v.name}:${v.type}`)
    .join(', '),
);

// A toy objective with its optimum inside the bounds (a refused write throws, which costs microseconds).
const score = (t: number, k: number) => -((t - 1.3) ** 2) - ((k - 900) / 1000) ** 2;

const temperature = state.ref<number>('temperature');
const maxTokens = state.ref<number>('max_tokens');
const steps = 2_000_000;
let best = score(temperature.get(), maxTokens.get());
let seed = 42;
const random = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
let rejected = 0;
const started = process.hrtime.bigint();
for (let step = 0; step < steps; step++) {
  const t = temperature.get();
  const k = maxTokens.get();
  const nextT = t + (random() - 0.5) * 0.1;
  const nextK = k + Math.round((random() - 0.5) * 40);
  try {
    temperature.set(nextT);
    maxTokens.set(nextK);
  } catch (error) {
    if (!(error instanceof StateError)) throw error;
    rejected++; // out of bounds: the store refused it and kept the old value
    continue;
  }
  const s = score(nextT, nextK);
  if (s > best) best = s;
  else {
    temperature.set(t);
    maxTokens.set(k);
  }
}
const elapsedNs = Number(process.hrtime.bigint() - started);

state.updateVariables({ use_cot: true, module: 'ChainOfThought', instruction: 'Think step by step, then answer.' }, { by: 'demo' });
const stats = state.stats();
console.log(`\n${steps.toLocaleString()} optimizer steps in ${(elapsedNs / 1e6).toFixed(0)} ms`);
console.log(
  `  ${(elapsedNs / stats.totalOperations).toFixed(1)} ns per store call, loop arithmetic included (sets are validated, versioned, timestamped)`,
);
if (rejected > 0) console.log(`  ${rejected.toLocaleString()} writes refused by constraints, state unchanged by each`);
try {
  temperature.set(5);
} catch (error) {
  if (!(error instanceof StateError)) throw error;
  console.log(`  an out-of-range write is refused: ${error.code}: ${error.message}`);
}
console.log(`  best: temperature=${temperature.get().toFixed(3)}, max_tokens=${maxTokens.get()} (version ${temperature.version})`);
console.log(`  stats: ${JSON.stringify(stats)}`);
const snapshot = JSON.stringify(state.exportState());
const copy = await LocalState.init({ existingState: JSON.parse(snapshot) });
console.log(
  `\nexported ${snapshot.length} bytes of JSON and imported them into a new store: temperature=${copy.getVariable('temperature')}`,
);
console.log('for the side-by-side benchmark, run: npm run bench');
state.cleanup();
copy.cleanup();
