/** Retrain: upload a labelled zip (safe/, danger/) with a progress bar, the intake report, the session's live progress. */
import { API, TRAINING, WEB, WORKER } from '../../../shared/config.ts';
import { TRAINING_MODES, type TrainingMode } from '../../../shared/model/types.ts';
import { describeGateDecision } from '../../../shared/training/promotion.ts';
import { ApiFailure, apiUrl, presignedUpload, request, upload, type Session, type TrainAccepted } from '../api.ts';
import { chartBox, COLORS, makeChart } from '../charts.ts';
import { bytesText, clear, h, notice, pct, time } from '../dom.ts';
import { keyPanel } from '../keypanel.ts';
import type { Page } from '../main.ts';

const PALETTE = [COLORS.lavender, COLORS.rose, COLORS.mint, COLORS.red, '#8ec5ff', '#ffd580'];

const page: Page = (main) => {
  let poll: ReturnType<typeof setTimeout> | undefined;
  const file = h('input', { id: 'zip', type: 'file', accept: '.zip,application/zip', required: true, 'aria-describedby': 'zip-help' });
  const kind = h('select', { id: 'kind' }, h('option', { value: '/retrain' }, 'New model from this zip (retrain)'), h('option', { value: '/continue-training' }, 'Continue training the current model (this zip + earlier data)'));
  const modes: Record<TrainingMode, string> = {
    top: 'top: the backbone\'s last blocks and the head (CPU, minutes)',
    head: 'head: the classifier head only (fastest)',
    finetune: 'finetune: the whole backbone (GPU worker)',
  };
  const mode = h('select', { id: 'mode' }, ...TRAINING_MODES.map((m) => h('option', { value: m, ...(m === TRAINING.defaultMode ? { selected: true } : {}) }, modes[m] + (m === TRAINING.defaultMode ? ' (default)' : ''))));
  const epochs = h('input', { id: 'epochs', type: 'number', min: 1, max: 10000, placeholder: 'server default', inputmode: 'numeric' });
  const go = h('button', { type: 'submit', class: 'primary', id: 'start-training' }, 'Upload and train');
  const existing = h('button', { type: 'button', id: 'retrain-existing' }, 'Retrain on all stored data');
  const progress = h('progress', { id: 'upload-progress', max: 1, value: 0, hidden: true, 'aria-label': 'Upload progress' });
  const progressText = h('span', { class: 'muted small', 'aria-live': 'polite' });
  const msg = h('div', { 'aria-live': 'polite' });
  const report = h('div', { id: 'intake' });
  const sessionBox = h('div', { id: 'session' });
  const sessionsList = h('div');

  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'up-title' },
    h('h2', { id: 'up-title' }, 'Train on a dataset zip'),
    h('div', { class: 'field' }, h('label', { for: 'zip' }, 'Dataset zip'), file,
      h('p', { id: 'zip-help', class: 'muted small' }, `Folders safe/ and danger/ of audio clips (an optional manifest.csv). Up to ${bytesText(API.maxDatasetBytes)}; over ${bytesText(WEB.directUploadMaxBytes)} it goes straight to storage.`)),
    h('div', { class: 'grid' },
      h('div', { class: 'field' }, h('label', { for: 'kind' }, 'What to do'), kind),
      h('div', { class: 'field' }, h('label', { for: 'mode' }, 'Mode'), mode),
      h('div', { class: 'field' }, h('label', { for: 'epochs' }, 'Epochs'), epochs)),
    h('div', { class: 'row' }, go, existing),
    progress,
    progressText,
    msg,
  );
  main.append(
    h('h1', {}, 'Retrain'),
    h('p', { class: 'lead' }, `Teach Sentinel with new labelled clips. A new model is served only if it beats the current one by ${WORKER.gate.margin} balanced accuracy on the reference clips (every retrain's held-out clips), with at least ${WORKER.gate.minClipsPerClass} of each class; otherwise it stays a candidate you can promote on the Models page.`),
    keyPanel(),
    form,
    report,
    sessionBox,
    h('section', { class: 'card', 'aria-labelledby': 'hist-title' }, h('h2', { id: 'hist-title' }, 'Recent sessions'), sessionsList),
  );

  const failed = (error: unknown) => clear(msg, notice('error', error instanceof ApiFailure ? `${error.message} (${error.code})` : String(error)));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const zip = file.files?.[0];
    if (!zip) return clear(msg, notice('error', 'Choose a zip first.'));
    if (zip.size > API.maxDatasetBytes) return clear(msg, notice('error', `The zip is ${bytesText(zip.size)}; the limit is ${bytesText(API.maxDatasetBytes)}.`));
    go.disabled = true;
    clear(msg);
    clear(report);
    progress.hidden = false;
    progress.value = 0;
    const onProgress = (f: number) => {
      progress.value = f;
      progressText.textContent = f < 1 ? `Uploading… ${pct(f, 0)}` : 'Uploaded; checking every clip…';
    };
    try {
      let accepted: TrainAccepted;
      const n = epochs.value ? Number(epochs.value) : undefined;
      if (zip.size > WEB.directUploadMaxBytes) {
        const key = await presignedUpload(zip, 'dataset', onProgress);
        accepted = await request<TrainAccepted>(kind.value, { method: 'POST', admin: true, json: { object_key: key, mode: mode.value, ...(n ? { epochs: n } : {}) } });
      } else {
        const body = new FormData();
        body.append('file', zip);
        body.append('mode', mode.value);
        if (n) body.append('epochs', String(n));
        accepted = await upload<TrainAccepted>('POST', apiUrl(kind.value), body, { admin: true, onProgress });
      }
      progressText.textContent = 'Queued.';
      showIntake(accepted);
      follow(accepted.session_id);
    } catch (error) {
      progressText.textContent = '';
      failed(error);
    } finally {
      go.disabled = false;
    }
  });

  existing.addEventListener('click', async () => {
    existing.disabled = true;
    try {
      const n = epochs.value ? Number(epochs.value) : undefined;
      const accepted = await request<TrainAccepted>('/retrain-existing', { method: 'POST', admin: true, json: { mode: mode.value, ...(n ? { epochs: n } : {}) } });
      clear(msg, notice('ok', 'Queued a retrain on all stored data.'));
      follow(accepted.session_id);
    } catch (error) {
      failed(error);
    } finally {
      existing.disabled = false;
    }
  });

  function showIntake(a: TrainAccepted): void {
    clear(
      report,
      h('section', { class: 'card', 'aria-labelledby': 'intake-title' },
        h('h2', { id: 'intake-title' }, 'Intake report'),
        a.counts ? h('p', { id: 'intake-counts' }, `Accepted ${a.counts.safe + a.counts.danger} clips: ${a.counts.safe} safe, ${a.counts.danger} danger. Skipped ${a.skipped.length}.`) : null,
        a.skipped.length
          ? h('div', { class: 'table-wrap' }, h('table', {}, h('caption', { class: 'visually-hidden' }, 'Skipped files'),
              h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'File'), h('th', { scope: 'col' }, 'Why skipped'))),
              h('tbody', {}, ...a.skipped.map((s) => h('tr', {}, h('td', {}, s.path), h('td', {}, `${s.reason} (${s.code})`))))))
          : h('p', { class: 'muted' }, 'Nothing was skipped.')),
    );
  }

  function follow(id: string): void {
    clearTimeout(poll);
    const title = h('h2', { id: 'session-title' }, `Session ${id.slice(0, 8)}`);
    const state = h('p', { id: 'session-status', 'aria-live': 'polite' }, 'Queued…');
    const bar = h('progress', { max: 1, value: 0, 'aria-label': 'Training progress' });
    const epochChart = chartBox('Per-epoch training metrics of this session', 220);
    const result = h('div');
    clear(sessionBox, h('section', { class: 'card', 'aria-labelledby': 'session-title' }, title, state, bar, epochChart.box, result));
    let drawn = -1;
    const tick = async () => {
      let s: Session;
      try {
        s = await request<Session>(`/sessions/${encodeURIComponent(id)}`);
      } catch (error) {
        state.textContent = `Could not read the session: ${(error as Error).message}`;
        poll = setTimeout(tick, WEB.sessionPollMs * 2);
        return;
      }
      const p = s.progress;
      state.dataset.status = s.status;
      state.textContent = `${statusIcon(s.status)} ${s.status}${p ? ` — ${p.phase} ${p.done}/${p.total}${p.detail ? ` (${p.detail})` : ''}` : ''}`;
      bar.value = s.status === 'succeeded' ? 1 : p && p.total > 0 ? p.done / p.total : 0;
      if (s.epoch_metrics.length !== drawn) {
        drawn = s.epoch_metrics.length;
        const keys = [...new Set(s.epoch_metrics.flatMap((m) => Object.keys(m)))].filter((k) => k !== 'epoch');
        await makeChart(epochChart.canvas, {
          type: 'line',
          data: {
            labels: s.epoch_metrics.map((m, i) => String(m.epoch ?? i + 1)),
            datasets: keys.map((k, i) => ({ label: k, data: s.epoch_metrics.map((m) => m[k] ?? null), borderColor: PALETTE[i % PALETTE.length], backgroundColor: PALETTE[i % PALETTE.length], pointRadius: 2 })),
          },
          options: { scales: { x: { title: { display: true, text: 'epoch' } } } },
        });
      }
      if (s.status === 'succeeded' || s.status === 'failed' || s.status === 'cancelled') {
        const metrics = s.final_metrics ? Object.entries(s.final_metrics).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ') : '';
        const gate = s.gate_decision;
        clear(result, s.status === 'succeeded'
          ? h('div', {},
              // The decision first: whether the model that now answers predictions changed.
              gate ? notice(gate.outcome === 'promoted' ? 'ok' : 'info', describeGateDecision(gate)) : null,
              h('p', { id: 'session-result', class: 'muted small' }, `Model ${s.model_version ?? '—'}${metrics ? ` (${metrics})` : ''}.`))
          : notice('error', `${s.status}: ${s.error ?? 'no error recorded'}`));
        void listSessions();
        return;
      }
      poll = setTimeout(tick, WEB.sessionPollMs);
    };
    void tick();
  }

  async function listSessions(): Promise<void> {
    try {
      const { sessions } = await request<{ sessions: Session[] }>('/sessions?limit=10');
      if (!sessions.length) return clear(sessionsList, h('p', { class: 'muted' }, 'No training yet.'));
      clear(sessionsList, h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {}, ...['Session', 'Status', 'Mode', 'Created', 'Model', 'Gate', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, ...sessions.map((s) => {
          const view = h('button', { type: 'button' }, 'Follow');
          view.addEventListener('click', () => follow(s.id));
          const gate = s.gate_decision ? { title: describeGateDecision(s.gate_decision) } : {};
          return h('tr', {}, h('td', {}, s.id.slice(0, 8)), h('td', {}, `${statusIcon(s.status)} ${s.status}`), h('td', {}, `${s.mode}, ${s.epochs} ep.`), h('td', {}, time(s.created_at)), h('td', {}, s.model_version ?? '—'), h('td', gate, gateLabel(s)), h('td', {}, view));
        })))));
    } catch (error) {
      clear(sessionsList, notice('error', (error as Error).message));
    }
  }
  void listSessions();
  return () => clearTimeout(poll);
};

/** The gate's outcome in a word or two, for the sessions table (the full sentence is its tooltip). */
function gateLabel(s: Session): string {
  const d = s.gate_decision;
  if (!d) return '—';
  return d.outcome === 'promoted' ? 'promoted' : d.outcome === 'kept' ? 'kept current' : 'kept current (too few clips)';
}

function statusIcon(s: string): string {
  return s === 'succeeded' ? '✓' : s === 'failed' ? '✗' : s === 'cancelled' ? '⊘' : s === 'running' ? '⟳' : '…';
}

export default page;
