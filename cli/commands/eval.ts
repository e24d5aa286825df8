/** `sentinel eval <dir|zip>`: a model's metrics on a labelled dataset (safe/ and danger/ folders). */
import { readDataset } from '../../adapters/intake/dataset.ts';
import { AudioError } from '../../shared/audio/errors.ts';
import { SentinelError } from '../../shared/errors.ts';
import { isQuiet, verdict } from '../../shared/inference/detector.ts';
import { evaluate } from '../../shared/metrics/index.ts';
import type { Command } from '../command.ts';
import { requirePath } from '../files.ts';
import { loadDetector } from '../model.ts';
import { progressBar } from '../progress.ts';

export const evalCommand: Command = {
  name: 'eval',
  usage: [
    'sentinel eval <dir|zip> [--model DIR] [--json] [--threshold P]',
    '',
    "Each clip is analysed like `predict` does (all windows; its probability is the best window's or pair's) and compared",
    'with its folder label. A manifest.csv (file, subclass, group) adds per-subclass error rates.',
    '  --model DIR     model artifact folder (default: models/default)',
    '  --json          one JSON object: n, accuracy, balancedAccuracy, precision, recall, f1, rocAuc, prAuc,',
    '                  threshold, confusion {tp,fp,tn,fn}, perSubclass, rocCurve, falseAlarmsPerHour, model_version, skipped',
    "  --threshold P   override the model's threshold",
    '  --level-floor=DB[,DB...]  also measure the level gate at each floor (dB re full scale, e.g. =-60,-50):',
    '                  windows it would skip and verdicts it would change against no gate (JSON: levelGate)',
  ].join('\n'),
  options: { model: { type: 'string' }, json: { type: 'boolean', default: false }, threshold: { type: 'string' }, 'level-floor': { type: 'string' } },
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new SentinelError('USAGE', 'eval takes one dataset folder or zip.');
    await requirePath(positionals[0], 'dataset folder or zip');
    const dataset = await readDataset(positionals[0]);
    const detector = await loadDetector(values.model as string | undefined, io);
    const threshold = values.threshold === undefined ? detector.threshold : Number(values.threshold);
    if (!(threshold >= 0 && threshold <= 1)) throw new SentinelError('USAGE', '--threshold must be in [0, 1].');
    const floors = values['level-floor'] === undefined ? [] : String(values['level-floor']).split(',').map(Number);
    if (floors.some((f) => !Number.isFinite(f))) throw new SentinelError('USAGE', '--level-floor takes numbers in dB, e.g. -60,-50.');
    const gate = floors.map((floorDb) => ({ floorDb, windowsSkipped: 0, verdictsChanged: 0, changed: [] as string[] }));
    let windowCount = 0;
    const bar = progressBar(!values.json);
    const labels: number[] = [];
    const probabilities: number[] = [];
    const subclasses: string[] = [];
    const durations: number[] = [];
    const skipped = [...dataset.skipped];
    for (const [i, clip] of dataset.clips.entries()) {
      try {
        const analysis = await detector.analyse(clip.bytes);
        // Measuring the gate: every window scored once, then each floor's verdict from the same scores against none.
        const scores = gate.length > 0 ? await detector.scores(analysis.windows.map((w) => w.db)) : undefined;
        const p = await detector.predict(analysis, { threshold, scores });
        if (scores) {
          const rule = detector.rule(threshold);
          const open = verdict(analysis, scores, rule, null);
          windowCount += analysis.windows.length;
          for (const g of gate) {
            g.windowsSkipped += analysis.windows.filter((w) => isQuiet(w, g.floorDb)).length;
            if (verdict(analysis, scores, rule, g.floorDb).class !== open.class) {
              g.verdictsChanged++;
              g.changed.push(clip.path);
            }
          }
        }
        labels.push(clip.label === 'danger' ? 1 : 0);
        probabilities.push(p.probability);
        subclasses.push(clip.subclass ?? clip.label);
        durations.push(analysis.duration);
      } catch (err) {
        if (!(err instanceof AudioError)) throw err;
        skipped.push({ path: clip.path, code: err.code, reason: err.message });
      }
      bar.update('eval', i + 1, dataset.clips.length);
    }
    bar.stop();
    const metrics = evaluate({ labels, probabilities, threshold, subclasses, durationsSeconds: durations });
    const levelGate = gate.map((g) => ({ ...g, windows: windowCount, skippedFraction: windowCount ? g.windowsSkipped / windowCount : 0 }));
    if (values.json) {
      io.stdout(JSON.stringify({ ...metrics, model_version: detector.version, skipped, ...(gate.length ? { levelGate } : {}) }) + '\n');
    } else {
      const pct = (v: number | null) => (v === null ? 'n/a' : `${(v * 100).toFixed(1)}%`);
      const c = metrics.confusion;
      io.stdout(
        [
          `model ${detector.version}, threshold ${metrics.threshold.toFixed(3)}, ${metrics.n} clips (${skipped.length} skipped)`,
          `accuracy ${pct(metrics.accuracy)}  balanced ${pct(metrics.balancedAccuracy)}  precision ${pct(metrics.precision)}  recall ${pct(metrics.recall)}  F1 ${pct(metrics.f1)}`,
          `ROC AUC ${metrics.rocAuc?.toFixed(4) ?? 'n/a'}  PR AUC ${metrics.prAuc?.toFixed(4) ?? 'n/a'}  false alarms/hour ${metrics.falseAlarmsPerHour?.toFixed(1) ?? 'n/a'}`,
          `confusion: tp ${c.tp}  fp ${c.fp}  tn ${c.tn}  fn ${c.fn}`,
          'per subclass (error rate):',
          ...Object.entries(metrics.perSubclass).map(([k, v]) => `  ${k.padEnd(20)} ${v.label.padEnd(7)} ${String(v.errors).padStart(4)}/${String(v.n).padEnd(4)} ${pct(v.errorRate)}`),
          ...(levelGate.length ? ['level gate (against none):'] : []),
          ...levelGate.map(
            (g) =>
              `  floor ${g.floorDb} dB: ${g.windowsSkipped}/${g.windows} windows skipped (${pct(g.skippedFraction)}), ${g.verdictsChanged} verdicts changed` +
              (g.changed.length ? ` (${g.changed.slice(0, 5).join(', ')}${g.changed.length > 5 ? ', …' : ''})` : ''),
          ),
        ].join('\n') + '\n',
      );
    }
    detector.dispose();
    return 0;
  },
};
