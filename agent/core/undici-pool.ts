/**
 * undici's `Pool`, loaded without undici's entry point. The entry point loads the whole library
 * (fetch, WebSocket, EventSource, the HTTP cache, the mock agents, the interceptors and their Node
 * built-ins) for the one class the agent uses: 2 MB of a backfill's peak RSS and 2-7 MB at idle
 * (npm run bench). This loads the same files the entry point would for `Pool`, and mixes in
 * the request API as the entry point does (`Object.assign(Dispatcher.prototype, api)`).
 *
 * These paths are undici's layout, not its published API: package.json pins the exact version,
 * and every test that sends a request fails at once if an upgrade moves them.
 */
import { createRequire } from 'node:module';
import type { Pool as PoolClass } from 'undici';

const require = createRequire(import.meta.url);
const Dispatcher = require('undici/lib/dispatcher/dispatcher.js') as { prototype: object };
Object.assign(Dispatcher.prototype, require('undici/lib/api/index.js'));

export const Pool = require('undici/lib/dispatcher/pool.js') as typeof PoolClass;
export type Pool = PoolClass;
