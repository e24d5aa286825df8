/** The `sentinel` CLI as a child process: dispatcher behaviour and `spectrogram --json` against the librosa golden. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeWav } from '../../shared/audio/index.js';
import { golden } from '../fixtures/golden/load.js';
import { goldenSignal } from '../fixtures/golden/signals.js';

const bin = new URL('../../bin/sentinel.mjs', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'sentinel-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function sentinel(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], { maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('sentinel CLI', () => {
  it('--help lists the commands; an unknown command exits 2 with a message', async () => {
    const help = await sentinel('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^commands:$/m);
    expect(help.stdout).toMatch(/^\s+spectrogram\s+Log-mel/m);
    const unknown = await sentinel('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/);
  });

  it('spectrogram --json prints the first window, equal to librosa within 1e-3 dB', async () => {
    const file = join(dir, 'chirp_pcm16.wav');
    writeFileSync(file, encodeWav(goldenSignal('b_chirp', golden.f32('input_c_noise')), 22050, { bitDepth: 16 }));
    const { code, stdout } = await sentinel('spectrogram', file, '--json');
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as { sampleRate: number; nMels: number; frames: number; db: number[] };
    expect([out.sampleRate, out.nMels, out.frames, out.db.length]).toEqual([22050, 128, 130, 128 * 130]);
    const ref = golden.f32('mel_db_b_chirp_pcm16');
    let err = 0;
    out.db.forEach((v, i) => (err = Math.max(err, Math.abs(v - ref[i]))));
    expect(err).toBeLessThan(1e-3);
  });

  it('spectrogram reports bad input with its code and exit 1, usage errors with exit 2', async () => {
    const bad = join(dir, 'not-audio.wav');
    writeFileSync(bad, 'definitely not audio');
    const r = await sentinel('spectrogram', bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Unrecognised audio format.*\[unsupported_format\]/);
    expect((await sentinel('spectrogram', join(dir, 'missing.wav'))).stderr).toMatch(/No such audio file: .*missing\.wav.*\[not_found\]/);
    expect((await sentinel('spectrogram')).code).toBe(2);
    expect((await sentinel('spectrogram', bad, '--nope')).code).toBe(2);
  });
});
