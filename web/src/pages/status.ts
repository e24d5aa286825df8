/** Status: API, database, blob store, queue, worker and model health (GET /health, /model/status, /sessions). */
import { ApiFailure, request, type Health, type ModelStatus, type Session } from '../api.ts';
import { clear, h, notice, okBadge, pct, time } from '../dom.ts';
import type { Page } from '../main.ts';

function card(title: string, ok: boolean, ...facts: [string, string][]): HTMLElement {
  return h('section', { class: 'card', 'aria-label': title, 'data-ok': String(ok) },
    h('div', { class: 'row spread' }, h('h2', {}, title), okBadge(ok)),
    h('dl', { class: 'facts' }, ...facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])));
}

const page: Page = (main) => {
  const grid = h('div', { class: 'grid', id: 'status-grid' }, h('p', {}, 'Checking…'));
  const refresh = h('button', { type: 'button' }, '⟳ Refresh');
  main.append(h('div', { class: 'row spread' }, h('h1', {}, 'Status'), refresh), h('p', { class: 'lead' }, 'Is every part of Sentinel working?'), grid);

  async function load(): Promise<void> {
    const t = performance.now();
    let health: Health;
    try {
      health = await request<Health>('/health', { okStatuses: [503] });
    } catch (error) {
      clear(grid, card('API', false, ['Error', error instanceof ApiFailure ? error.message : String(error)]));
      return;
    }
    const apiMs = performance.now() - t;
    const [model, sessions] = await Promise.all([
      request<ModelStatus>('/model/status').catch(() => null),
      request<{ sessions: Session[] }>('/sessions?limit=1').catch(() => ({ sessions: [] as Session[] })),
    ]);
    const c = health.checks;
    const s = health.services;
    const last = sessions.sessions[0];
    const stale = last?.status === 'running' && last.heartbeat_at !== null && Date.now() - Date.parse(last.heartbeat_at) > 120_000;
    clear(
      grid,
      card('API', true, ['Overall', health.status], ['Round trip', `${apiMs.toFixed(0)} ms`]),
      card('Database', c.database.ok, ['Kind', s.database ?? '—'], ['Check', `${c.database.ms} ms`], ...(c.database.detail ? [['Detail', c.database.detail] as [string, string]] : [])),
      card('Blob store', c.blobs.ok, ['Kind', s.blobs ?? '—'], ['Check', `${c.blobs.ms} ms`], ...(c.blobs.detail ? [['Detail', c.blobs.detail] as [string, string]] : [])),
      card('Queue', c.database.ok, ['Kind', s.queue ?? '—'], ['Training', model ? model.training_status : '—']),
      card('Worker', !stale && last?.status !== 'failed', ['Last session', last ? `${last.status} (${last.id.slice(0, 8)})` : 'none yet'], ['Heartbeat', time(last?.heartbeat_at)], ['Finished', time(last?.finished_at)]),
      card('Model', c.model.ok && (model?.model_loaded ?? false),
        ['Version', model?.model_version ?? '—'], ['Threshold', model?.threshold != null ? pct(model.threshold, 0) : '—'],
        ['Accuracy', model?.model_accuracy != null ? pct(model.model_accuracy) : '—'], ['Input', model?.representation ?? '—'], ['Loaded', time(model?.loaded_at)]),
    );
    grid.dataset.ready = 'true';
  }
  refresh.addEventListener('click', () => void load());
  void load().catch((e) => clear(grid, notice('error', String(e))));
};

export default page;
