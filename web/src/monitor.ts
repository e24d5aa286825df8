/**
 * The live monitor's listening session, kept for the life of the tab rather than of the Live page: the microphone
 * through an AudioWorklet into a ring buffer of 3 or 4 s (live-check.ts: a model scored by pairs of windows hears
 * two); every `hopSeconds` the latest audio goes through the model's front end and the model in this page (tfjs). Pages only show it: leaving the Live page keeps listening, a pill in the header
 * says so on every page (with a Stop button), and closing the tab asks first. Audio never leaves the browser.
 */
import { LEVEL_GATE, WEB } from '../../shared/config.ts';
import { endAlert, raiseAlert } from './alerts.ts';
import { h } from './dom.ts';
import type { BrowserModel } from './inference.ts';
import { checkLatestWindow, liveSeconds } from './live-check.ts';
import { classesText } from '../../shared/inference/classes.ts';
import { comparison } from './verdict.ts';

export type Phase = 'idle' | 'starting' | 'listening';

export interface LiveEvent {
  start: Date;
  end: Date;
  peak: number;
  open: boolean;
}

/** Kept per-window timings: enough for a stable median, bounded over a night of listening. */
const TIMINGS_KEPT = 600;

export const clock = (d: Date): string => d.toLocaleTimeString([], { hour12: false });

export const median = (xs: readonly number[]): number => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

class LiveMonitor extends EventTarget {
  phase: Phase = 'idle';
  model: BrowserModel | null = null;
  /** Why the last start failed or listening ended on its own (microphone unplugged), for the page to show. */
  problem: string | null = null;
  hopSeconds: number = WEB.liveHopSeconds;
  /** The sensitivity threshold in use: the model's until the user moves the slider. */
  threshold: number | null = null;
  /** The chart's series (Chart.js reads these arrays in place): P(danger) and threshold per check. */
  readonly points: { x: number; y: number }[] = [];
  readonly thresholdLine: { x: number; y: number }[] = [];
  /** Checks since listening started, and the latest one. */
  checks = 0;
  /** Checks whose window was below the level gate (LEVEL_GATE), so not scored: P(danger) 0, as /predict does. */
  quietChecks = 0;
  /** `quiet`: the window was below the level gate and not scored. */
  last: { at: Date; probability: number; threshold: number; quiet: boolean } | null = null;
  readonly events: LiveEvent[] = [];
  readonly melMs: number[] = [];
  readonly modelMs: number[] = [];
  /** The latest window's top AudioSet classes (AudioSet-backbone models), as text. */
  heard = '';
  /** Input level of the latest audio block, dBFS (RMS); -Infinity when silent or not listening. */
  level = -Infinity;
  startedAt: Date | null = null;
  stoppedAt: Date | null = null;
  sampleRate = 0;

  private ctx: AudioContext | null = null;
  private stream: MediaStream | null = null;
  private node: AudioWorkletNode | null = null;
  private ring = new Float32Array(0);
  private written = 0;
  private sinceLast = 0;
  private busy = false;
  private t0 = 0;

  /** Seconds of audio heard so far, up to one window (the first check needs a full one). */
  get heardSeconds(): number {
    return this.ring.length ? Math.min(this.written, this.ring.length) / this.sampleRate : 0;
  }

  get alerting(): boolean {
    return this.events[0]?.open === true;
  }

  thresholdInUse(): number {
    return this.threshold ?? this.model?.threshold ?? 0.5;
  }

  private changed(): void {
    this.dispatchEvent(new Event('change'));
  }

