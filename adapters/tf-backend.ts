/**
 * Node entry points' backend setup: SENTINEL_TF_BACKEND (if set) forces a backend, else the fastest available.
 * The core (shared/model/backend.ts) never reads the environment itself.
 */
import { BACKEND_ENV_VAR, selectBackend, type BackendSelection } from '../shared/model/backend.ts';

export function initTfBackend(
  env: NodeJS.ProcessEnv = process.env,
  log?: (message: string) => void,
): Promise<BackendSelection> {
  return selectBackend({ requested: env[BACKEND_ENV_VAR], log });
}
