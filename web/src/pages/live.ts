/**
 * Live monitor page: a view of the tab's listening session (../monitor.ts), which keeps running when another page
 * is shown. Controls, alert choices, the input level, a status line, the rolling P(danger) chart, the event log and
 * the engine's timings. No audio is sent anywhere.
 */
import { AUDIO, LEVEL_GATE, WEB } from '../../../shared/config.ts';
import { alertChoices, allowNotifications, saveAlertChoices, type AlertChoices } from '../alerts.ts';
import { chartBox, COLORS, makeChart } from '../charts.ts';
import { clear, h, notice, pct } from '../dom.ts';
import type { Page } from '../main.ts';
import { clock, median, monitor } from '../monitor.ts';
import { percent, verdictLine } from '../verdict.ts';

/** The level meter's floor, dBFS: quieter than a quiet room through a laptop microphone. */
const LEVEL_FLOOR_DB = -60;

const page: Page = (main) => {
  const start = h('button', { type: 'button', class: 'primary', id: 'live-start' }, '● Start listening');
  const stop = h('button', { type: 'button', id: 'live-stop' }, '■ Stop');
  const save = h('button', { type: 'button', id: 'live-save' }, `⤓ Save last ${AUDIO.windowSeconds} s`);
  const hop = h('select', { id: 'hop' }, ...WEB.liveHopChoices.map((s) => h('option', { value: s, selected: s === monitor.hopSeconds }, `every ${s} s`)));
  const threshold = h('input', { id: 'threshold', type: 'range', min: 0.05, max: 0.95, step: 0.01, value: monitor.thresholdInUse(), 'aria-describedby': 'threshold-value' });
  const thresholdValue = h('output', { id: 'threshold-value', for: 'threshold' }, '—');
  const choices = alertChoices();
  const toggle = (key: keyof AlertChoices, label: string) => {
    const box = h('input', { type: 'checkbox', id: `alert-${key}`, checked: choices[key] });
    box.addEventListener('change', async () => {
      if (key === 'notification' && box.checked && !(await allowNotifications())) {
        box.checked = false;
        clear(msg, notice('error', 'Notifications are blocked for this site: allow them in the browser settings to use them.'));
      }
      saveAlertChoices({ ...alertChoices(), [key]: box.checked });
    });
    return h('span', { class: 'row' }, box, h('label', { for: `alert-${key}` }, label));
  };
  const banner = h('div', { class: 'alert-banner calm', id: 'live-banner', role: 'status' });
  const statusLine = h('p', { class: 'muted', id: 'live-status' });
  const level = h('meter', { id: 'live-level', min: LEVEL_FLOOR_DB, max: 0, low: -45, high: -6, optimum: -20, value: LEVEL_FLOOR_DB, 'aria-label': 'Input level' });
  const levelText = h('span', { class: 'small muted', id: 'live-level-text' }, '—');
  const stats = h('dl', { class: 'facts', id: 'live-stats' });
  const log = h('ol', { class: 'log', id: 'live-log', 'aria-label': 'Event log' });
  const msg = h('div', { 'aria-live': 'polite' });
  const chart = chartBox('Rolling danger probability of the live microphone, newest on the right', 220);
  chart.canvas.id = 'live-chart';
  const chartEmpty = h('p', { class: 'empty', id: 'live-chart-empty' }, 'No checks yet: the chart fills in once listening starts.');

  main.append(
    h('h1', {}, 'Live monitor'),
    h('p', { class: 'lead' }, `Listens to your microphone and checks the last ${AUDIO.windowSeconds} s at every step, in this browser. No audio is sent anywhere. Listening goes on while you use the other pages.`),
    h(
      'section',
      { class: 'card', 'aria-label': 'Controls' },
      h('div', { class: 'row' }, start, stop, save),
      h('div', { class: 'row', style: 'margin-top:.75rem' }, h('label', { for: 'hop' }, 'Check'), hop, h('label', { for: 'threshold' }, 'Sensitivity threshold'), threshold, thresholdValue),
      h('fieldset', { class: 'alerts' }, h('legend', {}, 'When danger is heard, also'), toggle('sound', 'play a sound'), toggle('notification', 'show a notification'), toggle('title', 'mark the tab title')),
      h('div', { class: 'row level' }, h('label', { for: 'live-level' }, 'Input level'), level, levelText),
      msg,
    ),
    banner,
    statusLine,
    h('div', { class: 'grid', style: 'margin-top:1rem' },
      h('section', { class: 'card', 'aria-labelledby': 'lc-title' }, h('h2', { id: 'lc-title' }, 'P(danger), live'), chart.box, chartEmpty),
      h('section', { class: 'card', 'aria-labelledby': 'ev-title' }, h('h2', { id: 'ev-title' }, 'Event log'), log, h('h2', { style: 'margin-top:1rem' }, 'Engine'), stats),
    ),
  );

  let chartObj: Awaited<ReturnType<typeof makeChart<'line'>>> | null = null;
  let gone = false;
  void makeChart(chart.canvas, {
    type: 'line',
    data: {
      datasets: [
        { label: 'P(danger)', data: monitor.points, borderColor: COLORS.lavender, backgroundColor: 'rgba(224,176,255,.15)', fill: 'origin', pointRadius: 0 },
        { label: 'Threshold', data: monitor.thresholdLine, borderColor: COLORS.red, borderDash: [6, 4], pointRadius: 0 },
      ],
    },
    options: { parsing: false, scales: { x: { type: 'linear', title: { display: true, text: 'seconds since listening started' } }, y: { min: 0, max: 1 } } },
  }).then((c) => {
    if (gone) c.destroy();
    else chartObj = c;
  });

  threshold.addEventListener('input', () => {
    monitor.threshold = Number(threshold.value);
    thresholdValue.textContent = pct(monitor.threshold, 0);
  });
  hop.addEventListener('change', () => (monitor.hopSeconds = Number(hop.value)));
  start.addEventListener('click', () => void monitor.start());
  stop.addEventListener('click', () => monitor.stop());
  save.addEventListener('click', async () => {
    const wav = await monitor.lastWindowWav();
    if (!wav) return;
    const a = h('a', { href: URL.createObjectURL(wav), download: `sentinel-${new Date().toISOString().replace(/[:.]/g, '-')}.wav` });
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  });

  /** The banner changes only with the state (it is read out when it changes); the status line carries the counts. */
  function bannerText(): { text: string; alert: boolean } {
    const m = monitor;
    if (m.phase === 'starting') return { text: 'Starting: loading the model and asking for the microphone…', alert: false };
    if (m.phase === 'idle') return { text: m.stoppedAt ? `Not listening (stopped at ${clock(m.stoppedAt)}).` : 'Not listening.', alert: false };
    const open = m.alerting ? m.events[0] : null;
    if (open) return { text: `⚠ Danger heard at ${clock(open.start)} (P(danger) ${percent(open.peak)})`, alert: true };
    if (!m.checks) return { text: `✓ Listening: the first check comes once ${AUDIO.windowSeconds} s have been heard.`, alert: false };
    const ended = m.events.find((e) => e.start >= m.startedAt!);
    return { text: ended ? `✓ Listening. Last alert ended at ${clock(ended.end)}.` : '✓ Listening: no danger heard so far.', alert: false };
  }

  function statusText(): string {
    const m = monitor;
    if (m.phase !== 'listening') return m.checks ? `${m.checks} checks in the last session.` : '';
    if (!m.last) return `Heard ${m.heardSeconds.toFixed(1)} of the first ${AUDIO.windowSeconds} s…`;
    const verdict = m.last.quiet
      ? `Safe — too quiet to score (below ${LEVEL_GATE.floorDb} dBFS)`
      : verdictLine(m.last.probability >= m.last.threshold ? 'danger' : 'safe', m.last.probability, m.last.threshold);
    return `${m.checks} checks since ${clock(m.startedAt!)}, every ${m.hopSeconds} s. Last at ${clock(m.last.at)}: ${verdict}.`;
  }

  function showStats(): void {
    const m = monitor;
    const model = m.model;
    const infer = m.melMs.map((x, i) => x + m.modelMs[i]);
    stats.dataset.windows = String(m.checks);
    stats.dataset.inferMs = median(infer).toFixed(2);
    stats.dataset.melMs = median(m.melMs).toFixed(2);
    stats.dataset.modelMs = median(m.modelMs).toFixed(2);
    stats.dataset.backend = model?.backend ?? '';
    stats.dataset.features = model?.features ?? '';
    clear(
      stats,
      h('dt', {}, 'Model'), h('dd', {}, model ? `${model.version} (threshold ${pct(model.threshold, 0)})` : '—'),
      h('dt', {}, 'Backend'), h('dd', {}, model ? `${model.backend}${model.features ? ` (${model.features})` : ''}` : '—'),
      h('dt', {}, 'Input'), h('dd', {}, m.sampleRate && model ? `${m.sampleRate} Hz → ${model.detector.frontEnd.sampleRate} Hz (${model.detector.frontEnd.name} front end)` : '—'),
      ...(m.heard ? [h('dt', {}, 'Sounds like (last window)'), h('dd', { id: 'live-heard' }, m.heard)] : []),
      h('dt', {}, 'Windows checked'), h('dd', { id: 'live-checked' }, m.quietChecks ? `${m.checks} (${m.quietChecks} too quiet to score)` : String(m.checks)),
      h('dt', {}, 'Time per check'), h('dd', {}, infer.length ? `${median(infer).toFixed(1)} ms (mel ${median(m.melMs).toFixed(1)} + model ${median(m.modelMs).toFixed(1)}), median` : '—'),
    );
  }

  function showLog(): void {
    if (!monitor.events.length) {
      clear(log, h('li', { class: 'empty' }, monitor.phase === 'listening' ? 'No danger heard yet.' : 'No events yet: alerts are listed here while listening.'));
      return;
    }
    clear(log, ...monitor.events.map((e) => h('li', { class: 'danger' }, `⚠ ${clock(e.start)}–${clock(e.end)}: danger, peak ${percent(e.peak)}${e.open ? '' : ' (ended)'}`)));
  }

  function render(): void {
    const m = monitor;
    start.disabled = m.phase !== 'idle';
    stop.disabled = m.phase !== 'listening';
    save.disabled = m.phase !== 'listening';
    threshold.disabled = !m.model;
    if (m.model) {
      threshold.value = String(m.thresholdInUse());
      thresholdValue.textContent = pct(m.thresholdInUse(), 0);
    }
    const b = bannerText();
    if (banner.textContent !== b.text) {
      banner.setAttribute('role', b.alert ? 'alert' : 'status');
      banner.className = b.alert ? 'alert-banner' : 'alert-banner calm';
      banner.textContent = b.text;
    }
    statusLine.textContent = statusText();
    statusLine.dataset.checks = String(m.checks);
    statusLine.dataset.phase = m.phase;
    if (m.problem) clear(msg, notice('error', m.problem));
    else if (m.phase === 'listening' && m.model) clear(msg, notice('ok', `Model ${m.model.version} running on ${m.model.backend}${m.model.downloaded ? `, ${(m.model.downloaded / 1024 ** 2).toFixed(1)} MB downloaded` : ', from the cache'}.`));
    else clear(msg);
    chartEmpty.hidden = m.points.length > 0;
    chartObj?.update('none');
    showLog();
    showStats();
    showLevel();
  }

  function showLevel(): void {
    const db = monitor.level;
    level.value = Number.isFinite(db) ? Math.max(LEVEL_FLOOR_DB, Math.min(0, db)) : LEVEL_FLOOR_DB;
    levelText.textContent = monitor.phase !== 'listening' ? '—' : Number.isFinite(db) && db > LEVEL_FLOOR_DB ? `${db.toFixed(0)} dBFS` : 'silent';
    level.dataset.db = Number.isFinite(db) ? db.toFixed(1) : '';
  }

  // The level changes ~20 times a second: drawn at most once per frame, and its text is not announced.
  let frame = 0;
  const onLevel = () => {
    if (!frame) frame = requestAnimationFrame(() => {
      frame = 0;
      showLevel();
      if (!monitor.last && monitor.phase === 'listening') statusLine.textContent = statusText();
    });
  };
  monitor.addEventListener('change', render);
  monitor.addEventListener('level', onLevel);
  render();
  return () => {
    // Leaving the page leaves the monitor listening: only this view stops.
    gone = true;
    monitor.removeEventListener('change', render);
    monitor.removeEventListener('level', onLevel);
    if (frame) cancelAnimationFrame(frame);
    chartObj?.destroy();
  };
};

export default page;
