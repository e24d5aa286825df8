/** `sentinel predict <files…>`: danger or safe for each file; long recordings are analysed in sliding windows. */
import { readFile } from 'node:fs/promises';
import { SentinelError } from '../../shared/errors.ts';
import type { Command } from '../command.ts';
import { loadDetector } from '../model.ts';
import { progressBar } from '../progress.ts';

function number(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new SentinelError('USAGE', `--${name} must be a number, got ${String(value)}.`);
  return n;
}

export const predictCommand: Command = {
  name: 'predict',
  summary: 'Danger or safe for audio files (windows, events, probability)',
  usage: [
    'sentinel predict <files…> [--model DIR] [--json] [--hop SECONDS] [--threshold P]',
    '',
    'Analyses every 3 s window of each file (hop 1 s by default); a file is danger when any window reaches the',
    "model's threshold. Consecutive danger windows are merged into events.",
    '  --model DIR      model artifact folder (default: models/default, the shipped model)',
    '  --json           one JSON object per file, one per line',
    '  --hop SECONDS    hop between windows (default 1)',
    "  --threshold P    override the model's threshold",
  ].join('\n'),
  options: {
    model: { type: 'string' },
    json: { type: 'boolean', default: false },
    hop: { type: 'string' },
    threshold: { type: 'string' },
  },
  async run({ values, positionals }, io) {
    if (positionals.length === 0) throw new SentinelError('USAGE', 'predict takes at least one file.');
    const hopSeconds = number(values.hop, 'hop');
    const threshold = number(values.threshold, 'threshold');
    if (threshold !== undefined && !(threshold >= 0 && threshold <= 1)) throw new SentinelError('USAGE', '--threshold must be in [0, 1].');
    const detector = await loadDetector(values.model as string | undefined, io);
    const bar = progressBar(!values.json && positionals.length > 1);
    let failed = 0;
    for (const [i, file] of positionals.entries()) {
      try {
        const bytes = await readFile(file).catch((err: Error) => {
          throw new SentinelError('FILE_NOT_READABLE', `Cannot read ${file}: ${err.message}`, { file });
        });
        const p = await detector.predict(await detector.analyse(bytes, { hopSeconds }), { threshold });
        const out = { file, class: p.class, probability: p.probability, confidence: p.confidence, threshold: p.threshold, duration: p.duration, modelVersion: p.modelVersion, windows: p.windows, events: p.events };
        if (values.json) io.stdout(JSON.stringify(out) + '\n');
        else {
          const events = p.events.map((e) => `${e.start.toFixed(1)}–${e.end.toFixed(1)} s (${(e.peakProbability * 100).toFixed(0)}%)`).join(', ');
          // What the loudest-for-danger window sounds like to the AudioSet backbone, when the model has one.
          const peak = p.windows.reduce((best, w) => (w.probability > best.probability ? w : best), p.windows[0]);
          const heard = peak?.classes ? `; sounds like ${peak.classes.map((c) => `${c.label} ${(c.score * 100).toFixed(0)}%`).join(', ')}` : '';
          io.stdout(`${file}: ${p.class.toUpperCase()} ${(p.probability * 100).toFixed(1)}% (threshold ${(p.threshold * 100).toFixed(1)}%, ${p.windows.length} windows over ${p.duration.toFixed(1)} s)${events ? ` events: ${events}` : ''}${heard}\n`);
        }
      } catch (err) {
        if (!(err instanceof SentinelError)) throw err;
        failed++;
        if (values.json) io.stdout(JSON.stringify({ file, error: { code: err.code, message: err.message } }) + '\n');
        else io.stderr(`${file}: ${err.message} [${err.code}]\n`);
      }
      bar.update('predict', i + 1, positionals.length);
    }
    bar.stop();
    detector.dispose();
    return failed > 0 ? 1 : 0;
  },
};