  async start(): Promise<void> {
    if (this.phase !== 'idle') return;
    this.phase = 'starting';
    this.problem = null;
    this.changed();
    try {
      const { loadCurrentModel } = await import('./inference.ts');
      this.model = await loadCurrentModel();
      this.stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
      this.ctx = new AudioContext();
      await this.ctx.audioWorklet.addModule(new URL('capture-worklet.js', document.baseURI).href);
      this.node = new AudioWorkletNode(this.ctx, 'sentinel-capture');
      this.node.port.onmessage = (e: MessageEvent<Float32Array>) => this.onAudio(e.data);
      this.ctx.createMediaStreamSource(this.stream).connect(this.node);
      for (const track of this.stream.getAudioTracks()) track.addEventListener('ended', () => this.stop('The microphone went away (unplugged or taken by another app).'));
      this.sampleRate = this.ctx.sampleRate;
      this.ring = new Float32Array(Math.round(liveSeconds(this.model.detector.aggregation) * this.sampleRate));
      this.written = 0;
      this.sinceLast = 0;
      this.t0 = performance.now();
      this.points.length = 0;
      this.thresholdLine.length = 0;
      this.melMs.length = 0;
      this.modelMs.length = 0;
      this.checks = 0;
      this.quietChecks = 0;
      this.last = null;
      this.heard = '';
      this.startedAt = new Date();
      this.stoppedAt = null;
      this.phase = 'listening';
      window.addEventListener('beforeunload', askBeforeUnload);
      showIndicator(this);
      this.changed();
    } catch (error) {
      const name = (error as DOMException).name;
      this.stop(name === 'NotAllowedError' ? 'Microphone access was refused: allow it in the browser and try again.' : String((error as Error).message ?? error));
    }
  }

  stop(problem: string | null = null): void {
    if (this.node) this.node.port.onmessage = null;
    this.node?.disconnect();
    this.stream?.getTracks().forEach((t) => t.stop());
    void this.ctx?.close().catch(() => undefined);
    this.node = null;
    this.stream = null;
    this.ctx = null;
    const wasListening = this.phase === 'listening';
    this.phase = 'idle';
    this.problem = problem;
    this.level = -Infinity;
    if (wasListening) this.stoppedAt = new Date();
    for (const e of this.events) e.open = false;
    window.removeEventListener('beforeunload', askBeforeUnload);
    endAlert();
    hideIndicator();
    this.changed();
  }

  /** The audio the latest check heard (3 or 4 s) as a 16-bit WAV (a local download; never uploaded), or null before it was heard. */
  async lastWindowWav(): Promise<Blob | null> {
    if (this.phase !== 'listening' || this.written < this.ring.length) return null;
    const { encodeWav } = await import('../../shared/audio/wav.ts');
    const wav = encodeWav(this.latestWindow(), this.sampleRate, { bitDepth: 16 });
    return new Blob([wav as Uint8Array<ArrayBuffer>], { type: 'audio/wav' });
  }

  private latestWindow(): Float32Array {
    const out = new Float32Array(this.ring.length);
    const at = this.written % this.ring.length;
    out.set(this.ring.subarray(at), 0);
    out.set(this.ring.subarray(0, at), this.ring.length - at);
    return out;
  }

  private onAudio(chunk: Float32Array): void {
    if (this.phase !== 'listening') return; // a block posted just before stop
    let sum = 0;
    for (let i = 0; i < chunk.length; i++) sum += chunk[i] * chunk[i];
    this.level = 10 * Math.log10(sum / Math.max(1, chunk.length) || 1e-12);
    for (let i = 0; i < chunk.length; ) {
      const at = this.written % this.ring.length;
      const n = Math.min(chunk.length - i, this.ring.length - at);
      this.ring.set(chunk.subarray(i, i + n), at);
      this.written += n;
      i += n;
    }
    this.sinceLast += chunk.length;
    this.dispatchEvent(new Event('level'));
    if (this.written >= this.ring.length && this.sinceLast >= this.hopSeconds * this.sampleRate && !this.busy) {
      this.sinceLast = 0;
      void this.check();
    }
  }

