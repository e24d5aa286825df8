/**
 * The Analyse page's timeline: P(danger) of every window above the whole recording's spectrogram, one chart with one
 * time axis (seconds, 0 to the recording's end), events shaded across both rows. The spectrogram arrives later (it
 * is computed in the browser) and is drawn into the lower row's area, on the same x scale as the windows.
 */
import type { Chart, Plugin } from 'chart.js';
import type { Prediction } from './api.ts';
import { bandsPlugin, COLORS, makeChart } from './charts.ts';
import type { Spectrogram } from './spectrogram.ts';

export interface Timeline {
  chart: Chart<'line'>;
  /** Draws the spectrogram in the lower row (and records its drawn span on the canvas, for tests). */
  setSpectrogram(s: Spectrogram): void;
}

const khz = (hz: number) => (hz >= 1000 ? `${(hz / 1000).toFixed(hz >= 10_000 ? 0 : 1)} kHz` : `${Math.round(hz)} Hz`);

/** Draws the spectrogram image across its own time span, clipped to the chart; writes where it landed to the canvas's
 *  data-spectrogram (seconds and canvas pixels), and marks event edges over it. */
function spectrogramPlugin(get: () => Spectrogram | null, events: Prediction['events']): Plugin<'line'> {
  return {
    id: 'spectrogram',
    beforeDatasetsDraw(chart) {
      const s = get();
      const x = chart.scales.x;
      const row = chart.scales.mel;
      if (!s || !row) return;
      const { ctx, chartArea } = chart;
      const left = x.getPixelForValue(s.start);
      const right = x.getPixelForValue(s.end);
      ctx.save();
      ctx.beginPath();
      ctx.rect(chartArea.left, row.top, chartArea.right - chartArea.left, row.bottom - row.top);
      ctx.clip();
      ctx.imageSmoothingEnabled = s.columns > right - left; // merge columns when squeezed, crisp blocks when stretched
      ctx.drawImage(s.image, left, row.top, right - left, row.bottom - row.top);
      ctx.restore();
      const drawnLeft = Math.max(left, chartArea.left);
      const drawnRight = Math.min(right, chartArea.right);
      chart.canvas.dataset.spectrogram = JSON.stringify({
        from: x.getValueForPixel(drawnLeft),
        to: x.getValueForPixel(drawnRight),
        left: drawnLeft,
        right: drawnRight,
        top: row.top,
        bottom: row.bottom,
        pixelRatio: chart.currentDevicePixelRatio,
        frames: s.frames,
        columns: s.columns,
      });
    },
    afterDatasetsDraw(chart) {
      const x = chart.scales.x;
      const { ctx, chartArea } = chart;
      ctx.save();
      ctx.strokeStyle = COLORS.red;
      ctx.lineWidth = 2;
      for (const e of events) {
        for (const t of [e.start, e.end]) {
          const px = x.getPixelForValue(t);
          if (px < chartArea.left || px > chartArea.right) continue;
          ctx.beginPath();
          ctx.moveTo(px, chartArea.top);
          ctx.lineTo(px, chartArea.bottom);
          ctx.stroke();
        }
      }
      ctx.restore();
    },
  };
}

export async function drawTimeline(canvas: HTMLCanvasElement, p: Prediction): Promise<Timeline> {
  let spectrogram: Spectrogram | null = null;
  // The x axis ends where the recording does: a clip shorter than a window still spans only its own seconds.
  const end = p.duration > 0 ? p.duration : 1;
  const chart = await makeChart<'line'>(canvas, {
    type: 'line',
    data: {
      datasets: [
        {
          label: 'P(danger) of the window centred here',
          data: p.windows.map((w) => ({ x: (w.start + w.end) / 2, y: w.probability })),
          yAxisID: 'p',
          borderColor: COLORS.lavender,
          backgroundColor: COLORS.lavender,
          pointRadius: p.windows.length > 80 ? 0 : 3,
        },
        {
          label: 'Threshold',
          data: [
            { x: 0, y: p.threshold },
            { x: end, y: p.threshold },
          ],
          yAxisID: 'p',
          borderColor: COLORS.red,
          borderDash: [6, 4],
          pointRadius: 0,
        },
      ],
    },
    options: {
      parsing: false,
      scales: {
        x: { type: 'linear', min: 0, max: end, title: { display: true, text: 'seconds from the start of the recording' } },
        // Two rows stacked on one x axis; a fixed axis width keeps both rows' left edges where the x scale starts.
        mel: {
          type: 'linear', position: 'left', stack: 'rows', stackWeight: 1, min: 0, max: 128, offset: false,
          title: { display: true, text: 'pitch' },
          grid: { display: false },
          ticks: { maxTicksLimit: 4, callback: (v) => (spectrogram ? khz(spectrogram.bandHz(Number(v))) : '') },
          afterFit: (scale) => void (scale.width = 72),
        },
        p: {
          type: 'linear', position: 'left', stack: 'rows', stackWeight: 1, min: 0, max: 1, offset: true,
          title: { display: true, text: 'P(danger)' },
          ticks: { maxTicksLimit: 5 },
          afterFit: (scale) => void (scale.width = 72),
        },
      },
      plugins: { legend: { labels: { boxHeight: 2 } } },
    },
    plugins: [spectrogramPlugin(() => spectrogram, p.events), bandsPlugin(() => p.events)],
  });
  canvas.dataset.rendered = String(p.windows.length);
  const ticks = () => JSON.stringify(chart.scales.x.ticks.map((t) => ({ value: t.value, label: t.label })));
  canvas.dataset.xMin = String(chart.scales.x.min);
  canvas.dataset.xMax = String(chart.scales.x.max);
  canvas.dataset.xTicks = ticks();
  return {
    chart,
    setSpectrogram(s) {
      spectrogram = s;
      const mel = chart.options.scales!.mel as { max: number };
      mel.max = s.nMels;
      chart.update('none');
      canvas.dataset.xTicks = ticks();
    },
  };
}
