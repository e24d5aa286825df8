/**
 * Migration 003: the promotion gate's reference set and its decision. `reference_clips` is the registry's fixed,
 * versioned set both models are scored on (append-only; version v = rows with version <= v); a session keeps the
 * gate's decision and figures in `gate_decision` (shared/ports/db-schema.ts GateDecision).
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('training_sessions').addColumn('gate_decision', 'jsonb').execute();
  await db.schema
    .createTable('reference_clips')
    .addColumn('sha256', 'text', (c) => c.primaryKey())
    .addColumn('object_key', 'text', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull().check(sql`label in ('safe', 'danger')`))
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('session_id', 'text', (c) => c.references('training_sessions.id'))
    .addColumn('version', 'integer', (c) => c.notNull().check(sql`version > 0`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('reference_clips_version_idx').on('reference_clips').column('version').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('reference_clips').execute();
  await db.schema.alterTable('training_sessions').dropColumn('gate_decision').execute();
}
