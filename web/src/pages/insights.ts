/** Insights: the seed's three charts (dataset distribution, training history, confidence distribution), each with a
 *  one-line reading, plus predictions per day and class. */
import { request, type Session, type Stats } from '../api.ts';
import { chartBox, COLORS, makeChart } from '../charts.ts';
import { clear, h, notice, pct } from '../dom.ts';
import type { Page } from '../main.ts';

function section(id: string, title: string, label: string) {
  const chart = chartBox(label, 240);
  chart.canvas.id = `${id}-chart`;
  const reading = h('p', { class: 'muted', id: `${id}-reading` }, '…');
  const el = h('section', { class: 'card', 'aria-labelledby': `${id}-title` }, h('h2', { id: `${id}-title` }, title), reading, chart.box);
  return { el, canvas: chart.canvas, reading };
}

const page: Page = (main) => {
  const dataset = section('dataset', 'Dataset distribution', 'Training clips per class: uploads and feedback');
  const history = section('history', 'Training history', 'Loss per epoch of the latest finished training');
  const confidence = section('confidence', 'Confidence distribution', 'Number of predictions per confidence range');
  const perDay = section('perday', 'Predictions per day', 'Predictions per day, safe and danger stacked');
  const msg = h('div');
  main.append(h('h1', {}, 'Insights'), h('p', { class: 'lead' }, 'What Sentinel has learnt from and how it has been answering.'), msg, h('div', { class: 'grid' }, dataset.el, history.el, confidence.el, perDay.el));

  void (async () => {
    let stats: Stats;
    let sessions: Session[];
    try {
      [stats, { sessions }] = await Promise.all([request<Stats>('/stats'), request<{ sessions: Session[] }>('/sessions?status=succeeded&limit=5')]);
    } catch (error) {
      return clear(msg, notice('error', (error as Error).message));
    }
    // Dataset distribution.
    const d = stats.dataset;
    const total = d.total.safe + d.total.danger;
    dataset.reading.textContent = total
      ? `${total} clips, ${pct(d.total.danger / total, 0)} danger: ${Math.abs(d.total.danger / total - 0.5) < 0.2 ? 'balanced enough' : 'imbalanced; training weighs the classes to compensate'}.`
      : 'No training clips stored yet: upload a zip on the Retrain page.';
    await makeChart(dataset.canvas, {
      type: 'bar',
      data: {
        labels: ['✓ safe', '⚠ danger'],
        datasets: [
          { label: 'uploads', data: [d.uploads.safe, d.uploads.danger], backgroundColor: [COLORS.mint, COLORS.red] },
          { label: 'feedback', data: [d.feedback.safe, d.feedback.danger], backgroundColor: [COLORS.lavender, COLORS.rose] },
        ],
      },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, title: { display: true, text: 'clips' } } } },
    });
    // Training history.
    const last = sessions.find((s) => s.epoch_metrics.length > 0);
    if (last) {
      const m = last.epoch_metrics;
      const best = m.reduce((b, e, i) => ((e.valLoss ?? e.loss) < (m[b].valLoss ?? m[b].loss) ? i : b), 0);
      history.reading.textContent = `Session ${last.id.slice(0, 8)}: ${m.length} epochs, lowest ${m[best].valLoss !== undefined ? 'validation ' : ''}loss at epoch ${m[best].epoch ?? best + 1}${best < m.length - 1 ? ' (early stopping kept that one)' : ''}.`;
      const keys = [...new Set(m.flatMap((e) => Object.keys(e)))].filter((k) => k !== 'epoch');
      const colors = [COLORS.lavender, COLORS.rose, COLORS.mint, COLORS.red];
      await makeChart(history.canvas, {
        type: 'line',
        data: { labels: m.map((e, i) => String(e.epoch ?? i + 1)), datasets: keys.map((k, i) => ({ label: k, data: m.map((e) => e[k] ?? null), borderColor: colors[i % 4], backgroundColor: colors[i % 4] })) },
        options: { scales: { x: { title: { display: true, text: 'epoch' } } } },
      });
    } else {
      history.reading.textContent = 'No finished training with per-epoch figures yet.';
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
