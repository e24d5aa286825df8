/**
 * Live monitor: the microphone through an AudioWorklet into a 3 s ring buffer; every `hop` seconds the latest 3 s
 * go through the shared pipeline (analyseSamples) and the current model, in this page (tfjs). Audio never leaves
 * the browser unless the user saves a clip (a local download).
 */
import { AUDIO, WEB } from '../../../shared/config.ts';
import type { BrowserModel } from '../inference.ts';
import { chartBox, COLORS, makeChart } from '../charts.ts';
import { clear, h, notice, pct } from '../dom.ts';
import type { Page } from '../main.ts';

interface LiveEvent {
  start: Date;
  end: Date;
  peak: number;
  item: HTMLLIElement;
}

const median = (xs: number[]): number => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const clock = (d: Date) => d.toLocaleTimeString([], { hour12: false });

const page: Page = (main) => {
  const start = h('button', { type: 'button', class: 'primary', id: 'live-start' }, '● Start listening');
  const stop = h('button', { type: 'button', id: 'live-stop', disabled: true }, '■ Stop');
  const save = h('button', { type: 'button', id: 'live-save', disabled: true }, '⤓ Save last 3 s');
  const hop = h('select', { id: 'hop' }, ...WEB.liveHopChoices.map((s) => h('option', { value: s, selected: s === WEB.liveHopSeconds }, `every ${s} s`)));
  const threshold = h('input', { id: 'threshold', type: 'range', min: 0.05, max: 0.95, step: 0.01, value: 0.5, disabled: true, 'aria-describedby': 'threshold-value' });
  const thresholdValue = h('output', { id: 'threshold-value', for: 'threshold' }, '—');
  const banner = h('div', { class: 'alert-banner calm', id: 'live-banner', role: 'status' }, 'Not listening.');
  const stats = h('dl', { class: 'facts', id: 'live-stats' });
  const log = h('ol', { class: 'log', id: 'live-log', 'aria-label': 'Event log' });
  const msg = h('div', { 'aria-live': 'polite' });
  const chart = chartBox('Rolling danger probability of the live microphone, newest on the right', 220);
  chart.canvas.id = 'live-chart';

  main.append(
    h('h1', {}, 'Live monitor'),
    h('p', { class: 'lead' }, `Listens to your microphone and checks the last ${AUDIO.windowSeconds} s at every step, in this browser. No audio is sent anywhere.`),
    h(
      'section',
      { class: 'card', 'aria-label': 'Controls' },
      h('div', { class: 'row' }, start, stop, save),
      h('div', { class: 'row', style: 'margin-top:.75rem' }, h('label', { for: 'hop' }, 'Check'), hop, h('label', { for: 'threshold' }, 'Sensitivity threshold'), threshold, thresholdValue),
      msg,
    ),
    banner,
    h('div', { class: 'grid', style: 'margin-top:1rem' },
      h('section', { class: 'card', 'aria-labelledby': 'lc-title' }, h('h2', { id: 'lc-title' }, 'P(danger), live'), chart.box),
      h('section', { class: 'card', 'aria-labelledby': 'ev-title' }, h('h2', { id: 'ev-title' }, 'Event log'), log, h('h2', { style: 'margin-top:1rem' }, 'Engine'), stats),
    ),
  );

  let model: BrowserModel | null = null;
  let ctx: AudioContext | null = null;
  let stream: MediaStream | null = null;
  let node: AudioWorkletNode | null = null;
  let ring = new Float32Array(0);
  let written = 0;
  let sinceLast = 0;
  let busy = false;
  let t0 = 0;
  let open: LiveEvent | null = null;
  const points: { x: number; y: number }[] = [];
  const thresholdLine: { x: number; y: number }[] = [];
  const melMs: number[] = [];
  const modelMs: number[] = [];
  let chartObj: Awaited<ReturnType<typeof makeChart<'line'>>> | null = null;
  /** The latest window's top AudioSet classes (AudioSet-backbone models), as text. */
  let heard = '';

  const thr = () => Number(threshold.value);
  threshold.addEventListener('input', () => (thresholdValue.textContent = pct(thr(), 0)));

  function showStats(): void {
    const infer = melMs.map((m, i) => m + modelMs[i]);
    stats.dataset.windows = String(infer.length);
    stats.dataset.inferMs = median(infer).toFixed(2);
    stats.dataset.melMs = median(melMs).toFixed(2);
    stats.dataset.modelMs = median(modelMs).toFixed(2);
    stats.dataset.backend = model?.backend ?? '';
    stats.dataset.features = model?.features ?? '';
    clear(
      stats,
      h('dt', {}, 'Model'), h('dd', {}, model ? `${model.version} (threshold ${pct(model.threshold, 0)})` : '—'),
      h('dt', {}, 'Backend'), h('dd', {}, model ? `${model.backend}${model.features ? ` (${model.features})` : ''}` : '—'),
      h('dt', {}, 'Input'), h('dd', {}, ctx && model ? `${ctx.sampleRate} Hz → ${model.detector.frontEnd.sampleRate} Hz (${model.detector.frontEnd.name} front end)` : '—'),
      ...(heard ? [h('dt', {}, 'Sounds like (last window)'), h('dd', { id: 'live-heard' }, heard)] : []),
      h('dt', {}, 'Windows checked'), h('dd', {}, String(infer.length)),
      h('dt', {}, 'Time per window'), h('dd', {}, infer.length ? `${median(infer).toFixed(1)} ms (mel ${median(melMs).toFixed(1)} + model ${median(modelMs).toFixed(1)}), median` : '—'),
    );
  }

  function latestWindow(): Float32Array {
    const out = new Float32Array(ring.length);
    const at = written % ring.length;
    out.set(ring.subarray(at), 0);
    out.set(ring.subarray(0, at), ring.length - at);
    return out;
  }

  async function infer(): Promise<void> {
    if (!model || !ctx) return;
    busy = true;
    try {
      const samples = latestWindow();
      const a = performance.now();
      const analysis = model.detector.analyseSamples(samples, ctx.sampleRate, { maxWindows: 1 });
      const b = performance.now();
      const [{ probability: p, classes }] = await model.detector.scores([analysis.windows[0].db], 1);
      const c = performance.now();
      melMs.push(b - a);
      modelMs.push(c - b);
      heard = classes ? classes.map((k) => `${k.label} ${pct(k.score, 0)}`).join(', ') : '';
      onProbability(p, new Date());
      showStats();
    } catch (error) {
      clear(msg, notice('error', `Inference failed: ${String((error as Error).message ?? error)}`));
    } finally {
      busy = false;
    }
  }

  function onProbability(p: number, now: Date): void {
    const x = (performance.now() - t0) / 1000;
    points.push({ x, y: p });
    thresholdLine.push({ x, y: thr() });
    while (points.length > WEB.liveHistory) points.shift();
    while (thresholdLine.length > WEB.liveHistory) thresholdLine.shift();
    chartObj?.update('none');
    if (p >= thr()) {
      if (!open) {
        const item = h('li', { class: 'danger' });
        log.prepend(item);
        open = { start: now, end: now, peak: p, item };
        banner.className = 'alert-banner';
        banner.setAttribute('role', 'alert');
        banner.textContent = `⚠ Danger heard at ${clock(now)} (P ${pct(p, 0)})`;
      }
      open.end = now;
      open.peak = Math.max(open.peak, p);
      open.item.textContent = `⚠ ${clock(open.start)}–${clock(open.end)}: danger, peak ${pct(open.peak, 0)}`;
    } else if (open) {
      open.item.textContent += ' (ended)';
      open = null;
      banner.setAttribute('role', 'status');
      banner.className = 'alert-banner calm';
      banner.textContent = `✓ Listening. Last alert ended at ${clock(now)}.`;
    }
  }

  function onAudio(chunk: Float32Array): void {
    if (!ctx) return; // a block posted just before stop
    for (let i = 0; i < chunk.length; ) {
      const at = written % ring.length;
      const n = Math.min(chunk.length - i, ring.length - at);
      ring.set(chunk.subarray(i, i + n), at);
      written += n;
      i += n;
    }
    sinceLast += chunk.length;
    const hopSamples = Number(hop.value) * ctx.sampleRate;
    if (written >= ring.length && sinceLast >= hopSamples && !busy) {
      sinceLast = 0;
      void infer();
    }
  }

  async function begin(): Promise<void> {
    start.disabled = true;
    clear(msg, notice('info', 'Loading the model and asking for the microphone…'));
    try {
      const { loadCurrentModel } = await import('../inference.ts');
      model = await loadCurrentModel();
      threshold.disabled = false;
      threshold.value = String(model.threshold);
      thresholdValue.textContent = pct(model.threshold, 0);
      stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
      ctx = new AudioContext();
      await ctx.audioWorklet.addModule(new URL('capture-worklet.js', document.baseURI).href);
      node = new AudioWorkletNode(ctx, 'sentinel-capture');
      node.port.onmessage = (e: MessageEvent<Float32Array>) => onAudio(e.data);
      ctx.createMediaStreamSource(stream).connect(node);
      ring = new Float32Array(Math.round(AUDIO.windowSeconds * ctx.sampleRate));
      written = 0;
      sinceLast = 0;
      t0 = performance.now();
      chartObj = await makeChart(chart.canvas, {
        type: 'line',
        data: {
          datasets: [
            { label: 'P(danger)', data: points, borderColor: COLORS.lavender, backgroundColor: 'rgba(224,176,255,.15)', fill: 'origin', pointRadius: 0 },
            { label: 'Threshold', data: thresholdLine, borderColor: COLORS.red, borderDash: [6, 4], pointRadius: 0 },
          ],
        },
        options: { parsing: false, scales: { x: { type: 'linear', title: { display: true, text: 'seconds since start' } }, y: { min: 0, max: 1 } } },
      });
      stop.disabled = false;
      save.disabled = false;
      banner.className = 'alert-banner calm';
      banner.textContent = `✓ Listening (first check after ${AUDIO.windowSeconds} s).`;
      clear(msg, notice('ok', `Model ${model.version} running on ${model.backend}${model.downloaded ? `, ${(model.downloaded / 1024 ** 2).toFixed(1)} MB downloaded` : ', from the cache'}.`));
      showStats();
    } catch (error) {
      halt();
      const name = (error as DOMException).name;
      const text = name === 'NotAllowedError' ? 'Microphone access was refused: allow it in the browser and try again.' : String((error as Error).message ?? error);
      clear(msg, notice('error', text));
    }
  }

  function halt(): void {
    if (node) node.port.onmessage = null;
    node?.disconnect();
    stream?.getTracks().forEach((t) => t.stop());
    void ctx?.close().catch(() => undefined);
    node = null;
    stream = null;
    ctx = null;
    start.disabled = false;
    stop.disabled = true;
    save.disabled = true;
    if (open) open = null;
    banner.setAttribute('role', 'status');
    banner.className = 'alert-banner calm';
    banner.textContent = 'Not listening.';
  }

  start.addEventListener('click', () => void begin());
  stop.addEventListener('click', halt);
  save.addEventListener('click', async () => {
    if (!ctx || written < ring.length) return;
    const rate = ctx.sampleRate;
    const { encodeWav } = await import('../../../shared/audio/wav.ts');
    const wav = encodeWav(latestWindow(), rate, { bitDepth: 16 });
    const a = h('a', { href: URL.createObjectURL(new Blob([wav as Uint8Array<ArrayBuffer>], { type: 'audio/wav' })), download: `sentinel-${new Date().toISOString().replace(/[:.]/g, '-')}.wav` });
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  });
  showStats();
  return () => {
    halt();
    chartObj?.destroy();
  };
};

export default page;
