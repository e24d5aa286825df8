/**
 * What the middleware every response goes through costs (functions/observability.ts: request id, access log,
 * security headers, compression): the same handler answered with and without it, in-process (`app.request`, no
 * socket), the log a no-op as a discarding pino would be close to. A /predict answer (~1 KB of JSON, left
 * uncompressed) and a 40 KB JSON list (gzipped), both to a client that accepts gzip.
 *   npm run bench -- --suite http
 */
import { Hono } from 'hono';
import { httpBasics } from '../../../functions/observability.ts';
import { EXAMPLES } from '../../../functions/openapi-examples.ts';
import type { BenchCase } from '../types.ts';

const PER_RUN = 200;
const headers = { 'accept-encoding': 'gzip, deflate, br' };
const verdict = EXAMPLES.predictionDanger;
const list = { sessions: Array.from({ length: 12 }, () => EXAMPLES.session) };

function app(withBasics: boolean): Hono {
  const a = new Hono();
  if (withBasics) for (const m of httpBasics(() => {}, { crossOrigin: false })) a.use('*', m);
  a.get('/verdict', (c) => c.json(verdict));
  a.get('/list', (c) => c.json(list));
  return a;
}

async function drive(a: Hono, path: string): Promise<void> {
  for (let i = 0; i < PER_RUN; i++) await (await a.request(path, { headers })).arrayBuffer();
}

const plain = app(false);
const basics = app(true);

export const httpBenchCases: BenchCase[] = [
  { name: 'http/verdict-1kb/bare', perIteration: PER_RUN, description: 'a /predict-sized JSON answer, no middleware', run: () => drive(plain, '/verdict') },
  { name: 'http/verdict-1kb/basics', perIteration: PER_RUN, description: 'the same with request id, access log, security headers, compression check', run: () => drive(basics, '/verdict') },
  { name: 'http/list-40kb/bare', perIteration: PER_RUN, description: 'a 40 KB JSON list, no middleware', run: () => drive(plain, '/list') },
  { name: 'http/list-40kb/basics', perIteration: PER_RUN, description: 'the same, gzipped', run: () => drive(basics, '/list') },
];
