/**
 * API keys (admin): list, create, revoke, and the caller's own (a cheap check of a key). A key is shown once, at creation; only its SHA-256 is stored. The name
 * `bootstrap` is the configured admin key's (functions/bootstrap.ts), so it cannot be given to a new key.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { ApiKey } from '../../shared/ports/db-schema.ts';
import type { Repository } from '../../shared/ports/repository.ts';
import { BOOTSTRAP_KEY_NAME, generateApiKey, hashApiKey, type ApiKeyVerifier, type AuthVariables } from '../auth.ts';
import { ApiError } from '../errors.ts';
import { EXAMPLES, errorResponses, type ErrorCode } from '../openapi-examples.ts';
import { ErrorSchema } from '../schemas.ts';

type Env = { Variables: AuthVariables };

const KeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    created_at: z.string(),
    revoked_at: z.string().nullable(),
  })
  .openapi('ApiKey');
const KeyListSchema = z.object({ keys: z.array(KeySchema) }).openapi('ApiKeyList');
const NewKeySchema = KeySchema.extend({ key: z.string().openapi({ description: 'The key itself: shown only in this answer.' }) }).openapi('NewApiKey');
const CreateKeySchema = z
  .object({ name: z.string().trim().min(1).max(100).regex(/^[\w .@:-]+$/, 'letters, digits, space and . _ @ : - only') })
  .openapi('CreateApiKey');
const KeyIdParam = z.object({ id: z.string().min(1).max(100).openapi({ param: { name: 'id', in: 'path' } }) });

const json = <T extends z.ZodType>(schema: T, description: string, example: z.input<T>) => ({
  description,
  content: { 'application/json': { schema, examples: { example: { value: example } } } },
});
const errors = (...codes: ErrorCode[]) => errorResponses(ErrorSchema, ...codes);

function keyBody(k: ApiKey): z.infer<typeof KeySchema> {
  return { id: k.id, name: k.name, created_at: k.created_at.toISOString(), revoked_at: k.revoked_at ? k.revoked_at.toISOString() : null };
}

export function keysRouter(deps: {
  repo: Repository;
  keys: ApiKeyVerifier;
  admin: MiddlewareHandler<Env>;
  hook: ConstructorParameters<typeof OpenAPIHono<Env>>[0];
  /** The audit-line middleware of an action (functions/observability.ts). */
  audit: (action: string) => MiddlewareHandler<Env>;
}) {
  const { repo, keys, admin, audit } = deps;
  const router = new OpenAPIHono<Env>(deps.hook);
  const security = [{ ApiKey: [] as string[] }];

  router.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['keys'],
      summary: 'Every API key (live and revoked), newest first; never the keys themselves',
      security,
      middleware: [admin] as const,
      responses: { 200: json(KeyListSchema, 'Keys', EXAMPLES.apiKeyList), ...errors('missing_api_key', 'invalid_api_key') },
    }),
    async (c) => {
      const list = await repo.listApiKeys();
      return c.json({ keys: list.map(keyBody) }, 200);
    },
  );

  // Before the routes with a path parameter, so "current" is never taken for a key id.
  router.openapi(
    createRoute({
      method: 'get',
      path: '/current',
      tags: ['keys'],
      summary: 'The key sent with this request (id, name): checks a key before it is used, with no side effect',
      description: 'The console checks a key here when it is entered, so a wrong key is refused before any upload starts.',
      security,
      middleware: [admin] as const,
      responses: { 200: json(KeySchema, 'The key presented', EXAMPLES.apiKey), ...errors('missing_api_key', 'invalid_api_key') },
    }),
    async (c) => {
      const { id } = c.get('apiKey');
      // The verifier remembers keys for a few seconds; the row says at once whether this one was revoked since.
      const row = (await repo.listApiKeys()).find((k) => k.id === id);
      if (!row || row.revoked_at) throw new ApiError(403, 'invalid_api_key', 'The API key is not valid (unknown or revoked).');
      return c.json(keyBody(row), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags: ['keys'],
      summary: 'A new API key (shown once in the answer)',
      security,
      middleware: [audit('api_key.create'), admin] as const,
      request: { body: { content: { 'application/json': { schema: CreateKeySchema } }, required: true } },
      responses: {
        201: json(NewKeySchema, 'The key', EXAMPLES.newApiKey),
        ...errors('invalid_request', 'reserved_name', 'missing_api_key', 'invalid_api_key', 'cross_site_request', 'unsupported_media_type'),
      },
    }),
    async (c) => {
      const { name } = c.req.valid('json');
      if (name === BOOTSTRAP_KEY_NAME) throw new ApiError(400, 'reserved_name', `"${BOOTSTRAP_KEY_NAME}" names the configured admin key; choose another name.`);
      const key = generateApiKey();
      const row = await repo.createApiKey({ name, key_hash: await hashApiKey(key) });
      c.set('audit', { created_id: row.id, created_name: name });
      await repo.recordEvent('api_key.created', { id: row.id, name, actor: c.get('apiKey').name });
      return c.json({ ...keyBody(row), key }, 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/revoke',
      tags: ['keys'],
      summary: 'Revoke a key: it stops working at once in this process, within seconds in others',
      security,
      middleware: [audit('api_key.revoke'), admin] as const,
      request: { params: KeyIdParam },
      responses: {
        200: json(KeySchema, 'Revoked', EXAMPLES.revokedApiKey),
        ...errors('missing_api_key', 'invalid_api_key', 'cross_site_request', 'api_key_not_found', 'already_revoked', 'last_api_key'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const all = await repo.listApiKeys();
      const target = all.find((k) => k.id === id);
      if (!target) throw new ApiError(404, 'api_key_not_found', `No API key ${id}.`);
      if (target.revoked_at) throw new ApiError(409, 'already_revoked', `API key ${id} was revoked at ${target.revoked_at.toISOString()}.`);
      // Revoking the last live key would leave nobody able to make a new one (short of a new SENTINEL_ADMIN_KEY).
      if (all.filter((k) => k.revoked_at === null).length === 1) throw new ApiError(409, 'last_api_key', 'This is the last live API key: create another one first.');
      await repo.revokeApiKey(id);
      keys.forget();
      c.set('audit', { revoked_name: target.name });
      await repo.recordEvent('api_key.revoked', { id, name: target.name, actor: c.get('apiKey').name });
      const revoked = (await repo.listApiKeys()).find((k) => k.id === id)!;
      return c.json(keyBody(revoked), 200);
    },
  );
  return router;
}
