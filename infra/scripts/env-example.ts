/**
 * Writes .env.example from adapters/env.ts's ENV_VARS (tests/unit/env-example.test.ts fails when they differ).
 *   node --import tsx infra/scripts/env-example.ts
 */
import { writeFileSync } from 'node:fs';
import { envVarsDotenv } from '../../adapters/env.ts';

writeFileSync(new URL('../../.env.example', import.meta.url), envVarsDotenv());
console.log('.env.example written');
