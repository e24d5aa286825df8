/**
 * Secrets, set per stage with `npx sst secret set <Name> <value> --stage <stage>` (docs/deploy.md); SST stores them
 * encrypted in SSM and they never appear in the repository or the stack's outputs.
 */
export function createSecrets() {
  return {
    /** Neon connection string (postgres://…?sslmode=require) -> the API's and worker's DATABASE_URL. */
    databaseUrl: new sst.Secret('DatabaseUrl'),
    /** Bootstrap admin API key (>= 24 chars, e.g. `snt_` + 64 hex) -> SENTINEL_ADMIN_KEY; guards retrain/promote/rollback. */
    adminKey: new sst.Secret('AdminKey'),
  };
}

export type Secrets = ReturnType<typeof createSecrets>;