  private async check(): Promise<void> {
    const model = this.model;
    if (!model) return;
    this.busy = true;
    try {
      const { probability, window: latest, quiet, melMs, modelMs } = await checkLatestWindow(model.detector, this.latestWindow(), this.sampleRate, this.thresholdInUse());
      if (this.phase !== 'listening') return;
      // Timings of scored windows only: a quiet one costs the front end alone.
      if (modelMs !== undefined) {
        this.melMs.push(melMs);
        this.modelMs.push(modelMs);
      } else this.quietChecks++;
      if (this.melMs.length > TIMINGS_KEPT) this.melMs.shift();
      if (this.modelMs.length > TIMINGS_KEPT) this.modelMs.shift();
      this.heard = latest.skipped === 'quiet'
        ? `Too quiet to score (below the ${LEVEL_GATE.floorDb} dBFS level gate)`
        : classesText(latest.classes ?? []);
      this.record(probability, new Date(), quiet);
    } catch (error) {
      this.problem = `A check failed: ${String((error as Error).message ?? error)}`;
      this.changed();
    } finally {
      this.busy = false;
    }
  }

  private record(p: number, now: Date, quiet: boolean): void {
    const threshold = this.thresholdInUse();
    const x = (performance.now() - this.t0) / 1000;
    this.checks++;
    this.last = { at: now, probability: p, threshold, quiet };
    this.points.push({ x, y: p });
    this.thresholdLine.push({ x, y: threshold });
    while (this.points.length > WEB.liveHistory) this.points.shift();
    while (this.thresholdLine.length > WEB.liveHistory) this.thresholdLine.shift();
    const open = this.alerting ? this.events[0] : null;
    if (p >= threshold) {
      if (open) {
        open.end = now;
        open.peak = Math.max(open.peak, p);
      } else {
        this.events.unshift({ start: now, end: now, peak: p, open: true });
        raiseAlert(`Danger heard at ${clock(now)}: ${comparison(p, threshold)}.`, this.ctx);
      }
    } else if (open) {
      open.open = false;
      endAlert();
    }
    this.changed();
  }
}

function askBeforeUnload(e: BeforeUnloadEvent): void {
  // Closing or reloading the tab ends listening: the browser asks first.
  e.preventDefault();
}

/** The one listening session of this tab. */
export const monitor = new LiveMonitor();

let pill: { root: HTMLElement; text: HTMLElement; announce: HTMLElement; listener: () => void } | null = null;

/** A pill in the header on every page while listening: state and check count, a link back, a Stop button. */
function showIndicator(m: LiveMonitor): void {
  if (pill) return;
  const text = h('span', {}, 'Listening');
  const announce = h('span', { class: 'visually-hidden', 'aria-live': 'assertive' });
  const stop = h('button', { type: 'button', class: 'pill-stop', id: 'monitor-indicator-stop', 'aria-label': 'Stop listening' }, '■ Stop');
  stop.addEventListener('click', () => m.stop());
  const root = h('div', { class: 'monitor-pill', id: 'monitor-indicator' }, h('a', { href: '#/live' }, h('span', { class: 'dot', 'aria-hidden': 'true' }, '●'), h('span', { class: 'visually-hidden' }, 'Live monitor: '), ' ', text), stop, announce);
  let wasAlerting = false;
  const listener = () => {
    root.dataset.checks = String(m.checks);
    root.dataset.state = m.alerting ? 'danger' : 'listening';
    text.textContent = m.alerting ? `Danger heard · ${m.checks} checks` : `Listening · ${m.checks} checks`;
    // Announced once per change of state, from whichever page is shown; the check count is not read out each second.
    if (m.alerting !== wasAlerting) announce.textContent = m.alerting ? `Danger heard at ${clock(m.events[0].start)}.` : 'Danger no longer heard.';
    wasAlerting = m.alerting;
  };
  m.addEventListener('change', listener);
  listener();
  document.querySelector('header.top')?.append(root);
  pill = { root, text, announce, listener };
}

function hideIndicator(): void {
  if (!pill) return;
  monitor.removeEventListener('change', pill.listener);
  pill.root.remove();
  pill = null;
}
