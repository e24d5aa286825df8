/**
 * Every migration, imported statically so a bundler (esbuild for Lambda) includes them; kysely's
 * FileMigrationProvider would read a folder at run time, which a bundle does not have.
 * Names sort in the order they run: add `002_…` below, never rename or edit a shipped one.
 */
import type { Migration, MigrationProvider } from 'kysely';
import * as m001 from './001_initial.ts';
import * as m002 from './002_session_progress.ts';
import * as m003 from './003_promotion_gate.ts';
import * as m004 from './004_upload_used.ts';

export const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '001_initial': m001,
  '002_session_progress': m002,
  '003_promotion_gate': m003,
  '004_upload_used': m004,
});

export class StaticMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return { ...MIGRATIONS };
  }
}
