/**
 * The CLI speaks the API's vocabulary: `predict --json` has POST /predict's field names, errors carry the API's
 * codes; `--version`, and friendly messages (never errno text) for missing files and folders.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { predictionJson, verdictText } from '../../cli/commands/predict.ts';
import { errorResponse } from '../../functions/errors.ts';
import { PredictionSchema } from '../../functions/schemas.ts';
import { encodeWav } from '../../shared/audio/index.ts';
import { SentinelError } from '../../shared/errors.ts';
import type { Prediction } from '../../shared/types.ts';
import { sentinel } from '../helpers/cli.ts';
import { backgroundLike, RATE } from '../helpers/synth.ts';

const dir = mkdtempSync(join(tmpdir(), 'sentinel-cli-vocab-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** POST /predict's fields a CLI verdict has too (no stored prediction: no id, nothing logged). */
const apiKeys = Object.keys(PredictionSchema.shape).filter((k) => k !== 'prediction_id' && k !== 'logged').sort();

const sample = (over: Partial<Prediction>): Prediction => ({
  class: 'safe',
  probability: 0.023,
  confidence: 0.977,
  aggregation: 'window',
  threshold: 0.146,
  duration: 12,
  windows: [{ start: 0, end: 3, probability: 0.023, level: -23.5 }],
  events: [],
  modelVersion: 'v-test',
  ...over,
});

describe('CLI vocabulary', () => {
  it("predictionJson uses POST /predict's names, nested ones included", () => {
    const out = predictionJson(sample({ class: 'danger', probability: 0.9, events: [{ start: 3, end: 6, peakProbability: 0.9 }] }));
    expect(Object.keys(out).sort()).toEqual(apiKeys);
    expect(Object.keys(out.events[0]).sort()).toEqual(Object.keys(PredictionSchema.shape.events.element.shape).sort());
    expect(PredictionSchema.omit({ prediction_id: true, logged: true }).strict().safeParse(out).success).toBe(true);
  });

  it('says P(danger) with the threshold beside it, and flags a clip shorter than one window', () => {
    expect(verdictText(sample({}))).toMatch(/^Safe — P\(danger\) 2\.3%, below the 14\.6% threshold \(1 window over 12\.0 s\)/);
    expect(verdictText(sample({ class: 'danger', probability: 0.87 }))).toMatch(/^Danger — P\(danger\) 87\.0%, at or above the 14\.6% threshold/);
    expect(verdictText(sample({ duration: 1.2 }))).toMatch(/1\.2 s clip, shorter than one 3 s window/);
  });

  it('error codes are the lower snake case the API sends', () => {
    expect(errorResponse(new SentinelError('MODEL_NOT_FOUND', 'x')).body.error.code).toBe('model_not_found');
    expect(errorResponse(new SentinelError('USAGE', 'x')).body.error.code).toBe('invalid_request');
  });

  it('--version prints package.json\'s version', async () => {
    const r = await sentinel('--version');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`sentinel ${JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version}`);
  });

  it('a missing file or folder: a sentence with the API code not_found and exit 1, never errno text', async () => {
    const missing = await sentinel('predict', join(dir, 'missing.wav'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/No such audio file: .*missing\.wav\. \[not_found\]/);
    expect(missing.stderr).not.toMatch(/ENOENT|EISDIR/);
    const folder = await sentinel('eval', join(dir, 'no-such-folder'));
    expect(folder.code).toBe(1);
    expect(folder.stderr).toMatch(/No such dataset folder or zip: .*no-such-folder.*\[not_found\]/);
    const notAFile = await sentinel('predict', dir, '--json');
    expect(notAFile.code).toBe(1);
    expect(JSON.parse(notAFile.stdout)).toMatchObject({ file: dir, error: { code: 'invalid_request', message: expect.stringContaining('is a folder') } });
    expect((await sentinel('predict', 'x.wav', '--model', join(dir, 'no-model'))).stderr).toMatch(/No such model folder: .*\[not_found\]/);
  });

  it("predict --json: one line per file with the API's field names, and the API's code for a missing file", async () => {
    const clip = join(dir, 'clip.wav');
    writeFileSync(clip, encodeWav(backgroundLike(4, 7), RATE, { bitDepth: 16 }));
    const r = await sentinel('predict', clip, join(dir, 'gone.wav'), '--json');
    expect(r.code).toBe(1);
    const [ok, bad] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(Object.keys(ok).sort()).toEqual(['file', ...apiKeys].sort());
    expect(bad).toEqual({ file: join(dir, 'gone.wav'), error: { code: 'not_found', message: expect.stringMatching(/^No such audio file/) } });
  });
});
