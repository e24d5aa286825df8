/** `sentinel train <dir|zip> --out DIR`: trains a model artifact from labelled clips. */
import { join } from 'node:path';
import { FsEmbeddingCache } from '../../adapters/embedding-cache-fs.ts';
import { readDataset } from '../../adapters/intake/dataset.ts';
import { writeModelFiles } from '../../adapters/model-files.ts';
import { openTrainingCompute } from '../../adapters/training-threads.ts';
import { MODEL, TRAINING } from '../../shared/config.ts';
import { SentinelError } from '../../shared/errors.ts';
import { classesText } from '../../shared/inference/classes.ts';
import { BACKBONES } from '../../shared/model/backbones/index.ts';
import { INPUT_REPRESENTATIONS, isInputRepresentation } from '../../shared/model/input.ts';
import { AGGREGATIONS, BACKBONE_NAMES, TRAINING_MODES, type Aggregation, type TrainingMode } from '../../shared/model/types.ts';
import { trainModel, type CvReport } from '../../shared/training/trainer.ts';
import type { Command } from '../command.ts';
import { requirePath } from '../files.ts';
import { loadBackbone, ROOT } from '../model.ts';
import { progressBar } from '../progress.ts';

function int(value: unknown, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new SentinelError('USAGE', `--${name} must be an integer >= ${min}, got ${String(value)}.`);
  return n;
}

function share(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n >= 0 && n < 1)) throw new SentinelError('USAGE', `--${name} must be a number in [0, 1), got ${String(value)}.`);
  return n;
}

/** TRAINING.thresholdRule in words, for the usage text. */
function thresholdRuleText(): string {
  const rule = TRAINING.thresholdRule;
  if (typeof rule === 'object' && 'maxSubclassFalseAlarmRate' in rule) {
    const recordings = rule.minSubclassRecordings && rule.minSubclassRecordings > 1 ? ` from ${rule.minSubclassRecordings}+ recordings` : '';
    return `best balanced accuracy with no safe subclass of ${rule.minSubclassCount}+ clips${recordings} over ${rule.maxSubclassFalseAlarmRate * 100}% flagged`;
  }
  return typeof rule === 'object' ? `recall >= ${rule.recallTarget}` : 'max balanced accuracy';
}

/**
 * The recordings whose out-of-fold clips sit furthest on the wrong side of the threshold, one line each, with what
 * the backbone's classes hear in them: where a label may be wrong (dev's come from folder names) or the model is.
 */
export function labelsToCheck(cv: CvReport, threshold: number, count: number = TRAINING.labelsToCheck): string[] {
  const wrong = cv.outOfFold.filter((c) => (c.label === 'danger' ? c.probability < threshold : c.probability >= threshold));
  const byRecording = new Map<string, typeof wrong>();
  for (const c of wrong) byRecording.set(c.group, [...(byRecording.get(c.group) ?? []), c]);
  const distance = (c: (typeof wrong)[number]) => Math.abs(Math.log(c.probability / threshold));
  const ranked = [...byRecording.values()]
    .map((clips) => ({ clips, score: clips.reduce((s, c) => s + distance(c), 0) }))
    .sort((a, b) => b.score - a.score)
    .slice(0, count);
  if (ranked.length === 0) return [];
  const p = (v: number) => v.toPrecision(2);
  return [
    `recordings to check first (out-of-fold clips furthest from their label; ${wrong.length} clips on the wrong side of ${threshold.toFixed(3)} in all):`,
    ...ranked.map(({ clips }) => {
      const ps = clips.map((c) => c.probability);
      const range = clips.length > 1 ? `P ${p(Math.min(...ps))}–${p(Math.max(...ps))}` : `P ${p(ps[0])}`;
      const worst = clips.reduce((a, b) => (distance(b) > distance(a) ? b : a));
      const heard = worst.classes?.length ? `; hears ${classesText(worst.classes)}` : '';
      return `  ${worst.label.padEnd(7)} ${String(clips.length).padStart(2)} clip${clips.length > 1 ? 's' : ' '} ${range.padEnd(16)} ${worst.group}${heard}`;
    }),
  ];
}

