/** Models: the registry, a version's ROC curve and confusion matrix (from its sentinel.json), promote and rollback. */
import { announceModelChange, ApiFailure, apiUrl, request, type AliasChange, type ModelList, type ModelRow } from '../api.ts';
import { chartBox, COLORS, makeChart } from '../charts.ts';
import { clear, confirmDialog, h, notice, time } from '../dom.ts';
import { keyPanel } from '../keypanel.ts';
import type { Page } from '../main.ts';

interface EvalMetrics {
  n?: number;
  threshold?: number;
  rocAuc?: number | null;
  confusion?: { tp: number; fp: number; tn: number; fn: number };
  rocCurve?: { fpr: number; tpr: number }[];
}

const fmt = (v: number | undefined) => (typeof v === 'number' ? v.toFixed(3) : '—');

const page: Page = (main) => {
  const table = h('div', { id: 'models-table' });
  const detail = h('div', { id: 'model-detail' });
  const msg = h('div', { 'aria-live': 'polite' });
  const rollback = h('button', { type: 'button', class: 'warn', id: 'rollback' }, '↶ Roll back');
  main.append(
    h('h1', {}, 'Models'),
    h('p', { class: 'lead' }, 'Every trained version, which one is served, and how each one scored on held-out clips.'),
    keyPanel(),
    h('section', { class: 'card', 'aria-labelledby': 'reg-title' }, h('div', { class: 'row spread' }, h('h2', { id: 'reg-title' }, 'Registry'), rollback), msg, table),
    detail,
  );

  const failed = (error: unknown) => clear(msg, notice('error', error instanceof ApiFailure ? `${error.message} (${error.code})` : String(error)));

  rollback.addEventListener('click', async () => {
    if (!(await confirmDialog('Roll back?', 'Serve the version that was current before the last change. Predictions switch within seconds.', 'Roll back'))) return;
    try {
      const r = await request<AliasChange>('/models/rollback', { method: 'POST', admin: true, json: {} });
      clear(msg, notice('ok', `Rolled back: ${r.current} is now current (was ${r.previous ?? '—'}).`));
      announceModelChange();
      await load();
    } catch (error) {
      failed(error);
    }
  });

  async function promote(m: ModelRow): Promise<void> {
    if (!(await confirmDialog(`Promote ${m.version}?`, 'This version will answer every prediction from now on, overriding the promotion gate.', 'Promote'))) return;
    try {
      const r = await request<AliasChange>(`/models/${encodeURIComponent(m.version)}/promote`, { method: 'POST', admin: true, json: { reason: 'promoted from the console' } });
      clear(msg, notice('ok', `${r.current} is now current (was ${r.previous ?? '—'}).`));
      announceModelChange();
      await load();
    } catch (error) {
      failed(error);
    }
  }

  async function show(m: ModelRow): Promise<void> {
    clear(detail, h('section', { class: 'card' }, h('p', {}, `Loading ${m.version}…`)));
    let metrics: Record<string, EvalMetrics> = {};
    try {
      const res = await fetch(apiUrl(`/models/${encodeURIComponent(m.version)}/files/sentinel.json`));
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      metrics = ((await res.json()) as { metrics?: Record<string, EvalMetrics> }).metrics ?? {};
    } catch (error) {
      clear(detail, notice('error', `The manifest of ${m.version} could not be read: ${(error as Error).message}`));
      return;
    }
    const setName = ['cv', 'validation', 'test'].find((k) => metrics[k]) ?? Object.keys(metrics)[0];
    const e = setName ? metrics[setName] : undefined;
    const roc = chartBox(`ROC curve of ${m.version}, area ${fmt(e?.rocAuc ?? undefined)}`, 280);
    roc.canvas.id = 'roc';
    const c = e?.confusion;
    clear(
      detail,
      h('section', { class: 'card', 'aria-labelledby': 'detail-title' },
        h('h2', { id: 'detail-title' }, `${m.version}: ${setName ?? 'no'} evaluation`),
        e ? h('p', { class: 'muted' }, `${e.n ?? '?'} clips, threshold ${fmt(e.threshold)}, ROC AUC ${fmt(e.rocAuc ?? undefined)}.`) : h('p', {}, 'This version has no evaluation recorded.'),
        h('div', { class: 'grid' },
          h('div', {}, h('h3', {}, 'ROC curve'), roc.box),
          h('div', {}, h('h3', {}, 'Confusion matrix'), c
            ? h('table', { class: 'confusion', id: 'confusion' },
                h('caption', { class: 'visually-hidden' }, 'Rows: true class; columns: predicted class'),
                h('thead', {}, h('tr', {}, h('td', {}), h('th', { scope: 'col' }, 'Predicted safe'), h('th', { scope: 'col' }, 'Predicted danger'))),
                h('tbody', {},
                  h('tr', {}, h('th', { scope: 'row' }, 'True safe'), h('td', {}, `✓ ${c.tn}`), h('td', {}, `✗ ${c.fp} false alarm${c.fp === 1 ? '' : 's'}`)),
                  h('tr', {}, h('th', { scope: 'row' }, 'True danger'), h('td', {}, `✗ ${c.fn} miss${c.fn === 1 ? '' : 'es'}`), h('td', {}, `✓ ${c.tp}`))))
            : h('p', { class: 'muted' }, 'No confusion matrix recorded.')))),
    );
    if (e?.rocCurve?.length) {
      await makeChart(roc.canvas, {
        type: 'line',
        data: {
          datasets: [
            { label: `ROC (AUC ${fmt(e.rocAuc ?? undefined)})`, data: e.rocCurve.map((p) => ({ x: p.fpr, y: p.tpr })), borderColor: COLORS.lavender, backgroundColor: 'rgba(224,176,255,.15)', fill: 'origin', stepped: 'before', pointRadius: 2 },
            { label: 'chance', data: [{ x: 0, y: 0 }, { x: 1, y: 1 }], borderColor: COLORS.muted, borderDash: [4, 4], pointRadius: 0 },
          ],
        },
        options: { parsing: false, scales: { x: { type: 'linear', min: 0, max: 1, title: { display: true, text: 'false-alarm rate' } }, y: { min: 0, max: 1, title: { display: true, text: 'detection rate' } } } },
      });
      roc.canvas.dataset.rendered = 'true';
    }
  }

  async function load(): Promise<void> {
    let list: ModelList;
    try {
      list = await request<ModelList>('/models');
    } catch (error) {
      return failed(error);
    }
    if (!list.models.length) return clear(table, h('p', { class: 'muted' }, 'No models yet.'));
    const keys = ['accuracy', 'balancedAccuracy', 'rocAuc'];
    clear(table, h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'visually-hidden' }, 'Model versions'),
      h('thead', {}, h('tr', {}, ...['Version', 'Created', 'Accuracy', 'Balanced acc.', 'ROC AUC', 'Status', 'Current', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, ...list.models.map((m) => {
        const details = h('button', { type: 'button', 'aria-label': `Details of ${m.version}` }, 'Details');
        details.addEventListener('click', () => void show(m));
        const prom = h('button', { type: 'button', class: 'primary', disabled: m.current, 'data-version': m.version, 'aria-label': `Promote ${m.version}` }, 'Promote');
        prom.addEventListener('click', () => void promote(m));
        return h('tr', { class: m.current ? 'current' : '', 'data-version': m.version },
          h('td', {}, m.version), h('td', {}, time(m.created_at)), ...keys.map((k) => h('td', {}, fmt(m.metrics[k]))),
          h('td', {}, m.status), h('td', { 'data-current': String(m.current) }, m.current ? '★ current' : ''), h('td', { class: 'row' }, details, prom));
      })))));
  }
  void load();
};

export default page;
