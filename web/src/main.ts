/** The console's shell: fonts, theme, hash router (#/analyse…), each page loaded on first visit. */
import '@fontsource/poppins/600.css';
import '@fontsource/quicksand/400.css';
import '@fontsource/quicksand/700.css';
import './style.css';
import { apiUrl, MODEL_CHANGED, request, type ModelStatus } from './api.ts';
import { clear, notice } from './dom.ts';

/** A page draws itself into `main` and returns its cleanup (timers, microphone, charts). */
export type Page = (main: HTMLElement) => (() => void) | void;

const PAGES: Record<string, { title: string; load: () => Promise<{ default: Page }> }> = {
  analyse: { title: 'Analyse', load: () => import('./pages/analyse.ts') },
  live: { title: 'Live monitor', load: () => import('./pages/live.ts') },
  retrain: { title: 'Retrain', load: () => import('./pages/retrain.ts') },
  models: { title: 'Models', load: () => import('./pages/models.ts') },
  insights: { title: 'Insights', load: () => import('./pages/insights.ts') },
  status: { title: 'Status', load: () => import('./pages/status.ts') },
};

const main = document.getElementById('main') as HTMLElement;
let cleanup: (() => void) | void;
let navigation = 0;

async function route(): Promise<void> {
  const name = /^#\/([\w-]+)/.exec(location.hash)?.[1] ?? 'analyse';
  const page = PAGES[name] ?? PAGES.analyse;
  const key = PAGES[name] ? name : 'analyse';
  const mine = ++navigation;
  for (const a of document.querySelectorAll<HTMLAnchorElement>('#nav a')) {
    if (a.dataset.page === key) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${page.title} · Sentinel`;
  if (typeof cleanup === 'function') cleanup();
  cleanup = undefined;
  try {
    const mod = await page.load();
    if (mine !== navigation) return;
    main.replaceChildren();
    main.dataset.page = key;
    cleanup = mod.default(main);
  } catch (error) {
    clear(main, notice('error', `This page failed to load: ${String(error)}`));
  }
  // Move focus to the page so keyboard and screen-reader users land on the new content.
  (main.querySelector('h1') as HTMLElement | null)?.setAttribute('tabindex', '-1');
  (main.querySelector('h1') as HTMLElement | null)?.focus();
}

window.addEventListener('hashchange', () => void route());
// Following the link of the page already shown fires no hashchange: still move focus to its heading.
document.getElementById('nav')!.addEventListener('click', (e) => {
  const link = (e.target as HTMLElement).closest('a');
  if (link && link.getAttribute('href') === (location.hash || '#/analyse')) (main.querySelector('h1') as HTMLElement | null)?.focus();
});
void route();

(document.getElementById('docs-link') as HTMLAnchorElement).href = apiUrl('/docs');
const chip = document.getElementById('model-chip') as HTMLElement;
let chipRead = 0;
/** The footer names the served model: read at start, after a change of `current` made here, and on each page visit. */
function refreshChip(): void {
  const mine = ++chipRead; // an older answer arriving late must not overwrite a newer one
  request<ModelStatus>('/model/status')
    .then((s) => mine === chipRead && (chip.textContent = s.model_version ? `Model: ${s.model_version}` : 'Model: none loaded'))
    .catch(() => mine === chipRead && (chip.textContent = 'Model: API unreachable'));
}
refreshChip();
window.addEventListener(MODEL_CHANGED, refreshChip);
window.addEventListener('hashchange', refreshChip);
