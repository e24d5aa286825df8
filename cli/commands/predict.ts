/** `sentinel predict <files…>`: danger or safe for each file; long recordings are analysed in sliding windows. */
import { predictionJson } from '../../functions/schemas.ts';
import { AUDIO } from '../../shared/config.ts';
import { publicErrorCode, SentinelError } from '../../shared/errors.ts';
import { classesText } from '../../shared/inference/classes.ts';
import type { Prediction } from '../../shared/types.ts';
import type { Command } from '../command.ts';
import { readInputFile } from '../files.ts';
import { loadDetector } from '../model.ts';
import { progressBar } from '../progress.ts';

function number(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new SentinelError('USAGE', `--${name} must be a number, got ${String(value)}.`);
  return n;
}

const pct = (p: number) => `${(p * 100).toFixed(1)}%`;

/**
 * One line a person reads: "Safe — P(danger) 2.3%, below the 5.6% threshold (10 windows over 12.0 s)", the events,
 * what the most dangerous window sounds like (AudioSet backbone), and a clip shorter than one window said as such.
 */
export function verdictText(p: Prediction): string {
  const verdict = p.class === 'danger' ? `Danger — P(danger) ${pct(p.probability)}, at or above the ${pct(p.threshold)} threshold` : `Safe — P(danger) ${pct(p.probability)}, below the ${pct(p.threshold)} threshold`;
  const span =
    p.duration < AUDIO.windowSeconds
      ? `a ${p.duration.toFixed(1)} s clip, shorter than one ${AUDIO.windowSeconds} s window: padded with silence, so less certain`
      : `${p.windows.length} window${p.windows.length === 1 ? '' : 's'} over ${p.duration.toFixed(1)} s`;
  const events = p.events.map((e) => `${e.start.toFixed(1)}–${e.end.toFixed(1)} s (peak ${(e.peakProbability * 100).toFixed(0)}%)`).join(', ');
  const peak = p.windows.reduce((best, w) => (w.probability > best.probability ? w : best), p.windows[0]);
  const heard = peak?.classes ? `; sounds like ${classesText(peak.classes)}` : '';
  return `${verdict} (${span})${events ? `; danger events: ${events}` : ''}${heard}`;
}

export const predictCommand: Command = {
  name: 'predict',
  usage: [
    'sentinel predict <files…> [--model DIR] [--json] [--hop SECONDS] [--threshold P]',
    '',
    'Analyses every 3 s window of each file (hop 1 s by default); a file is danger when a window reaches the',
    "model's threshold (for a model scored by pairs, two adjacent windows together: their mean logit). Consecutive",
    'hits are merged into events.',
    '  --model DIR      model artifact folder (default: models/default, the shipped model)',
    '  --json           one JSON object per file, one per line: {file, …POST /predict\'s fields} or {file, error: {code, message}}',
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
        const p = await detector.predict(await detector.analyse(await readInputFile(file), { hopSeconds }), { threshold });
        if (values.json) io.stdout(JSON.stringify({ file, ...predictionJson(p) }) + '\n');
        else io.stdout(`${file}: ${verdictText(p)}\n`);
      } catch (err) {
        if (!(err instanceof SentinelError)) throw err;
        failed++;
        const code = publicErrorCode(err.code);
        if (values.json) io.stdout(JSON.stringify({ file, error: { code, message: err.message } }) + '\n');
        else io.stderr(`${file}: ${err.message} [${code}]\n`);
      }
      bar.update('predict', i + 1, positionals.length);
    }
    bar.stop();
    detector.dispose();
    return failed > 0 ? 1 : 0;
  },
};

/** Re-exported: the CLI's --json is POST /predict's body (functions/schemas.ts). */
export { predictionJson };
