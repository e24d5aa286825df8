/**
 * Migration 002: a training session's live progress (phase, done, total), written with each heartbeat so any API
 * process (Lambda included) can show how far a run is. Null until the worker first reports.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('training_sessions').addColumn('progress', 'jsonb').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('training_sessions').dropColumn('progress').execute();
}
