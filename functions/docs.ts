/**
 * GET /docs: Swagger UI from the pinned swagger-ui-dist package, served by the API itself, so the page works
 * offline and runs what package-lock.json names (no CDN). Its two files are read once, on the first request, from
 * beside the Lambda bundle (infra/lambda-bundle.ts copies them there) or else from node_modules; their URLs carry a
 * hash of their bytes, so they are cached for good. The page's script is a file too: the page's Content-Security-
 * Policy allows nothing but this origin.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { API } from '../shared/config.ts';
import { errorJson } from './errors.ts';

/** The swagger-ui-dist files /docs needs; the Lambda bundle carries them beside index.mjs. */
export const SWAGGER_UI_FILES = ['swagger-ui-bundle.js', 'swagger-ui.css'] as const;
type DocsFile = (typeof SWAGGER_UI_FILES)[number];

const TYPES: Record<DocsFile, string> = { 'swagger-ui-bundle.js': 'text/javascript; charset=utf-8', 'swagger-ui.css': 'text/css; charset=utf-8' };

/** Same origin only; Swagger UI sets inline styles and shows data: images (its icons). */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

/** Starts Swagger UI on the spec named by the page; validatorUrl null: no badge fetched from validator.swagger.io. */
const INIT_JS = `window.addEventListener('load', () => {
  const root = document.getElementById('swagger-ui');
  window.ui = SwaggerUIBundle({ url: root.dataset.spec, dom_id: '#swagger-ui', deepLinking: true, validatorUrl: null, presets: [SwaggerUIBundle.presets.apis], layout: 'BaseLayout' });
});
`;

function swaggerDir(): string {
  // Bundled (Lambda): the files sit beside index.mjs. From source: the installed package.
  const here = dirname(fileURLToPath(import.meta.url));
  if (existsSync(join(here, SWAGGER_UI_FILES[0]))) return here;
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

interface Loaded {
  html: string;
  files: Map<string, { body: Uint8Array<ArrayBuffer>; type: string }>;
}

async function load(specUrl: string): Promise<Loaded> {
  const dir = swaggerDir();
  const files = new Map<string, { body: Uint8Array<ArrayBuffer>; type: string }>();
  const url: Record<string, string> = {};
  const add = (name: string, body: Uint8Array<ArrayBuffer>, type: string) => {
    const path = `${createHash('sha256').update(body).digest('hex').slice(0, 12)}/${name}`;
    files.set(path, { body, type });
    url[name] = `/docs/assets/${path}`;
  };
  for (const name of SWAGGER_UI_FILES) add(name, new Uint8Array(await readFile(join(dir, name))), TYPES[name]);
  add('init.js', new TextEncoder().encode(INIT_JS), TYPES['swagger-ui-bundle.js']);
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sentinel API</title>
<link rel="stylesheet" href="${url['swagger-ui.css']}">
</head>
<body>
<div id="swagger-ui" data-spec="${specUrl}"></div>
<script src="${url['swagger-ui-bundle.js']}"></script>
<script src="${url['init.js']}"></script>
</body>
</html>
`;
  return { html, files };
}

/** The /docs page and its assets, mounted at /docs; `specUrl` is the OpenAPI document's path. */
export function docsRoutes(specUrl: string): Hono {
  let loaded: Promise<Loaded> | null = null;
  const get = () => {
    loaded ??= load(specUrl).catch((error: unknown) => {
      loaded = null; // a missing file is reported on each request, not cached
      throw error;
    });
    return loaded;
  };
  const docs = new Hono();
  docs.get('/', async (c) => {
    const { html } = await get();
    c.header('Content-Security-Policy', CSP);
    // The page names the assets by hash: always revalidated, so a new swagger-ui-dist shows at once.
    c.header('Cache-Control', 'no-cache');
    return c.html(html);
  });
  docs.get('/assets/:hash/:name', async (c) => {
    const file = (await get()).files.get(`${c.req.param('hash')}/${c.req.param('name')}`);
    if (!file) return errorJson(c, 404, { code: 'not_found', message: `No docs asset ${c.req.path}.` });
    return c.body(file.body, 200, { 'Content-Type': file.type, 'Cache-Control': API.immutableCacheControl, 'Content-Length': String(file.body.byteLength) });
  });
  return docs;
}