export const trainCommand: Command = {
  name: 'train',
  usage: [
    'sentinel train <dir|zip> --out DIR [--mode head|top|finetune] [--epochs N] [--from DIR] [options]',
    '',
    `head mode${TRAINING.defaultMode === 'head' ? ' (default)' : ''}: frozen backbone; --ensemble heads learn from cached embeddings (fastest).`,
    `top mode${TRAINING.defaultMode === 'top' ? ' (default)' : ''}: the backbone's last blocks and the head learn (mobilenetv2: from ${TRAINING.topFrom},`,
    `on cached feature maps, CPU friendly; efficientat-mn04: from ${BACKBONES['efficientat-mn04'].topFrom}, fine-tuned on images: meant for a GPU).`,
    'Both: class weights, early stopping, group-aware k-fold cross-validation gives the reported figures and the',
    `threshold: ${thresholdRuleText()}, over out-of-fold predictions`,
    `(and out-of-source ones with --source-cv, the ceiling checked ${TRAINING.thresholdCeilingOn === 'out-of-fold' ? 'out of fold only' : 'on both'}); the final model uses all clips.`,
    'finetune mode: head first, then the backbone from --finetune-from on, for --epochs (meant for a GPU).',
    '  --out DIR              where to write the model (model.json, weights.bin, sentinel.json)',
    '  --from DIR             retrain from this model (its backbone and head; recorded as the parent)',
    `  --backbone NAME|DIR    ${BACKBONE_NAMES.join(' or ')} (default ${MODEL.backbone}), a folder of either, or random`,
    '                         (efficientat-mn04 ships in models/backbones; mobilenetv2 is ../shared/weights/mobilenet_v2_0.35_imagenet_notop)',
    `  --folds N              cross-validation folds (default ${TRAINING.folds}; 0 = one validation split)`,
    `  --augmentations N      augmented views per clip (default ${TRAINING.augmentations})`,
    `  --epochs N             head: most epochs (default ${TRAINING.maxEpochs}); finetune: epochs of fine-tuning`,
    `  --representation R     mobilenetv2: grey128 or magma224 (default ${MODEL.representation}); efficientat-mn04: logmel`,
    '  --hidden N --dropout P head shape (default 128, 0.3)',
    `  --ensemble N           head mode: heads from N seeds merged into one (default ${TRAINING.headEnsemble})`,
    `  --seed N               (default ${TRAINING.seed})`,
    `  --top-from LAYER       top mode: first trained layer (default: the backbone's, ${TRAINING.topFrom} / ${BACKBONES['efficientat-mn04'].topFrom})`,
    '  --source-cv            also score every source by a model trained without it (manifest column source or',
    '                         source_repo; one more fit per source): how it does on recordings from unseen sources',
    '  --no-mel-stats         mobilenetv2: the head reads the embedding only, not the acoustic statistics beside it',
    `  --mel-stats            efficientat-mn04, head mode: the head also reads the acoustic statistics of the log-mel (${TRAINING.melStatsWeight['efficientat-mn04']} of its learnt part)`,
    '  --no-class-logits      efficientat-mn04: the head reads the embedding only, not the AudioSet logits beside it',
    `  --class-prior W        efficientat-mn04: share of the logit given to AudioSet's own danger score (default ${TRAINING.classPriorWeight}; 0 = none)`,
    `  --aggregation A        how a recording is scored from its windows, in CV and by the model: ${AGGREGATIONS.join(' or ')}`,
    `                         (default ${MODEL.aggregation}: its best pair of adjacent windows; window: its best window)`,
    `  --prior-floor L        efficientat-mn04: a window's P(danger) is at least AudioSet's danger score less L logits,`,
    `                         in CV and by the model (default ${MODEL.priorFloor ?? 'none'}; none = no floor)`,
    '  --cache DIR            embedding cache (default .cache/embeddings)',
    '  --threads N            threads embedding views and fitting heads (default: one per core on wasm; 1 = this one)',
    '  --json                 print the result as JSON',
  ].join('\n'),
  options: {
    out: { type: 'string' },
    mode: { type: 'string', default: TRAINING.defaultMode },
    epochs: { type: 'string' },
    from: { type: 'string' },
    backbone: { type: 'string' },
    folds: { type: 'string' },
    augmentations: { type: 'string' },
    representation: { type: 'string' },
    hidden: { type: 'string' },
    ensemble: { type: 'string' },
    dropout: { type: 'string' },
    seed: { type: 'string' },
    cache: { type: 'string' },
    threads: { type: 'string' },
    'finetune-from': { type: 'string' },
    'top-from': { type: 'string' },
    'source-cv': { type: 'boolean', default: false },
    'no-mel-stats': { type: 'boolean', default: false },
    'mel-stats': { type: 'boolean', default: false },
    'no-class-logits': { type: 'boolean', default: false },
    'class-prior': { type: 'string' },
    aggregation: { type: 'string' },
    'prior-floor': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new SentinelError('USAGE', 'train takes one dataset folder or zip.');
    if (!values.out) throw new SentinelError('USAGE', 'train needs --out DIR.');
    const mode = values.mode as TrainingMode;
    if (!(TRAINING_MODES as readonly string[]).includes(mode)) throw new SentinelError('USAGE', `--mode must be one of ${TRAINING_MODES.join(', ')}, got ${mode}.`);
    const representation = values.representation ?? undefined;
    if (representation !== undefined && !isInputRepresentation(representation)) {
      throw new SentinelError('USAGE', `--representation must be one of ${INPUT_REPRESENTATIONS.join(', ')}, got ${String(representation)}.`);
    }
    const aggregation = values.aggregation as string | undefined;
    if (aggregation !== undefined && !(AGGREGATIONS as readonly string[]).includes(aggregation)) {
      throw new SentinelError('USAGE', `--aggregation must be one of ${AGGREGATIONS.join(', ')}, got ${aggregation}.`);
    }
    const floorText = values['prior-floor'] as string | undefined;
    const priorFloor = floorText === undefined ? undefined : floorText === 'none' ? null : Number(floorText);
    if (priorFloor !== undefined && priorFloor !== null && (floorText!.trim() === '' || !Number.isFinite(priorFloor))) {
      throw new SentinelError('USAGE', `--prior-floor must be a number of logits or none, got ${floorText}.`);
    }
    const dropout = values.dropout === undefined ? undefined : Number(values.dropout);
    if (dropout !== undefined && !(dropout >= 0 && dropout < 1)) throw new SentinelError('USAGE', '--dropout must be in [0, 1).');
    await requirePath(positionals[0], 'dataset folder or zip');
    const dataset = await readDataset(positionals[0]);
    const { backbone, parent, readClassLogits } = await loadBackbone({ from: values.from as string | undefined, backbone: values.backbone as string | undefined }, mode, io);
    const bar = progressBar(!values.json);
    const training = openTrainingCompute(int(values.threads, 'threads', 1));
    const result = await trainModel({
      clips: dataset.clips,
      backbone,
      parent,
      representation,
      mode,
      epochs: int(values.epochs, 'epochs', 1),
      folds: int(values.folds, 'folds', 0),
      augmentations: int(values.augmentations, 'augmentations', 0),
      seed: int(values.seed, 'seed', 0),
      head: { ...(values.hidden !== undefined ? { hiddenUnits: int(values.hidden, 'hidden', 0) } : {}), ...(dropout !== undefined ? { dropout } : {}) },
      finetuneFrom: values['finetune-from'] as string | undefined,
      topFrom: values['top-from'] as string | undefined,
      headEnsemble: int(values.ensemble, 'ensemble', 1),
      sourceCv: values['source-cv'] === true,
      melStats: values['no-mel-stats'] === true ? false : values['mel-stats'] === true ? true : undefined,
      readClassLogits: values['no-class-logits'] === true ? false : readClassLogits,
      classPriorWeight: share(values['class-prior'], 'class-prior'),
      aggregation: aggregation as Aggregation | undefined,
      priorFloor,
      cache: new FsEmbeddingCache((values.cache as string | undefined) ?? join(ROOT, '.cache', 'embeddings')),
      command: ['sentinel', 'train', ...process.argv.slice(3)].join(' '),
      compute: training.compute,
      onProgress: (p) => bar.update(p.detail ? `${p.phase} ${p.detail}` : p.phase, p.done, p.total),
    }).finally(() => training.close());
    bar.stop();
    await writeModelFiles(values.out as string, result.files, { overwrite: true });
    const skipped = [...dataset.skipped, ...result.skipped];
    if (values.json) {
      io.stdout(JSON.stringify({ out: values.out, version: result.manifest.version, threshold: result.manifest.threshold, aggregation: result.manifest.aggregation, priorFloor: result.manifest.priorFloor, cv: result.cv, sourceCv: result.sourceCv, metrics: result.manifest.metrics, skipped, embeddings: result.embeddings }) + '\n');
      return 0;
    }
    const floor = result.manifest.priorFloor === null ? '' : `, a window at least AudioSet's danger score less ${result.manifest.priorFloor} logit${result.manifest.priorFloor === 1 ? '' : 's'}`;
    const lines = [`model ${result.manifest.version} written to ${values.out} (threshold ${result.manifest.threshold.toFixed(3)}, a recording scored by its best ${result.manifest.aggregation === 'pair' ? 'pair of windows' : 'window'}${floor})`];
    if (result.cv) {
      const s = result.cv.summary;
      const f = (k: keyof typeof s) => `${s[k].mean.toFixed(3)} ± ${s[k].std.toFixed(3)}`;
      lines.push(
        `${result.cv.folds}-fold group CV (mean ± sd over folds): ROC AUC ${f('rocAuc')}, PR AUC ${f('prAuc')}, balanced accuracy ${f('balancedAccuracy')}, recall ${f('recall')}, precision ${f('precision')}`,
        'out-of-fold error rate per subclass:',
        ...Object.entries(result.cv.pooled.perSubclass).map(([k, v]) => `  ${k.padEnd(20)} ${v.label.padEnd(7)} ${(v.errorRate * 100).toFixed(1)}% of ${v.n}`),
        ...labelsToCheck(result.cv, result.manifest.threshold),
      );
    }
    if (result.sourceCv) {
      const p = result.sourceCv.pooled;
      const pct = (v: number | null) => (v === null ? '   -' : `${(v * 100).toFixed(0).padStart(3)}%`);
      lines.push(
        `each of ${result.sourceCv.sources} sources scored by a model trained without it: ROC AUC ${p.rocAuc?.toFixed(3) ?? '-'}, balanced accuracy ${p.balancedAccuracy.toFixed(3)}, recall ${p.recall.toFixed(3)}, false alarms ${(p.confusion.fp / Math.max(1, p.confusion.fp + p.confusion.tn) * 100).toFixed(1)}%`,
        '  source                                         danger recall   safe false alarms',
        ...result.sourceCv.perSource.map((s) => `  ${s.source.slice(0, 46).padEnd(46)} ${String(s.danger).padStart(6)} ${pct(s.recall)}   ${String(s.safe).padStart(4)} ${pct(s.falseAlarmRate)}`),
      );
    }
    if (skipped.length) lines.push(`${skipped.length} files skipped: ${skipped.slice(0, 5).map((s) => `${s.path} (${s.code})`).join(', ')}${skipped.length > 5 ? ', …' : ''}`);
    io.stdout(lines.join('\n') + '\n');
    return 0;
  },
};
