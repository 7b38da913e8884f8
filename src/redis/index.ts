// localstate-wasm/redis: the provider contract on Redis. A separate entry, so
// that importing localstate-wasm never loads a Redis client.

export { StateError, type StateErrorCode } from '../errors.js';
export type { RedisInitOptions } from './options.js';
export { type RedisRef, RedisState } from './redis-state.js';
