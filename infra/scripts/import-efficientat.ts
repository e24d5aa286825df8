/**
 * `npm run import:efficientat [-- <source dir>]`: converts the EfficientAT mn04_as checkpoint (float32 tensors + index,
 * default ../shared/weights/efficientat_mn04_as/ beside the repository) into the project's tfjs copy under
 * models/backbones/efficientat-mn04/: backbone/ and audioset-head/ (model.json + weights.bin, BatchNorm kept so it
 * can be fine-tuned), labels.json (the 527 AudioSet display names in index order), the MIT licence and a README.
 * Refuses to write when the converted model misses the source's parity vector (mel -> logits) by more than 1e-3.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '../../shared/model/tf.ts';
import { parse } from 'csv-parse/sync';
import { writeModelFiles } from '../../adapters/model-files.ts';
import { AUDIOSET_CLASSES, EFFICIENTAT_MEL_BANDS, loadEfficientAtWeights } from '../../shared/model/backbones/efficientat.ts';
import { modelToFiles } from '../../shared/model/files.ts';

const source = process.argv[2] ?? new URL('../../../shared/weights/efficientat_mn04_as/', import.meta.url).pathname;
const out = new URL('../../models/backbones/efficientat-mn04/', import.meta.url).pathname;
const PARITY_TOLERANCE = 1e-3;

const readF32 = (path: string) => {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

await tf.setBackend('cpu'); // the conversion only transposes; the parity check is small
const index = JSON.parse(readFileSync(join(source, 'mn04_as_weights.index.json'), 'utf8'));
const bin = new Uint8Array(readFileSync(join(source, 'mn04_as_weights.f32.bin')));
const { backbone, audioSetHead } = loadEfficientAtWeights(bin, index);

const mel = readF32(join(source, 'parity/mel_128xT.f32'));
const expected = readF32(join(source, 'parity/logits_527.f32'));
const logits = tf.tidy(() => {
  const x = tf.tensor4d(mel, [1, EFFICIENTAT_MEL_BANDS, mel.length / EFFICIENTAT_MEL_BANDS, 1]);
  const embedding = (backbone.predict(x) as tf.Tensor).mean([1, 2]);
  return (audioSetHead.predict(embedding) as tf.Tensor).dataSync();
});
const diff = expected.reduce((m, v, i) => Math.max(m, Math.abs(v - logits[i])), 0);
console.log(`parity: max |logit - PyTorch| = ${diff.toExponential(2)}`);
if (!(diff <= PARITY_TOLERANCE)) {
  console.error(`The converted model misses the parity logits by ${diff} (> ${PARITY_TOLERANCE}): nothing written.`);
  process.exit(1);
}

const rows = parse(readFileSync(join(source, 'audioset_class_labels_indices.csv')), { columns: true }) as Array<{ index: string; display_name: string }>;
const labels = rows.map((r, i) => {
  if (Number(r.index) !== i) throw new Error(`labels csv row ${i} has index ${r.index}`);
  return r.display_name;
});
if (labels.length !== AUDIOSET_CLASSES) throw new Error(`labels csv has ${labels.length} classes, not ${AUDIOSET_CLASSES}`);

if (!existsSync(out)) mkdirSync(out, { recursive: true });
await writeModelFiles(join(out, 'backbone'), await modelToFiles(backbone), { overwrite: true });
await writeModelFiles(join(out, 'audioset-head'), await modelToFiles(audioSetHead), { overwrite: true });
writeFileSync(join(out, 'labels.json'), `${JSON.stringify(labels, null, 1)}\n`);
// Read and written, not copied: the source folder is read-only and its mode would come along.
writeFileSync(join(out, 'LICENSE-EfficientAT-MIT.txt'), readFileSync(join(source, 'LICENSE-EfficientAT-MIT.txt')));
writeFileSync(
  join(out, 'README.md'),
  `# EfficientAT mn04_as in tfjs

MobileNetV3 (width 0.4) trained on AudioSet by Florian Schmid: \`fschmid56/EfficientAT\`, release asset
\`mn04_as_mAP_432.pt\` (sha256 899a8c6217063f6941793102a2780b3dd788ab11fce468d9cf5f0577c453321c), MIT licence:
LICENSE-EfficientAT-MIT.txt, which goes with every copy of these weights or weights derived from them.

- \`backbone/\`: log-mel [batch, 128, frames, 1] -> 384-channel feature map (BatchNorm unfolded, fine-tunable);
  architecture in shared/model/backbones/efficientat.ts.
- \`audioset-head/\`: 384-d embedding (the feature map's global average) -> 527 AudioSet logits.
- \`labels.json\`: the AudioSet display names in logit order (audioset_class_labels_indices.csv).

The front end the weights expect (32 kHz, Kaldi mel, log + (x + 4.5) / 5) is described in the source folder's README.
Made by \`npm run import:efficientat\` (infra/scripts/import-efficientat.ts) from the checkpoint's float32 export;
checked against its PyTorch parity vector (max logit difference ${diff.toExponential(1)} when written).
`,
);
console.log(`wrote ${out}`);
