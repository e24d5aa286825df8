/**
 * Migration 001: the initial schema. Column names and meanings are documented in shared/ports/db-schema.ts;
 * keep the two in step. Check constraints mirror the TypeScript unions so a bad status can't be stored by
 * any writer. Never edit a shipped migration: add 002_… instead.
 */
import { sql, type Kysely } from 'kysely';

const labels = sql`('safe', 'danger')`;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('uploads')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('object_key', 'text', (c) => c.notNull().unique())
    .addColumn('filename', 'text', (c) => c.notNull())
    .addColumn('bytes', 'integer', (c) => c.notNull().check(sql`bytes >= 0`))
    .addColumn('sha256', 'text', (c) => c.check(sql`sha256 ~ '^[0-9a-f]{64}$'`))
    .addColumn('label_counts', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'ready', 'failed')`))
    .addColumn('error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('training_sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('queued', 'running', 'succeeded', 'failed', 'cancelled')`),
    )
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('epochs', 'integer', (c) => c.notNull().check(sql`epochs > 0`))
    .addColumn('epoch_metrics', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('final_metrics', 'jsonb')
    .addColumn('model_version', 'text')
    .addColumn('upload_id', 'text', (c) => c.references('uploads.id'))
    .addColumn('parent_version', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('started_at', 'timestamptz')
    .addColumn('heartbeat_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .addColumn('error', 'text')
    .execute();
  await db.schema.createIndex('training_sessions_status_idx').on('training_sessions').columns(['status', 'created_at']).execute();

  await db.schema
    .createTable('models')
    .addColumn('version', 'text', (c) => c.primaryKey())
    .addColumn('artifact_prefix', 'text', (c) => c.notNull())
    .addColumn('parent_version', 'text')
    .addColumn('metrics', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('threshold', 'float8', (c) => c.notNull().check(sql`threshold >= 0 and threshold <= 1`))
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('candidate', 'promoted', 'rejected', 'archived')`),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('aliases')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('version', 'text', (c) => c.notNull().references('models.version'))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('alias_audit')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('from_version', 'text')
    .addColumn('to_version', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('alias_audit_name_idx').on('alias_audit').columns(['name', 'id']).execute();

  await db.schema
    .createTable('predictions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('model_version', 'text', (c) => c.notNull())
    .addColumn('duration_seconds', 'float8', (c) => c.notNull().check(sql`duration_seconds >= 0`))
    .addColumn('windows', 'jsonb', (c) => c.notNull())
    .addColumn('probability', 'float8', (c) => c.notNull().check(sql`probability >= 0 and probability <= 1`))
    .addColumn('class', 'text', (c) => c.notNull().check(sql`class in ${labels}`))
    .addColumn('feedback_label', 'text', (c) => c.check(sql`feedback_label in ${labels}`))
    .addColumn('feedback_at', 'timestamptz')
    .addColumn('object_key', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('predictions_created_at_idx').on('predictions').column('created_at').execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull().unique().check(sql`key_hash ~ '^[0-9a-f]{64}$'`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('revoked_at', 'timestamptz')
    .execute();

  await db.schema
    .createTable('events')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('queue', 'text', (c) => c.notNull())
    .addColumn('body', 'jsonb', (c) => c.notNull())
    .addColumn('dedup_id', 'text')
    .addColumn('visible_at', 'timestamptz', (c) => c.notNull())
    .addColumn('receive_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('receipt', 'text', (c) => c.unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('acked_at', 'timestamptz')
    .addColumn('dead_at', 'timestamptz')
    .execute();
  // The receive scan: live jobs of one queue by visibility.
  await db.schema
    .createIndex('jobs_ready_idx')
    .on('jobs')
    .columns(['queue', 'visible_at'])
    .where(sql.ref('acked_at'), 'is', null)
    .where(sql.ref('dead_at'), 'is', null)
    .execute();
  // Dedup: at most one row per (queue, dedup_id); the queue clears dedup_id once the window has passed.
  await db.schema
    .createIndex('jobs_dedup_idx')
    .on('jobs')
    .columns(['queue', 'dedup_id'])
    .unique()
    .where(sql.ref('dedup_id'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['jobs', 'events', 'api_keys', 'predictions', 'alias_audit', 'aliases', 'models', 'training_sessions', 'uploads']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
