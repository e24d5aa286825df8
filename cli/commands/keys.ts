/**
 * `sentinel keys list|create NAME|revoke ID`: API keys, through a running service's admin routes (/keys), so it
 * works the same against `npm start` and a cloud deployment. The admin key comes from --key, SENTINEL_API_KEY,
 * SENTINEL_ADMIN_KEY or the local stack's <data dir>/admin-key, in that order.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { API, SERVICE } from '../../shared/config.ts';
import { SentinelError } from '../../shared/errors.ts';
import type { Command } from '../command.ts';

type Fetch = (url: string, init?: RequestInit) => Promise<Response>;
type Env = Record<string, string | undefined>;

interface KeyRow {
  id: string;
  name: string;
  created_at: string;
  revoked_at: string | null;
  key?: string;
}

async function adminKey(flag: string | undefined, env: Env): Promise<string> {
  const key = flag ?? env.SENTINEL_API_KEY ?? env.SENTINEL_ADMIN_KEY;
  if (key) return key;
  const path = join(env.SENTINEL_DATA_DIR ?? SERVICE.dataDir, 'admin-key');
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    throw new SentinelError('USAGE', `No admin key: pass --key, set SENTINEL_API_KEY, or run where ${path} exists.`);
  }
}

/** The command with its HTTP client and environment given (tests pass the in-process app's). */
export function keysCommandWith(fetchImpl: Fetch, env: Env): Command {
  return {
    name: 'keys',
    usage: [
      'sentinel keys list|create NAME|revoke ID [--url URL] [--key KEY] [--json]',
      '',
      '  list          every key: id, name, created, revoked (never the keys themselves)',
      '  create NAME   a new key, printed once: store it now',
      '  revoke ID     the key stops working (the last live key cannot be revoked)',
      `  --url URL     the service (default SENTINEL_API_URL, else http://${API.host}:${API.port})`,
      '  --key KEY     an admin key (default SENTINEL_API_KEY, SENTINEL_ADMIN_KEY, or <data dir>/admin-key)',
      '  --json        the API answer as JSON (an error too: {error: {code, message, request_id}}, exit 1)',
    ].join('\n'),
    options: { url: { type: 'string' }, key: { type: 'string' }, json: { type: 'boolean', default: false } },
    async run({ values, positionals }, io) {
      const [action, arg, ...extra] = positionals;
      const needsArg = action === 'create' || action === 'revoke';
      if (!['list', 'create', 'revoke'].includes(action ?? '') || (needsArg ? !arg : arg !== undefined) || extra.length > 0) {
        throw new SentinelError('USAGE', 'keys takes: list | create NAME | revoke ID.');
      }
      const base = ((values.url as string | undefined) ?? env.SENTINEL_API_URL ?? `http://${API.host}:${API.port}`).replace(/\/+$/, '');
      const headers: Record<string, string> = { authorization: `Bearer ${await adminKey(values.key as string | undefined, env)}` };
      const request =
        action === 'list'
          ? fetchImpl(`${base}/keys`, { headers })
          : action === 'create'
            ? fetchImpl(`${base}/keys`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ name: arg }) })
            : fetchImpl(`${base}/keys/${encodeURIComponent(arg!)}/revoke`, { method: 'POST', headers });
      let res: Response;
      try {
        res = await request;
      } catch (error) {
        throw new SentinelError('UNAVAILABLE', `Cannot reach ${base}: ${(error as Error).message}`);
      }
      const body = (await res.json().catch(() => null)) as { error?: { code: string; message: string; request_id?: string }; keys?: KeyRow[] } & KeyRow;
      if (!res.ok && values.json && body?.error) {
        io.stdout(JSON.stringify(body) + '\n');
        return 1;
      }
      if (!res.ok) {
        // The request id finds the service's log lines of this refusal.
        const id = body?.error?.request_id ?? res.headers.get('x-request-id');
        const message = body?.error?.message ?? `The service answered ${res.status}.`;
        throw new SentinelError(body?.error?.code ?? `http_${res.status}`, id ? `${message} (request_id ${id})` : message);
      }
      if (values.json) {
        io.stdout(JSON.stringify(body) + '\n');
        return 0;
      }
      const line = (k: KeyRow) => `${k.id}  ${k.name}  created ${k.created_at}${k.revoked_at ? `  revoked ${k.revoked_at}` : ''}`;
      if (action === 'list') for (const k of body.keys ?? []) io.stdout(line(k) + '\n');
      else if (action === 'create') io.stdout(`${line(body)}\nkey: ${body.key}\n(shown once: store it now)\n`);
      else io.stdout(line(body) + '\n');
      return 0;
    },
  };
}

export const keysCommand: Command = keysCommandWith((url, init) => fetch(url, init), process.env);
