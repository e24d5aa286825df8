/** Insights: the seed's three charts (dataset distribution, training history, confidence distribution), each with a
 *  one-line reading, plus predictions per day and class. The first two come from the served model's own
 *  sentinel.json (the clips it learnt from, its loss per epoch or else its evaluation) beside what retrains stored. */
import type { ModelManifest } from '../../../shared/model/types.ts';
import { METRIC_NAMES } from '../../../shared/training/promotion.ts';
import { apiUrl, request, type ModelStatus, type Session, type Stats } from '../api.ts';
import { chartBox, COLORS, makeChart } from '../charts.ts';
import { clear, h, notice, pct } from '../dom.ts';
import { describeRuns, epochChartConfig, epochRuns } from '../epochs.ts';
import type { Page } from '../main.ts';

/** The evaluations a manifest may carry, in the order and words shown. */
const EVALUATIONS: Record<string, { label: string; color: string }> = {
  cv: { label: 'cross-validation', color: COLORS.lavender },
  sourceCv: { label: 'each source unseen', color: COLORS.rose },
  validation: { label: 'held-out validation', color: COLORS.mint },
};
const EVAL_METRICS = ['rocAuc', 'balancedAccuracy', 'recall', 'precision'] as const;

/** The served model's manifest, or null (no model, or its files unreadable: the page then shows what it has). */
async function servedManifest(status: ModelStatus | null): Promise<ModelManifest | null> {
  if (!status?.model_version) return null;
  try {
    const res = await fetch(apiUrl(`/models/${encodeURIComponent(status.model_version)}/files/sentinel.json`));
    return res.ok ? ((await res.json()) as ModelManifest) : null;
  } catch {
    return null;
  }
}

function section(id: string, title: string, label: string) {
  const chart = chartBox(label, 240);
  chart.canvas.id = `${id}-chart`;
  const reading = h('p', { class: 'muted', id: `${id}-reading` }, '…');
  const el = h('section', { class: 'card', 'aria-labelledby': `${id}-title` }, h('h2', { id: `${id}-title` }, title), reading, chart.box);
  return { el, canvas: chart.canvas, reading };
}

