// Start on the fastest backend, grow to Redis when the program needs to share:
// a Context runs an optimizer loop on a LocalState, then `require('distributed')`
// moves it, live, to RedisState, and a second process joins the session and
// reads what the first one wrote.
//   REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/grow-to-redis.ts

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Context } from '../dist/index.js';
import { RedisState } from '../dist/redis/index.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

if (process.argv[2] === 'join') {
  // The second process: the same session, through Redis.
  const sessionId = process.argv[3] as string;
  const joined = await RedisState.init({ url, sessionId });
  const values = await joined.getVariables(['temperature', 'max_tokens', 'best_score']);
  console.log(`joined ${sessionId}: ${JSON.stringify(values)}`);
  await joined.cleanup();
  process.exit(0);
}

const sessionId = `grow-${process.pid}`;
const ctx = await Context.create({
  sessionId,
  upgrades: { distributed: (id) => RedisState.init({ url, sessionId: id }) },
});
await ctx.registerVariable('temperature', 'float', 0.7, { constraints: { min: 0, max: 2 } });
await ctx.registerVariable('max_tokens', 'integer', 256, { constraints: { min: 16, max: 4096 } });
await ctx.registerVariable('best_score', 'float', 0);

/** A seeded random search over temperature and max_tokens, keeping the best score. */
async function optimize(trials: number, seed: number): Promise<void> {
  let s = seed;
  const random = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let trial = 0; trial < trials; trial++) {
    const temperature = Math.round(random() * 200) / 100;
    const maxTokens = 16 + Math.floor(random() * 1000);
    const score = 1 - Math.abs(temperature - 0.42) - Math.abs(maxTokens - 512) / 1000;
    if (score > ((await ctx.getVariable('best_score')) as number)) {
      await ctx.updateVariables({ temperature, max_tokens: maxTokens, best_score: score }, { trial });
    }
  }
}

let started = performance.now();
await optimize(20_000, 7);
console.log(`local: 20,000 trials in ${(performance.now() - started).toFixed(0)} ms on ${ctx.backend.constructor.name}`);

const move = await ctx.require('distributed').then(() => ctx.backend);
console.log(`moved to ${move.constructor.name}; the session is now shared`);

// A second process joins the session and reads what this one wrote.
const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'join', sessionId], {
  env: { ...process.env, REDIS_URL: url },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let output = '';
child.stdout.on('data', (chunk) => {
  output += chunk;
});
const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
process.stdout.write(output);
const mine = await ctx.getVariables(['temperature', 'max_tokens', 'best_score']);
const theirs = JSON.parse(output.slice(output.indexOf('{'))) as unknown;
const same = code === 0 && JSON.stringify(theirs) === JSON.stringify(mine);
console.log(same ? 'the second process read exactly what this one wrote' : `MISMATCH: ${JSON.stringify(mine)}`);

started = performance.now();
await optimize(200, 11);
console.log(`shared: 200 more trials in ${(performance.now() - started).toFixed(0)} ms on ${ctx.backend.constructor.name}`);
await (ctx.backend as RedisState).dropSession();
process.exit(same ? 0 : 1);
