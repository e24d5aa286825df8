/** Analyse: a recording in, the verdict, the spectrogram the model sees, the window timeline, feedback. */
import { API, AUDIO, WEB } from '../../../shared/config.ts';
import { ApiFailure, presignedUpload, request, upload, apiUrl, type Prediction } from '../api.ts';
import { chartBox } from '../charts.ts';
import { bytesText, clear, h, notice, pct, verdictBadge } from '../dom.ts';
import { classesText } from '../../../shared/inference/classes.ts';
import type { Page } from '../main.ts';
import { drawTimeline, type Timeline } from '../timeline.ts';
import { comparison, percent, shortClipNote } from '../verdict.ts';

const ACCEPT = 'audio/*,.wav,.mp3,.flac,.ogg,.oga,.opus,.webm,.m4a,.mp4,.aac';

const page: Page = (main) => {
  const input = h('input', { id: 'file', type: 'file', accept: ACCEPT, class: 'visually-hidden', 'aria-describedby': 'limits' });
  const pick = h('label', { for: 'file', class: 'button primary', tabindex: '0', role: 'button' }, 'Choose a recording');
  const keep = h('input', { id: 'keep', type: 'checkbox' });
  const drop = h(
    'div',
    { class: 'drop', id: 'drop' },
    h('p', {}, h('strong', {}, 'Drop a recording here'), ' or'),
    pick,
    input,
    h(
      'p',
      { id: 'limits', class: 'muted small' },
      `WAV, MP3, FLAC, Ogg/Opus, WebM or M4A, up to ${AUDIO.maxDurationSeconds / 60} minutes and ${bytesText(API.maxAudioBytes)}. ` +
        `Files over ${bytesText(WEB.directUploadMaxBytes)} go straight to storage first (presigned upload). The whole recording is analysed in ${AUDIO.windowSeconds} s windows.`,
    ),
  );
  const progress = h('progress', { max: 1, value: 0, hidden: true, 'aria-label': 'Upload progress' });
  const status = h('div', { 'aria-live': 'polite' });
  const result = h('div', { id: 'result' });
  main.append(
    h('h1', {}, 'Analyse a recording'),
    h('p', { class: 'lead' }, 'Is someone in danger in this recording? Sentinel listens to every 3-second window and marks the dangerous moments.'),
    h('section', { class: 'card', 'aria-label': 'Recording' }, drop, h('div', { class: 'row' }, keep, h('label', { for: 'keep' }, 'Keep the audio so my feedback can become training data')), progress, status),
    result,
  );
  pick.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      input.click();
    }
  });
  input.addEventListener('change', () => input.files?.[0] && void analyseFile(input.files[0]));
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const file = e.dataTransfer?.files[0];
    if (file) void analyseFile(file);
  });

  /** The timeline chart on screen, destroyed when a new result or page replaces it. */
  let shown: Timeline | null = null;

  async function analyseFile(file: File): Promise<void> {
    clear(result);
    if (file.size === 0) return clear(status, notice('error', `${file.name} is empty.`));
    if (file.size > API.maxAudioBytes) {
      return clear(status, notice('error', `${file.name} is ${bytesText(file.size)}; the limit is ${bytesText(API.maxAudioBytes)}. Trim it or split it.`));
    }
    clear(status, notice('info', `Analysing ${file.name} (${bytesText(file.size)})…`));
    progress.hidden = false;
    progress.value = 0;
    const onProgress = (f: number) => (progress.value = f);
    let prediction: Prediction;
    try {
      if (file.size > WEB.directUploadMaxBytes) {
        const key = await presignedUpload(file, 'audio', onProgress);
        prediction = await request<Prediction>('/predict', { method: 'POST', json: { object_key: key, keep: keep.checked } });
      } else {
        const form = new FormData();
        form.append('file', file);
        if (keep.checked) form.append('keep', 'true');
        prediction = await upload<Prediction>('POST', apiUrl('/predict'), form, { onProgress });
      }
    } catch (error) {
      progress.hidden = true;
      const message = error instanceof ApiFailure ? `${error.message} (${error.code})` : String(error);
      return clear(status, notice('error', message));
    }
    progress.hidden = true;
    clear(status);
    await showResult(file, prediction);
  }

  async function showResult(file: File, p: Prediction): Promise<void> {
    const feedbackArea = h('div', { 'aria-live': 'polite' });
    const wrong = h('button', { type: 'button', class: 'warn', id: 'wrong' }, 'This is wrong');
    wrong.addEventListener('click', async () => {
      const label = p.class === 'danger' ? 'safe' : 'danger';
      wrong.disabled = true;
      try {
        const r = await request<{ training_data: boolean }>(`/predictions/${encodeURIComponent(p.prediction_id)}/feedback`, { method: 'POST', json: { label } });
        clear(feedbackArea, notice('ok', `Thanks: recorded as ${label}.${r.training_data ? ' The clip will be used for training.' : ' (The audio was not kept, so it will not be trained on.)'}`));
      } catch (error) {
        wrong.disabled = false;
        clear(feedbackArea, notice('error', String((error as Error).message)));
      }
    });
    // The database could not store this verdict: there is nothing for feedback to refer to.
    if (p.logged === false) {
      wrong.disabled = true;
      feedbackArea.append(notice('error', 'This verdict could not be stored (the database is failing), so feedback on it is not possible.'));
    }
    const short = shortClipNote(p.duration);
    const windowsText = `${p.windows.length} window${p.windows.length === 1 ? '' : 's'} of ${AUDIO.windowSeconds} s`;
    const peak = p.windows.reduce<(typeof p.windows)[number] | undefined>((best, w) => (!best || w.probability > best.probability ? w : best), undefined);
    const card = h(
      'section',
      { class: 'card', 'aria-labelledby': 'verdict', 'data-class': p.class },
      h('h2', {}, 'Result'),
      h('p', { id: 'verdict', class: `verdict ${p.class}` }, verdictBadge(p.class), h('span', { class: 'verdict-detail' }, ` — ${comparison(p.probability, p.threshold)}`)),
      h('p', { class: 'verdict-plain' }, p.class === 'danger' ? 'Someone may be in danger in this recording.' : 'No danger heard in this recording.'),
      short && h('p', { class: 'notice info', id: 'short-clip' }, h('span', { 'aria-hidden': 'true' }, 'ℹ '), short),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, p.aggregation === 'pair' && p.windows.length > 1 ? 'P(danger), best pair of adjacent windows' : 'P(danger), peak window'), h('dd', {}, pct(p.probability)),
        h('dt', {}, 'Threshold'), h('dd', {}, pct(p.threshold)),
        h('dt', {}, 'Duration'), h('dd', { id: 'duration-windows' }, `${p.duration.toFixed(1)} s in ${windowsText}`),
        h('dt', {}, 'Events'), h('dd', {}, p.events.length ? p.events.map((e) => `${e.start.toFixed(1)}–${e.end.toFixed(1)} s (peak ${percent(e.peak_probability)})`).join(', ') : 'none'),
        h('dt', {}, 'Model'), h('dd', {}, p.model_version),
        ...(peak?.classes ? [h('dt', {}, 'Sounds like (peak window)'), h('dd', {}, classesText(peak.classes))] : []),
      ),
      h('div', { class: 'row' }, wrong, h('span', { class: 'muted small' }, `Tells Sentinel the right answer is “${p.class === 'danger' ? 'safe' : 'danger'}”.`)),
      feedbackArea,
    );
    const timeline = chartBox(`Danger probability of each of the ${windowsText} over ${p.duration.toFixed(1)} seconds above the recording's spectrogram, threshold ${pct(p.threshold)}, ${p.events.length} event(s)`, 360);
    timeline.canvas.id = 'timeline';
    const about = `${p.duration.toFixed(1)} s in ${windowsText}${p.windows.length > 1 ? `, a new one every ${AUDIO.hopSeconds} s` : ''}: each dot is a window's P(danger), at the window's centre. Dashed line: threshold; shaded: events.`;
    const note = h('p', { class: 'muted small', id: 'timeline-note' }, `${about} Below, the spectrogram: computing it in your browser…`);
    clear(
      result,
      card,
      h('section', { class: 'card', 'aria-labelledby': 'tl-title' }, h('h2', { id: 'tl-title' }, 'Timeline and what the model hears'), timeline.box, note),
      ...(p.windows.some((w) => w.classes) ? [windowTable(p.windows)] : []),
    );
    const chart = await drawTimeline(timeline.canvas, p);
    shown?.chart.destroy();
    shown = chart;
    try {
      const { computeSpectrogram } = await import('../spectrogram.ts');
      const s = await computeSpectrogram(await file.arrayBuffer());
      chart.setSpectrogram(s);
      note.textContent = `${about} Below, on the same time axis: the whole recording's spectrogram, ${s.frames} frames of ${s.nMels} mel bands (librosa log-mel, for display).`;
      timeline.canvas.dataset.spectrogramRendered = 'true';
    } catch (error) {
      note.append(` The spectrogram could not be computed here: ${String((error as Error).message ?? error)}`);
    }
  }
  return () => shown?.chart.destroy();
};

/** Each window's P(danger) beside the backbone's top AudioSet classes, so a verdict can be checked by ear. */
function windowTable(windows: Prediction['windows']): HTMLElement {
  const shown = windows.slice(0, WEB.classTableMaxWindows);
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'wc-title', id: 'window-classes' },
    h('h2', { id: 'wc-title' }, 'Sounds heard, window by window'),
    h('p', { class: 'muted small' }, `The backbone's top AudioSet classes per ${AUDIO.windowSeconds} s window (each scored on its own, 0–100%), beside P(danger).${windows.length > shown.length ? ` First ${shown.length} of ${windows.length} windows.` : ''}`),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Window'), h('th', { scope: 'col' }, 'P(danger)'), h('th', { scope: 'col' }, 'Sounds like'))),
        h('tbody', {}, ...shown.map((w) => h('tr', {}, h('td', {}, `${w.start.toFixed(1)}–${w.end.toFixed(1)} s`), h('td', {}, pct(w.probability, 0)), h('td', {}, w.classes ? classesText(w.classes) : '—')))),
      ),
    ),
  );
}

export default page;
