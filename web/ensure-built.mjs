// `npm start` runs this first: builds the console (web/dist) when it is missing or older than its sources, so
// `npm install && npm start` serves it on a clean clone. A current build costs nothing; a build takes seconds.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = fileURLToPath(new URL('.', import.meta.url));
const built = join(web, 'dist', 'index.html');

function newest(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(s.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const sources = ['index.html', 'src', 'public', 'vite.config.ts'].map((p) => join(web, p)).filter(existsSync);
if (existsSync(built) && statSync(built).mtimeMs >= Math.max(...sources.map(newest))) process.exit(0);
console.log('Building the web console (web/dist)…');
const r = spawnSync(process.execPath, [join(web, '..', 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(web, 'vite.config.ts'), '--logLevel', 'warn'], { stdio: 'inherit' });
if (r.status !== 0) {
  console.error('The web console failed to build; the API still starts with its built-in page.');
}
