/**
 * The web console's build: static files in web/dist, served by the local stack (functions/server.ts) and by
 * CloudFront. The API's base URL comes from VITE_API_BASE at build time (default: same origin).
 *   npm run build:web                      # web/dist
 *   VITE_API_BASE=https://api.example.org npm run build:web
 *   npx vite --config web/vite.config.ts   # dev server; proxies the API to the local stack on :8787
 */
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { DOCUMENTED_CODECS } from '../shared/audio/codecs.ts';
import { TF_REGISTRATION_MODULES, TF_REGISTRATIONS_FILE } from '../infra/scripts/build-tfjs.ts';

const root = fileURLToPath(new URL('.', import.meta.url));
const api = process.env.SENTINEL_API_PROXY ?? 'http://127.0.0.1:8787';
const apiPaths = ['/health', '/model', '/models', '/predict', '/predictions', '/uploads', '/retrain', '/continue-training', '/retrain-existing', '/sessions', '/stats', '/openapi.json', '/docs', '/blobs'];

/** audio-decode imports a decoder package per format (23 of them); only the documented formats' codecs are bundled
 *  (shared/audio/codecs.ts). Any other one becomes a module that fails when imported: container.ts has already
 *  refused its format, and a WebM or MP4 carrying, say, AC-3 fails to decode in the browser instead of the build. */
function documentedCodecsOnly(): Plugin {
  const prefix = '\0left-out-codec:';
  return {
    name: 'sentinel-documented-codecs',
    enforce: 'pre',
    async resolveId(id, importer, options) {
      const name = /^@audio\/decode-[\w-]+/.exec(id)?.[0];
      if (!name) return null;
      if (!DOCUMENTED_CODECS.includes(name)) return prefix + id;
      return (await this.resolve(id, importer, { ...options, skipSelf: true })) ?? prefix + id;
    },
    load(id) {
      if (!id.startsWith(prefix)) return null;
      return `throw new Error(${JSON.stringify(`${id.slice(prefix.length)}: not a documented format, left out of the console.`)});`;
    },
  };
}

/** shared/model/tf.ts takes tfjs-core's gradients and chained ops from a bundle made for Node, which carries a copy
 *  of core's code. The browser loads tfjs-core as ES modules, so it takes core's own modules instead: one copy. */
function tfRegistrationsFromCore(): Plugin {
  const bundled = fileURLToPath(new URL(`../${TF_REGISTRATIONS_FILE}`, import.meta.url));
  const id = '\0tf-registrations';
  return {
    name: 'sentinel-tf-registrations',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      if (!source.endsWith('/tf-registrations.mjs')) return null;
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      return resolved?.id === bundled ? id : resolved;
    },
    load(loaded) {
      return loaded === id ? TF_REGISTRATION_MODULES.map((m) => `import '${m}';`).join('\n') : null;
    },
  };
}

export default defineConfig({
  root,
  plugins: [documentedCodecsOnly(), tfRegistrationsFromCore()],
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
  // The spectrogram worker (web/src/spectrogram-worker.ts) decodes audio too: the same codecs only. ES modules, since
  // audio-decode loads each decoder by a dynamic import.
  worker: { format: 'es', plugins: () => [documentedCodecsOnly()] },
  server: {
    fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] },
    proxy: Object.fromEntries(apiPaths.map((p) => [p, api])),
  },
});
