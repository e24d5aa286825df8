/**
 * `sentinel eval-robust <dir|zip>`: how much re-encoding a recording moves the model's verdict. Each clip is made
 * into a 16 kHz WAV (the reference), a 44.1 kHz WAV and a 128 kbit/s MP3, and each of those goes through the
 * model's own analysis; the changes of P(danger) against the reference are summed up.
 */
import { readDataset } from '../../adapters/intake/dataset.ts';
import { decodeAudio, toMono } from '../../shared/audio/index.ts';
import { AudioError } from '../../shared/audio/errors.ts';
import { SentinelError } from '../../shared/errors.ts';
import { pairedChange, type PairedChange } from '../../shared/metrics/index.ts';
import type { LabeledClip } from '../../shared/types.ts';
import type { Command } from '../command.ts';
import { requirePath } from '../files.ts';
import { ENCODING_LABELS, ENCODING_NAMES, MP3_ENCODER, encodeAll, type EncodingName } from '../encodings.ts';
import { loadDetector } from '../model.ts';
import { progressBar } from '../progress.ts';

const REFERENCE = 'wav16k' satisfies EncodingName;
const COMPARED = ['wav44k', 'mp3'] as const satisfies readonly EncodingName[];
const WAV_ENCODER = '16-bit PCM by encodeWav, resampled by shared/audio/resample';

type ClipProbabilities = { path: string; label: string } & Record<EncodingName, number>;

/** `limit` clips spread evenly over the sorted list: the first N would all be danger/ (it sorts before safe/). */
function spread<T>(items: readonly T[], limit: number | undefined): T[] {
  if (limit === undefined || limit >= items.length) return [...items];
  return Array.from({ length: limit }, (_, i) => items[Math.floor((i * items.length) / limit)]);
}

function parseLimit(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new SentinelError('USAGE', `--limit must be a positive integer, got ${String(value)}.`);
  return n;
}

/** A PairedChange with its largest change named by clip (and encoding, for the overall one). */
function summarise(change: PairedChange, clips: readonly ClipProbabilities[], encodings: readonly EncodingName[]) {
  const { maxIndex, ...rest } = change;
  const clip = clips[maxIndex % clips.length];
  return { ...rest, maxClip: clip.path, ...(encodings.length > 1 ? { maxEncoding: encodings[Math.floor(maxIndex / clips.length)] } : {}) };
}

export const evalRobustCommand: Command = {
  name: 'eval-robust',
  usage: [
    'sentinel eval-robust <dir|zip> [--model DIR] [--limit N] [--json]',
    '',
    'Each clip of a labelled folder or zip is decoded, mixed to mono and written three ways: 16 kHz 16-bit WAV (the',
    'reference), 44.1 kHz 16-bit WAV and 128 kbit/s MP3 at 44.1 kHz (lamejs). Each goes through the model like',
    '`predict` does; printed per encoding against the reference: mean and largest |ΔP(danger)| and the verdicts',
    "flipped at the model's threshold, and the same over all pairs. Undecodable clips are skipped and listed.",
    '  --model DIR   model artifact folder (default: models/default)',
    '  --limit N     at most N clips, spread evenly over the sorted list (both labels)',
    '  --json        one JSON object: n, threshold, model_version, reference, encoders, comparisons {wav44k, mp3},',
    '                overall (each n, meanAbsDelta, maxAbsDelta, maxClip, flips, flipRate), clips, skipped',
  ].join('\n'),
  options: { model: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean', default: false } },
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new SentinelError('USAGE', 'eval-robust takes one dataset folder or zip.');
    const limit = parseLimit(values.limit);
    await requirePath(positionals[0], 'dataset folder or zip');
    const dataset = await readDataset(positionals[0]);
    const chosen: LabeledClip[] = spread(dataset.clips, limit);
    const detector = await loadDetector(values.model as string | undefined, io);
    const threshold = detector.threshold;
    const bar = progressBar(!values.json);
    const clips: ClipProbabilities[] = [];
    const skipped = [...dataset.skipped];
    for (const [i, clip] of chosen.entries()) {
      let encoding: EncodingName | undefined;
      try {
        const audio = await decodeAudio(clip.bytes);
        const files = await encodeAll(toMono(audio.channels), audio.sampleRate);
        const row = { path: clip.path, label: clip.label } as ClipProbabilities;
        for (encoding of ENCODING_NAMES) row[encoding] = (await detector.predict(await detector.analyse(files[encoding]))).probability;
        clips.push(row);
      } catch (err) {
        if (!(err instanceof AudioError)) throw err;
        const as = encoding ? ` (as ${ENCODING_LABELS[encoding]})` : '';
        skipped.push({ path: clip.path, code: err.code, reason: `${err.message}${as}` });
      }
      bar.update('robust', i + 1, chosen.length);
    }
    bar.stop();
    detector.dispose();
    if (clips.length === 0) throw new SentinelError('no_decodable_clips', `None of the ${chosen.length} clips could be decoded.`, { skipped });

    const reference = clips.map((c) => c[REFERENCE]);
    const comparisons = Object.fromEntries(COMPARED.map((e) => [e, summarise(pairedChange(reference, clips.map((c) => c[e]), threshold), clips, [e])]));
    const all = pairedChange(
      COMPARED.flatMap(() => reference),
      COMPARED.flatMap((e) => clips.map((c) => c[e])),
      threshold,
    );
    const overall = summarise(all, clips, COMPARED);
    const encoders = { wav: WAV_ENCODER, mp3: MP3_ENCODER };

    if (values.json) {
      io.stdout(JSON.stringify({ n: clips.length, threshold, model_version: detector.version, reference: REFERENCE, encoders, comparisons, overall, clips, skipped }) + '\n');
      return 0;
    }
    const row = (name: string, s: ReturnType<typeof summarise>) =>
      `  ${name.padEnd(14)} ${s.meanAbsDelta.toFixed(4).padStart(9)} ${s.maxAbsDelta.toFixed(4).padStart(9)}  ${`${s.flips} (${(s.flipRate * 100).toFixed(1)}%)`.padEnd(12)} ${s.maxClip}${s.maxEncoding ? ` (${ENCODING_LABELS[s.maxEncoding]})` : ''}`;
    io.stdout(
      [
        `model ${detector.version}, threshold ${threshold.toFixed(3)}, ${clips.length} clips (${skipped.length} skipped)`,
        `WAV: ${WAV_ENCODER}; MP3: ${MP3_ENCODER}`,
        `against the ${ENCODING_LABELS[REFERENCE]} (the reference):`,
        `  ${''.padEnd(14)} ${'mean |ΔP|'.padStart(9)} ${'max |ΔP|'.padStart(9)}  ${'flips'.padEnd(12)} largest change`,
        ...COMPARED.map((e) => row(ENCODING_LABELS[e], comparisons[e])),
        row('overall', overall),
        ...(skipped.length > 0 ? ['skipped:', ...skipped.map((s) => `  ${s.path}: ${s.reason} [${s.code}]`)] : []),
      ].join('\n') + '\n',
    );
    return 0;
  },
};
