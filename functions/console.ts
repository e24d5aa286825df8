/**
 * The console page of the local stack at GET /: the web console's build (web/dist) when present, else a small
 * built-in page that uploads a recording to /predict and shows the verdict. No external scripts.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Context, MiddlewareHandler } from 'hono';
import { API } from '../shared/config.ts';
import { AUDIO } from '../shared/config.ts';

export const BUILTIN_CONSOLE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sentinel</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; }
  h1 { margin-bottom: 0; } .sub { color: #666; margin-top: 0; }
  form { display: flex; gap: .5rem; align-items: center; margin: 1.5rem 0; flex-wrap: wrap; }
  button { font: inherit; padding: .4rem 1rem; }
  #verdict { font-size: 1.6rem; font-weight: 600; }
  .danger { color: #b00020; } .safe { color: #1b7f3b; }
  pre { background: #f4f4f6; padding: 1rem; overflow: auto; max-height: 24rem; font-size: 13px; }
  nav a { margin-right: 1rem; }
</style>
</head>
<body>
<h1>Sentinel</h1>
<p class="sub">Acoustic distress detector: is someone in danger in this recording?</p>
<nav><a href="/docs">API docs</a><a href="/model/status">model status</a><a href="/health">health</a><a href="/stats">stats</a></nav>
<form id="f">
  <input type="file" name="file" accept="audio/*,.wav,.mp3,.flac,.ogg,.opus,.webm,.m4a" required>
  <button type="submit">Analyse</button>
</form>
<div id="verdict"></div>
<pre id="out" hidden></pre>
<script>
const form = document.getElementById('f'), out = document.getElementById('out'), verdict = document.getElementById('verdict');
form.addEventListener('submit', async (e) => {
  e.preventDefault();
  verdict.textContent = 'Analysing…'; verdict.className = ''; out.hidden = true;
  try {
    const res = await fetch('/predict', { method: 'POST', body: new FormData(form) });
    const body = await res.json();
    out.textContent = JSON.stringify(body, null, 2); out.hidden = false;
    if (!res.ok) { verdict.textContent = 'Error: ' + body.error.message; return; }
    // P(danger) against the threshold, never the API's confidence (1 - P for safe reads as a coin toss below 50%).
    let d = 0;
    while (d < 2 && (100 * body.probability).toFixed(d) === (100 * body.threshold).toFixed(d)) d++;
    const where = body.probability > body.threshold ? 'above' : body.probability < body.threshold ? 'below' : 'at';
    verdict.textContent = (body.class === 'danger' ? 'Danger' : 'Safe') + ' — P(danger) ' + (100 * body.probability).toFixed(d) + '%, ' + where + ' the ' + (100 * body.threshold).toFixed(d) + '% threshold; ' + body.events.length + ' event(s)' +
      (body.duration < ${AUDIO.windowSeconds} ? '. ' + body.duration.toFixed(1) + ' s clip — shorter than the ${AUDIO.windowSeconds} s window; padded with silence.' : '');
    verdict.className = body.class;
  } catch (err) { verdict.textContent = 'Request failed: ' + err; }
});
</script>
</body>
</html>
`;

/** GET / for browsers: web/dist/index.html when the web console is built, else the built-in page. */
export function consolePage(webDist: string): (c: Context) => Promise<Response> {
  const index = join(webDist, 'index.html');
  return async (c) => {
    // Revalidated on every load: it names the current build's hashed files.
    c.header('Cache-Control', 'no-cache');
    return existsSync(index) ? c.html(await readFile(index, 'utf8')) : c.html(BUILTIN_CONSOLE);
  };
}

/** Vite names every file under assets/ by a hash of its content (web/vite.config.ts). */
const HASHED = /^\/assets\/[^/]+-[\w-]{8}\.\w+$/;

/**
 * The console's files (web/dist): hashed ones cached for good, the rest (index.html, the audio worklet) revalidated
 * on each use, so a new build is picked up at once.
 */
export function consoleAssets(webDist: string): MiddlewareHandler {
  const serve = serveStatic({ root: webDist });
  return async (c, next) => {
    const res = await serve(c, next);
    // serveStatic's onFound runs after the response is made, too late for a header: set on the response itself.
    res?.headers.set('Cache-Control', HASHED.test(c.req.path) ? API.immutableCacheControl : 'no-cache');
    return res;
  };
}
