/** `sentinel spectrogram <file> [--json]`: the log-mel spectrogram of a file's first window (the model's input). */
import { AUDIO, MEL } from '../../shared/config.ts';
import { analyse } from '../../shared/audio/index.ts';
import { SentinelError } from '../../shared/errors.ts';
import type { Command } from '../command.ts';
import { readInputFile } from '../files.ts';

export const spectrogramCommand: Command = {
  name: 'spectrogram',
  usage: [
    'sentinel spectrogram <file> [--json]',
    '',
    `Decodes the file (wav, mp3, flac, ogg, opus, webm, m4a), resamples to ${AUDIO.sampleRate} Hz and prints the`,
    `${MEL.nMels}-band log-mel spectrogram of its first ${AUDIO.windowSeconds} s window exactly as the model sees it.`,
    '  --json   print {"sampleRate","nMels","frames","db"} with db row-major [mel][frame]',
  ].join('\n'),
  options: { json: { type: 'boolean', default: false } },
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new SentinelError('USAGE', 'spectrogram takes exactly one file argument.');
    const file = positionals[0];
    const result = await analyse(await readInputFile(file), { maxWindows: 1 });
    const { db } = result.windows[0];
    if (values.json) {
      io.stdout(JSON.stringify({ sampleRate: result.sampleRate, nMels: result.nMels, frames: result.frames, db: Array.from(db) }) + '\n');
      return 0;
    }
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of db) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    io.stdout(
      [
        `file:        ${file}`,
        `source:      ${result.sourceSampleRate} Hz, ${result.duration.toFixed(3)} s`,
        `spectrogram: ${result.nMels} mel bands x ${result.frames} frames at ${result.sampleRate} Hz (first ${Math.min(AUDIO.windowSeconds, result.duration).toFixed(3)} s)`,
        `dB range:    ${lo.toFixed(2)} .. ${hi.toFixed(2)}`,
        '(use --json for the values)',
      ].join('\n') + '\n',
    );
    return 0;
  },
};