const page: Page = (main) => {
  const dataset = section('dataset', 'Dataset distribution', "Clips per class: the served model's training set, stored uploads and feedback");
  const history = section('history', 'Training history', 'Loss per epoch of the served model’s training or of the latest finished retrain, or the served model’s evaluation');
  const confidence = section('confidence', 'Confidence distribution', 'Number of predictions per confidence range');
  const perDay = section('perday', 'Predictions per day', 'Predictions per day, safe and danger stacked');
  const msg = h('div');
  delete main.dataset.ready; // set again once this visit's charts are drawn (the element outlives the page)
  main.append(h('h1', {}, 'Insights'), h('p', { class: 'lead' }, 'What Sentinel has learnt from and how it has been answering.'), msg, h('div', { class: 'grid' }, dataset.el, history.el, confidence.el, perDay.el));

  void (async () => {
    let stats: Stats;
    let sessions: Session[];
    let status: ModelStatus | null;
    try {
      [stats, { sessions }, status] = await Promise.all([
        request<Stats>('/stats'),
        request<{ sessions: Session[] }>('/sessions?status=succeeded&limit=5'),
        request<ModelStatus>('/model/status').catch(() => null),
      ]);
    } catch (error) {
      return clear(msg, notice('error', (error as Error).message));
    }
    const manifest = await servedManifest(status);
    const served = manifest?.version ?? status?.model_version ?? null;
    // Dataset distribution: one bar per source of clips, safe and danger stacked, so each colour is one class.
    const d = stats.dataset;
    const learnt = manifest?.training?.data.counts;
    const sources = [
      ...(learnt ? [{ name: 'served model’s training set', counts: learnt }] : []),
      { name: 'uploads (stored)', counts: d.uploads },
      { name: 'feedback (stored)', counts: d.feedback },
    ];
    const total = d.total.safe + d.total.danger;
    const learntTotal = learnt ? learnt.safe + learnt.danger : 0;
    const balance = (danger: number, all: number) => `${pct(danger / all, 0)} danger: ${Math.abs(danger / all - 0.5) < 0.2 ? 'balanced enough' : 'imbalanced; training weighs the classes to compensate'}`;
    dataset.reading.textContent = [
      learnt && learntTotal ? `The served model ${served} learnt from ${learntTotal} clips, ${pct(learnt.danger / learntTotal, 0)} danger.` : null,
      total ? `Stored for the next retrain: ${total} clips, ${balance(d.total.danger, total)}.` : 'No clips stored for retraining yet: upload a zip on the Retrain page.',
    ].filter(Boolean).join(' ');
    await makeChart(dataset.canvas, {
      type: 'bar',
      data: {
        labels: sources.map((s) => s.name),
        datasets: [
          { label: '✓ safe', data: sources.map((s) => s.counts.safe), backgroundColor: COLORS.mint },
          { label: '⚠ danger', data: sources.map((s) => s.counts.danger), backgroundColor: COLORS.red },
        ],
      },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, title: { display: true, text: 'clips' } } } },
    });
    dataset.canvas.dataset.sources = String(sources.length);
    // Training history, one line per fold: the served model's own epochs when its sentinel.json has them (models
    // trained before it was recorded have none), else the latest retrain's, else the served model's evaluation.
    const last = sessions.find((s) => s.epoch_metrics.length > 0);
    const evaluations = Object.keys(EVALUATIONS).filter((k) => manifest?.metrics[k]);
    const evaluated = (m: ModelManifest) =>
      evaluations.map((k) => `${EVALUATIONS[k].label} on ${m.metrics[k].n} clips: ROC AUC ${m.metrics[k].rocAuc?.toFixed(3) ?? '—'}, balanced accuracy ${m.metrics[k].balancedAccuracy.toFixed(3)}`);
    const servedRuns = epochRuns(manifest?.training?.epochMetrics ?? []);
    if (manifest && servedRuns.length) {
      const said = evaluated(manifest);
      history.reading.textContent = `The served model ${manifest.version} (${manifest.training!.mode} mode): ${describeRuns(servedRuns)}${said.length ? ` Its ${said.join('; ')}.` : ''}`;
      await makeChart(history.canvas, epochChartConfig(servedRuns));
      history.canvas.dataset.shows = 'served-epochs';
    } else if (last) {
      const runs = epochRuns(last.epoch_metrics);
      history.reading.textContent = `Latest retrain, session ${last.id.slice(0, 8)}${last.model_version ? ` (${last.model_version})` : ''}: ${describeRuns(runs)}`;
      await makeChart(history.canvas, epochChartConfig(runs));
      history.canvas.dataset.shows = 'epochs';
    } else if (manifest && evaluations.length) {
      const t = manifest.training;
      const said = evaluated(manifest);
      history.reading.textContent = `No retrain here yet. The served model ${manifest.version}${t ? ` (${t.mode} mode${t.epochs > 0 ? `, ${t.epochs} epochs` : ''})` : ''}: ${said.join('; ')}.`;
      await makeChart(history.canvas, {
        type: 'bar',
        data: {
          labels: EVAL_METRICS.map((k) => METRIC_NAMES[k]),
          datasets: evaluations.map((k) => ({
            label: EVALUATIONS[k].label,
            data: EVAL_METRICS.map((key) => (manifest.metrics[k][key] as number | null) ?? null),
            backgroundColor: EVALUATIONS[k].color,
          })),
        },
        options: { scales: { y: { min: 0, max: 1, title: { display: true, text: 'score (1 = perfect)' } } } },
      });
      history.canvas.dataset.shows = 'evaluation';
    } else {
      history.reading.textContent = 'No finished training with per-epoch figures yet, and the served model records no evaluation.';
    }
    // Confidence distribution.
    const hist = stats.predictions.confidence_histogram;
    const n = hist.reduce((s, b) => s + b.count, 0);
    const sure = hist.filter((b) => b.lower >= 0.9).reduce((s, b) => s + b.count, 0);
    confidence.reading.textContent = n
      ? `${n} predictions in ${Math.round((Date.now() - Date.parse(stats.predictions.since)) / 86_400_000)} days; ${pct(sure / n, 0)} were made with ≥ 90% confidence.`
      : 'No predictions yet.';
    await makeChart(confidence.canvas, {
      type: 'bar',
      data: { labels: hist.map((b) => `${Math.round(b.lower * 100)}–${Math.round(b.upper * 100)}%`), datasets: [{ label: 'predictions', data: hist.map((b) => b.count), backgroundColor: COLORS.lavender }] },
      options: { scales: { y: { beginAtZero: true } }, plugins: { legend: { display: false } } },
    });
    // Per day and class.
    const days = [...new Set(stats.predictions.per_day.map((r) => r.day))].sort();
    const count = (day: string, cls: 'safe' | 'danger') => stats.predictions.per_day.find((r) => r.day === day && r.class === cls)?.count ?? 0;
    const pc = stats.predictions.per_class;
    perDay.reading.textContent = pc.safe + pc.danger ? `${pc.danger} danger and ${pc.safe} safe verdicts over ${days.length} day(s).` : 'No predictions yet.';
    await makeChart(perDay.canvas, {
      type: 'bar',
      data: {
        labels: days,
        datasets: [
          { label: '✓ safe', data: days.map((d) => count(d, 'safe')), backgroundColor: COLORS.mint },
          { label: '⚠ danger', data: days.map((d) => count(d, 'danger')), backgroundColor: COLORS.red },
        ],
      },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
    });
    main.dataset.ready = 'true';
  })();
};

export default page;
