/**
 * A throwaway database on the Postgres server named by TEST_DATABASE_URL, reached through the Neon
 * serverless driver and our local WebSocket proxy (adapters/db/ws-proxy.ts) — the same driver production
 * uses against Neon. Each suite gets its own database (created here, dropped in cleanup), so parallel test
 * files and other users of the server never see each other's rows.
 *
 * Without TEST_DATABASE_URL (a user's machine) the Neon variants are skipped with `NEON_SKIP_REASON`.
 */
import { createDatabase, type SentinelDatabase } from '../../../adapters/db/index.ts';
import { startWsProxy, type WsProxy } from '../../../adapters/db/ws-proxy.ts';
import { sql } from 'kysely';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL?.trim() || undefined;
export const NEON_SKIP_REASON = 'skipped: set TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run';

export interface TestPostgres {
  database: SentinelDatabase;
  proxy: WsProxy;
  /** URL of the throwaway database (for reopening it). */
  url: string;
  cleanup(): Promise<void>;
}

export async function createTestPostgres(options: { migrate?: boolean } = {}): Promise<TestPostgres> {
  if (!TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is not set');
  const serverUrl = new URL(TEST_DATABASE_URL);
  if (serverUrl.hostname !== '127.0.0.1' && serverUrl.hostname !== 'localhost') {
    throw new Error(`TEST_DATABASE_URL must point at 127.0.0.1 (got ${serverUrl.hostname}).`);
  }
  const proxy = await startWsProxy({ allowedPorts: [Number(serverUrl.port || 5432)] });
  const admin = await createDatabase({ databaseUrl: TEST_DATABASE_URL, neonWsProxy: proxy.url, migrate: false, maxConnections: 1 });
  const name = `sentinel_it_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  await sql`create database ${sql.id(name)}`.execute(admin.db);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  let database: SentinelDatabase;
  try {
    database = await createDatabase({ databaseUrl: url.toString(), neonWsProxy: proxy.url, migrate: options.migrate ?? true });
  } catch (error) {
    await sql`drop database if exists ${sql.id(name)} with (force)`.execute(admin.db);
    await admin.close();
    await proxy.close();
    throw error;
  }
  return {
    database,
    proxy,
    url: url.toString(),
    async cleanup() {
      await database.close();
      await sql`drop database if exists ${sql.id(name)} with (force)`.execute(admin.db);
      await admin.close();
      await proxy.close();
    },
  };
}
