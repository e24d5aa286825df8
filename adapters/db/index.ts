/**
 * Database factory: kysely over PGlite (embedded; local stack and tests) or over Neon's serverless driver
 * (cloud), chosen by configuration only. Migrations run at open time from the static list in migrations/.
 *
 *   createDatabase({ databaseUrl })            -> Neon Pool (WebSocket) + kysely PostgresDialect
 *   createDatabase({ pgliteDir: '.sentinel/pg' }) -> PGlite persisted in that folder
 *   createDatabase({ pgliteDir: 'memory://' })    -> PGlite in memory (tests)
 */
import { mkdirSync } from 'node:fs';
import { neonConfig, Pool } from '@neondatabase/serverless';
import { Kysely, Migrator, PostgresDialect, type PostgresPool } from 'kysely';
import { WebSocket } from 'ws';
import { SentinelError } from '../../shared/errors.ts';
import type { DatabaseSchema } from '../../shared/ports/db-schema.ts';
import { StaticMigrationProvider } from './migrations/index.ts';
import { neonProxySettings } from './ws-proxy.ts';

export const IN_MEMORY = 'memory://';

export interface DatabaseConfig {
  /** postgres:// URL: use the Neon serverless driver. Wins over `pgliteDir`. */
  databaseUrl?: string;
  /** PGlite data directory (created if missing), or `memory://`. Used when `databaseUrl` is not set. */
  pgliteDir?: string;
  /**
   * Neon driver only: a self-run WebSocket proxy (`ws://127.0.0.1:PORT/v1`, see ws-proxy.ts) instead of
   * Neon's. NOTE: the Neon driver's settings are process-global, so one process talks to one such proxy.
   */
  neonWsProxy?: string;
  /** Neon pool size; Lambda handles one request at a time, so a few connections suffice. */
  maxConnections?: number;
  /** Run pending migrations on open (default true). */
  migrate?: boolean;
  /** Called with errors of idle pooled connections (which would otherwise crash the process). */
  onPoolError?: (error: Error) => void;
}

export interface SentinelDatabase {
  db: Kysely<DatabaseSchema>;
  kind: 'pglite' | 'neon';
  close(): Promise<void>;
}

export async function createDatabase(config: DatabaseConfig): Promise<SentinelDatabase> {
  let database: SentinelDatabase;
  if (config.databaseUrl) {
    database = openNeon(config);
  } else if (config.pgliteDir) {
    database = await openPGlite(config.pgliteDir);
  } else {
    throw new SentinelError('CONFIG', 'createDatabase needs databaseUrl (Neon/Postgres) or pgliteDir (embedded).');
  }
  if (config.migrate ?? true) {
    try {
      await migrateToLatest(database.db);
    } catch (error) {
      await database.close().catch(() => {});
      throw error;
    }
  }
  return database;
}

async function openPGlite(dir: string): Promise<SentinelDatabase> {
  const inMemory = dir === IN_MEMORY;
  if (!inMemory) mkdirSync(dir, { recursive: true });
  // Loaded on demand: a cloud (Neon) bundle never needs PGlite's WASM and data files.
  const [{ PGlite }, { PGliteDialect }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('./pglite-dialect.ts'),
  ]);
  const db = new Kysely<DatabaseSchema>({
    dialect: new PGliteDialect({ pglite: () => PGlite.create(inMemory ? undefined : dir) }),
  });
  return { db, kind: 'pglite', close: () => db.destroy() };
}

function openNeon(config: DatabaseConfig): SentinelDatabase {
  let url: URL;
  try {
    url = new URL(config.databaseUrl!);
  } catch {
    throw new SentinelError('CONFIG', 'DATABASE_URL is not a valid URL (expected postgres://user:pass@host/db).');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new SentinelError('CONFIG', `DATABASE_URL must be a postgres:// URL, got ${url.protocol}//…`);
  }
  // Node 20 has no global WebSocket (Node 22 does): give the driver `ws`.
  if (typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'undefined') {
    neonConfig.webSocketConstructor = WebSocket as unknown as typeof neonConfig.webSocketConstructor;
  }
  if (config.neonWsProxy) {
    const proxy = neonProxySettings(config.neonWsProxy);
    neonConfig.wsProxy = proxy.wsProxy;
    neonConfig.useSecureWebSocket = proxy.secure;
    // Neon's proxy speaks TLS and cleartext-password pipelining; a plain Postgres behind our proxy may use
    // trust/SCRAM auth, so send the startup messages one round trip at a time and let TLS be the socket's.
    neonConfig.pipelineConnect = false;
    neonConfig.pipelineTLS = false;
    neonConfig.forceDisablePgSSL = true;
  }
  const pool = new Pool({ connectionString: config.databaseUrl, max: config.maxConnections ?? 4 });
  pool.on('error', (error: Error) => config.onPoolError?.(error));
  const db = new Kysely<DatabaseSchema>({
    dialect: new PostgresDialect({ pool: pool as unknown as PostgresPool }),
  });
  return { db, kind: 'neon', close: () => db.destroy() };
}

/** Apply every pending migration; returns the names applied. Throws MIGRATION_FAILED with the cause. */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new StaticMigrationProvider() });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new SentinelError(
      'MIGRATION_FAILED',
      `Database migration ${failed ?? '(setup)'} failed: ${error instanceof Error ? error.message : String(error)}`,
      failed ? { migration: failed } : undefined,
      { cause: error },
    );
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
