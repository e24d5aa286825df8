/**
 * The web console's build: static files in web/dist, served by the local stack (functions/server.ts) and by
 * CloudFront. The API's base URL comes from VITE_API_BASE at build time (default: same origin).
 *   npm run build:web                      # web/dist
 *   VITE_API_BASE=https://api.example.org npm run build:web
 *   npx vite --config web/vite.config.ts   # dev server; proxies the API to the local stack on :8787
 */
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const api = process.env.SENTINEL_API_PROXY ?? 'http://127.0.0.1:8787';
const apiPaths = ['/health', '/model', '/models', '/predict', '/predictions', '/uploads', '/retrain', '/continue-training', '/retrain-existing', '/sessions', '/stats', '/openapi.json', '/docs', '/blobs'];

/** audio-decode imports a decoder package per format; an optional one that is not installed (e.g. @audio/decode-ape)
 *  becomes a module that fails when imported, so that one format errors instead of the whole build. */
function optionalCodecs(): Plugin {
  const prefix = '\0missing-codec:';
  return {
    name: 'sentinel-optional-codecs',
    enforce: 'pre',
    async resolveId(id, importer, options) {
      if (!/^@audio\/decode-[\w-]+$/.test(id)) return null;
      return (await this.resolve(id, importer, { ...options, skipSelf: true })) ?? prefix + id;
    },
    load(id) {
      if (!id.startsWith(prefix)) return null;
      return `throw new Error(${JSON.stringify(`${id.slice(prefix.length)} is not installed: this format cannot be decoded in the browser.`)});`;
    },
  };
}

export default defineConfig({
  root,
  plugins: [optionalCodecs()],
  // Relative asset URLs: the same build works at any path prefix (local stack at /, a CloudFront origin path).
  base: './',
  envDir: root,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // tfjs is ~1.5 MB minified but only loaded by the live monitor: warn only past that.
    chunkSizeWarningLimit: 2000,
  },
  server: {
    fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] },
    proxy: Object.fromEntries(apiPaths.map((p) => [p, api])),
  },
});
