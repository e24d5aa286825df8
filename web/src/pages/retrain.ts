/** Retrain: upload a labelled zip (safe/, danger/) with a progress bar, the intake report, the session's live progress. */
import { API, TRAINING, WEB } from '../../../shared/config.ts';
import { TRAINING_MODES, type TrainingMode } from '../../../shared/model/types.ts';
import { SCALAR_METRIC_KEYS } from '../../../shared/metrics/types.ts';
import type { GateDecision } from '../../../shared/ports/db-schema.ts';
import { describeGateDecision, METRIC_NAMES } from '../../../shared/training/promotion.ts';
import { announceModelChange, ApiFailure, apiKey, apiUrl, checkKey, presignedUpload, request, upload, type ModelStatus, type Session, type TrainAccepted } from '../api.ts';
import { chartBox, makeChart } from '../charts.ts';
import { bytesText, clear, h, notice, pct, time } from '../dom.ts';
import { describeRuns, epochChartConfig, epochRuns } from '../epochs.ts';
import { keyPanel } from '../keypanel.ts';
import type { Page } from '../main.ts';

/** What each training phase (shared/training/trainer.ts, worker/handler.ts) is doing, in words. */
const PHASES: Record<string, string> = {
  start: 'starting',
  data: 'reading the stored clips',
  decode: 'decoding the clips',
  embed: 'computing features',
  cv: 'cross-validation',
  'source-cv': 'scoring each source unseen',
  train: 'final fit',
  finetune: 'fine-tuning the backbone',
  export: 'saving the model',
  gate: 'scoring both models on the reference clips',
};

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
  let panel = keyPanel();

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
  const intro = h('p', { class: 'lead', id: 'retrain-intro' }, introText(null));
  // The gate's rule as this server applies it (SENTINEL_GATE_MIN_CLIPS_PER_CLASS may differ from the built-in default).
  void request<ModelStatus>('/model/status').then(
    (status) => {
      intro.textContent = introText(status.promotion_gate);
      intro.dataset.gate = 'server';
    },
    () => undefined,
  );
  main.append(
    h('h1', {}, 'Retrain'),
    intro,
    panel,
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
    const key = apiKey.get();
    if (!key) return clear(msg, notice('error', 'Enter the admin API key above first: training needs it.'));
    go.disabled = true;
    clear(msg);
    clear(report);
    progressText.textContent = '';
    const onProgress = (f: number) => {
      progress.value = f;
      progressText.textContent = f < 1 ? `Uploading… ${pct(f, 0)}` : 'Uploaded; checking every clip…';
    };
    try {
      // The key is checked before a byte of the zip is sent: a wrong one is refused now, not after the upload.
      try {
        await checkKey(key);
      } catch (error) {
        if (!(error instanceof ApiFailure && (error.status === 401 || error.status === 403))) throw error;
        // Forget the refused key, so the panel asks for another instead of showing it as set.
        apiKey.clear();
        const fresh = keyPanel();
        panel.replaceWith(fresh);
        panel = fresh;
        throw new ApiFailure(error.status, error.code, 'The API key was refused (unknown or revoked); nothing was uploaded. Enter a live key above.');
      }
      progress.hidden = false;
      progress.value = 0;
      let accepted: TrainAccepted;
      const n = epochs.value ? Number(epochs.value) : undefined;
      if (zip.size > WEB.directUploadMaxBytes) {
        const objectKey = await presignedUpload(zip, 'dataset', onProgress);
        accepted = await request<TrainAccepted>(kind.value, { method: 'POST', admin: true, json: { object_key: objectKey, mode: mode.value, ...(n ? { epochs: n } : {}) } });
      } else {
        const body = new FormData();
        body.append('file', zip);
        body.append('mode', mode.value);
        if (n) body.append('epochs', String(n));
        accepted = await upload<TrainAccepted>('POST', apiUrl(kind.value), body, { admin: true, onProgress });
      }
      // From here the session card below says where training is; the upload's own line has nothing left to say.
      progress.hidden = true;
      progressText.textContent = '';
      clear(msg, notice('ok', `Uploaded. Training session ${accepted.session_id.slice(0, 8)} is followed below.`));
      showIntake(accepted);
      follow(accepted.session_id);
    } catch (error) {
      progress.hidden = true;
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
      clear(msg, notice('ok', `Retrain on all stored data: session ${accepted.session_id.slice(0, 8)} is followed below.`));
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
    const title = h('h2', { id: 'session-title' }, `Training session ${id.slice(0, 8)}`);
    const state = h('p', { id: 'session-status', 'aria-live': 'polite' }, 'Reading the session…');
    const bar = h('progress', { max: 1, value: 0, 'aria-label': 'Training progress' });
    const epochChart = chartBox('Loss per epoch of each cross-validation fold and of the final fit', 220);
    epochChart.canvas.id = 'epoch-chart';
    const runsText = h('p', { id: 'epoch-summary', class: 'muted small' });
    const result = h('div', { id: 'session-outcome' });
    clear(sessionBox, h('section', { class: 'card', 'aria-labelledby': 'session-title' }, title, state, bar, h('h3', {}, 'Loss per epoch'), epochChart.box, runsText, result));
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
      const finished = s.status === 'succeeded' || s.status === 'failed' || s.status === 'cancelled';
      state.dataset.status = s.status;
      state.textContent = statusLine(s);
      const p = s.progress;
      bar.value = s.status === 'succeeded' ? 1 : p && p.total > 0 ? p.done / p.total : 0;
      bar.hidden = finished && s.status !== 'succeeded';
      if (s.epoch_metrics.length !== drawn) {
        drawn = s.epoch_metrics.length;
        const runs = epochRuns(s.epoch_metrics);
        runsText.textContent = describeRuns(runs);
        if (runs.length) await makeChart(epochChart.canvas, epochChartConfig(runs));
        epochChart.canvas.dataset.runs = String(runs.length);
      }
      if (finished) {
        clear(result, s.status === 'succeeded' ? outcome(s) : notice('error', `${s.status}: ${s.error ?? 'no error recorded'}`));
        if (s.gate_decision?.outcome === 'promoted') announceModelChange();
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

/** The page's first lines: how a retrained model gets served, with the gate's figures once the server has given them. */
function introText(gate: ModelStatus['promotion_gate'] | null): string {
  const rule = gate
    ? `by ${gate.margin} ${METRIC_NAMES[gate.metric] ?? gate.metric} on the reference clips (every retrain's held-out clips), with at least ${gate.min_clips_per_class} of each class`
    : "by the promotion gate's margin on the reference clips (every retrain's held-out clips), with enough of each class";
  return `Teach Sentinel with new labelled clips. A new model is served only if it beats the current one ${rule}; otherwise it stays a candidate you can promote on the Models page.`;
}

/** The gate's outcome in a word or two, for the sessions table (the full sentence is its tooltip). */
function gateLabel(s: Session): string {
  const d = s.gate_decision;
  if (!d) return '—';
  return d.outcome === 'promoted' ? 'promoted' : d.outcome === 'kept' ? 'not promoted' : 'kept current (too few reference clips)';
}

/** Where the session is, in words; once it has ended, only how it ended (its last progress report is history). */
function statusLine(s: Session): string {
  const p = s.progress;
  switch (s.status) {
    case 'queued':
      return `${statusIcon(s.status)} Queued: waiting for the worker${s.attempts > 0 ? ` (attempt ${s.attempts + 1})` : ''}.`;
    case 'running':
      return `${statusIcon(s.status)} Running: ${p ? `${PHASES[p.phase] ?? p.phase} ${p.done}/${p.total}${p.detail ? ` (${p.detail})` : ''}` : 'starting'}.`;
    case 'succeeded':
      return `${statusIcon(s.status)} Succeeded${took(s)}.`;
    case 'failed':
      return `${statusIcon(s.status)} Failed${took(s)}.`;
    case 'cancelled':
      return `${statusIcon(s.status)} Cancelled.`;
  }
}

function took(s: Session): string {
  if (!s.started_at || !s.finished_at) return '';
  const seconds = Math.max(0, Math.round((Date.parse(s.finished_at) - Date.parse(s.started_at)) / 1000));
  return ` in ${seconds >= 60 ? `${Math.floor(seconds / 60)} min ${seconds % 60} s` : `${seconds} s`}, at ${time(s.finished_at)}`;
}

/** A finished session: the gate's decision in words, both models side by side, the new model's figures. */
function outcome(s: Session): HTMLElement {
  const d = s.gate_decision;
  const decision = d ? notice(d.outcome === 'promoted' ? 'ok' : 'info', describeGateDecision(d)) : notice('info', `Trained ${s.model_version ?? 'a model'}; no gate decision was recorded.`);
  decision.id = 'gate-decision';
  const figures = SCALAR_METRIC_KEYS.flatMap((k) => (typeof s.final_metrics?.[k] === 'number' ? [[k, s.final_metrics[k]] as const] : []));
  const skipped = s.final_metrics?.skipped_clips;
  return h('div', {},
    h('h3', {}, 'Result'),
    decision,
    d ? gateTable(d) : null,
    d ? h('p', { class: 'muted small', id: 'gate-rule' },
        `Rule: the new model must beat the current one by ${d.margin} ${METRIC_NAMES[d.metric] ?? d.metric}, with at least ${d.min_clips_per_class} reference clip${d.min_clips_per_class === 1 ? '' : 's'} of each class. ` +
        `Reference set version ${d.reference_version}: ${d.clips.safe} safe and ${d.clips.danger} danger clips, ${d.held_out} of them held out from this retrain.`)
      : null,
    figures.length
      ? h('p', { id: 'session-result', class: 'muted small' },
          `New model ${s.model_version ?? ''} on the reference clips: ${figures.map(([k, v]) => `${METRIC_NAMES[k]} ${v.toFixed(3)}`).join(', ')}.` +
          (typeof skipped === 'number' && skipped > 0 ? ` ${skipped} clip${skipped === 1 ? ' was' : 's were'} skipped in training.` : ''))
      : null,
  );
}

function gateTable(d: GateDecision): HTMLElement {
  const metric = METRIC_NAMES[d.metric] ?? d.metric;
  const promoted = d.outcome === 'promoted';
  const row = (label: string, current: string, candidate: string) => h('tr', {}, h('th', { scope: 'row' }, label), h('td', {}, current), h('td', {}, candidate));
  return h('div', { class: 'table-wrap' }, h('table', { id: 'gate-table', class: 'wrap' },
    h('caption', { class: 'visually-hidden' }, 'The promotion gate: the current and the new model on the same reference clips'),
    h('thead', {}, h('tr', {}, h('td', {}), h('th', { scope: 'col' }, 'Current model'), h('th', { scope: 'col' }, 'New model'))),
    h('tbody', {},
      row('Version', d.current_version, d.candidate_version),
      row(`${metric[0].toUpperCase()}${metric.slice(1)} (${d.clips.safe + d.clips.danger} reference clips)`, d.current.toFixed(3), d.candidate.toFixed(3)),
      row('After the gate', promoted ? 'replaced' : '✓ still serves', promoted ? '✓ serves predictions' : 'candidate: promote by hand on Models'))));
}

function statusIcon(s: string): string {
  return s === 'succeeded' ? '✓' : s === 'failed' ? '✗' : s === 'cancelled' ? '⊘' : s === 'running' ? '⟳' : '…';
}

export default page;
