/**
 * Migration 004: uploads gain the status `used` (an audio upload a /predict has spent: its presigned URL is not
 * honoured again and its bytes are gone). Postgres names the inline check of 001 `uploads_status_check`.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('uploads').dropConstraint('uploads_status_check').execute();
  await db.schema.alterTable('uploads').addCheckConstraint('uploads_status_check', sql`status in ('pending', 'ready', 'used', 'failed')`).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.updateTable('uploads').set({ status: 'failed' }).where('status', '=', 'used').execute();
  await db.schema.alterTable('uploads').dropConstraint('uploads_status_check').execute();
  await db.schema.alterTable('uploads').addCheckConstraint('uploads_status_check', sql`status in ('pending', 'ready', 'failed')`).execute();
}
