/** .env.example lists every variable adapters/env.ts reads, with its default (regenerate: infra/scripts/env-example.ts). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENV_VARS, envVarsDotenv } from '../../adapters/env.ts';

describe('.env.example', () => {
  const text = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');

  it('is what ENV_VARS generates', () => {
    expect(text).toBe(envVarsDotenv());
  });

  it('has every variable, commented out at its default', () => {
    const lines = text.split('\n').filter((l) => /^# [A-Z][A-Z0-9_]*=/.test(l));
    expect(lines).toEqual(ENV_VARS.map((v) => `# ${v.name}=${v.default}`));
  });
});
