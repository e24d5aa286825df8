/** The encodings `sentinel eval-robust` makes, read back by the project's own decoder (synthetic tones only). */
import { describe, expect, it } from 'vitest';
import { encodeAll, encodeMp3 } from '../../cli/encodings.ts';
import { decodeAudio } from '../../shared/audio/index.ts';
import { tone, toneAmplitude } from '../helpers/tones.ts';

/** The frequency, on a 50 Hz grid from 100 Hz to 6 kHz, with the largest amplitude in x. */
function dominantFrequency(x: Float32Array, rate: number): number {
  let best = 0;
  let bestAmplitude = -1;
  for (let f = 100; f <= 6000; f += 50) {
    const a = toneAmplitude(x, rate, f);
    if (a > bestAmplitude) [best, bestAmplitude] = [f, a];
  }
  return best;
}

describe('encodeMp3', () => {
  it('makes an MP3 that decodes to about the same second, with its tone where it was', async () => {
    const mp3 = await encodeMp3(tone(44100, 1, [[0.5, 1250]]), 44100);
    const audio = await decodeAudio(mp3);
    expect(audio.sampleRate).toBe(44100);
    expect(audio.channels).toHaveLength(1);
    // MP3 adds the encoder's delay and pads the last frame (1152 samples each at most): longer, never shorter.
    expect(audio.duration).toBeGreaterThanOrEqual(1);
    expect(audio.duration).toBeLessThan(1 + (2 * 1152) / 44100);
    expect(dominantFrequency(audio.channels[0], 44100)).toBe(1250);
    expect(toneAmplitude(audio.channels[0], 44100, 1250)).toBeCloseTo(0.5, 1);
  });
});

describe('encodeAll', () => {
  it('writes 16 kHz and 44.1 kHz WAVs and an MP3 of one recording, each decoding to its tone', async () => {
    const files = await encodeAll(tone(22050, 1, [[0.4, 900]]), 22050);
    const rates = { wav16k: 16000, wav44k: 44100, mp3: 44100 };
    for (const [name, rate] of Object.entries(rates) as [keyof typeof rates, number][]) {
      const audio = await decodeAudio(files[name]);
      expect(audio.sampleRate, name).toBe(rate);
      expect(audio.duration, name).toBeGreaterThanOrEqual(1);
      expect(dominantFrequency(audio.channels[0], rate), name).toBe(900);
    }
    // The WAVs hold exactly the resampled second (ceil(n * to / from) samples).
    expect((await decodeAudio(files.wav16k)).channels[0].length).toBe(16000);
    expect((await decodeAudio(files.wav44k)).channels[0].length).toBe(44100);
  });
});
