/** Chart.js, loaded on first use (not part of the first page load) and themed once. */
import type { Chart as ChartType, ChartConfiguration, ChartType as Kind, Plugin } from 'chart.js';

export const COLORS = {
  lavender: '#E0B0FF',
  rose: '#FFB7C5',
  mint: '#98FF98',
  red: '#FF6961',
  text: '#e8e6f0',
  muted: '#a3a0b5',
  grid: 'rgba(224, 176, 255, 0.12)',
};

let loaded: Promise<typeof import('chart.js')> | null = null;

export function chartJs(): Promise<typeof import('chart.js')> {
  loaded ??= import('chart.js').then((m) => {
    m.Chart.register(m.LineController, m.BarController, m.ScatterController, m.LineElement, m.PointElement, m.BarElement, m.LinearScale, m.CategoryScale, m.Filler, m.Tooltip, m.Legend);
    m.Chart.defaults.color = COLORS.text;
    m.Chart.defaults.borderColor = COLORS.grid;
    m.Chart.defaults.font.family = 'Quicksand, system-ui, sans-serif';
    m.Chart.defaults.maintainAspectRatio = false;
    m.Chart.defaults.animation = false; // charts update live; motion adds nothing and costs CPU
    return m;
  });
  return loaded;
}

/** Builds a chart in `canvas` (replacing one already there). */
export async function makeChart<T extends Kind>(canvas: HTMLCanvasElement, config: ChartConfiguration<T>): Promise<ChartType<T>> {
  const { Chart } = await chartJs();
  Chart.getChart(canvas)?.destroy();
  const chart = new Chart(canvas, config);
  // What was drawn, readable without the chart object: each legend entry's swatch and the colours its elements were
  // actually drawn in, so a browser test can check that a legend matches its bars.
  canvas.dataset.legend = JSON.stringify(
    (chart.legend?.legendItems ?? []).map((item) => ({
      text: item.text,
      color: item.fillStyle,
      drawn: [...new Set(chart.getDatasetMeta(item.datasetIndex ?? 0).data.map((e) => String((e as { options?: { backgroundColor?: unknown } }).options?.backgroundColor)))],
    })),
  );
  return chart;
}

/** Shades x-ranges (events) behind the datasets of a linear-x chart. */
export function bandsPlugin(bands: () => readonly { start: number; end: number }[], color = 'rgba(255, 105, 97, 0.22)'): Plugin {
  return {
    id: 'bands',
    beforeDatasetsDraw(chart) {
      const { ctx, chartArea, scales } = chart;
      const x = scales.x;
      ctx.save();
      ctx.fillStyle = color;
      for (const b of bands()) {
        const left = Math.max(chartArea.left, x.getPixelForValue(b.start));
        const right = Math.min(chartArea.right, x.getPixelForValue(b.end));
        if (right > left) ctx.fillRect(left, chartArea.top, right - left, chartArea.bottom - chartArea.top);
      }
      ctx.restore();
    },
  };
}

/** A canvas in a sized box, with a text alternative for screen readers. */
export function chartBox(label: string, height = 240): { box: HTMLElement; canvas: HTMLCanvasElement } {
  const canvas = document.createElement('canvas');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', label);
  const box = document.createElement('div');
  box.className = 'chart';
  box.style.height = `${height}px`;
  box.appendChild(canvas);
  return { box, canvas };
}
