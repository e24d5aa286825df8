/**
 * A session's per-epoch figures (epoch_metrics: {epoch, loss, val_loss?, fold?}) as runs: each cross-validation
 * fold, then the final fit, each restarting at epoch 1. Drawn as one line per run on a shared epoch axis.
 */
import type { ChartConfiguration } from 'chart.js';
import { COLORS } from './charts.ts';

export interface EpochRun {
  /** The CV fold (1-based), or null for the final fit. */
  fold: number | null;
  label: string;
  /** Validation loss where the run held clips out (what early stopping watched), else training loss. */
  measure: 'validation loss' | 'training loss';
  points: { epoch: number; loss: number; valLoss?: number }[];
  /** The epoch with the lowest plotted loss. */
  best: number;
}

export const RUN_COLORS = [COLORS.lavender, COLORS.rose, COLORS.mint, '#8ec5ff', '#ffd580', COLORS.red];

/** Groups epoch rows by fold (rows without one are the final fit); a restart at a lower epoch starts a new run. */
export function epochRuns(rows: readonly Record<string, number>[]): EpochRun[] {
  const runs: { fold: number | null; points: EpochRun['points'] }[] = [];
  for (const [i, row] of rows.entries()) {
    const fold = typeof row.fold === 'number' ? row.fold : null;
    const epoch = typeof row.epoch === 'number' ? row.epoch : i + 1;
    if (typeof row.loss !== 'number') continue;
    const last = runs.at(-1);
    const point = { epoch, loss: row.loss, ...(typeof row.val_loss === 'number' ? { valLoss: row.val_loss } : {}) };
    if (last && last.fold === fold && epoch > (last.points.at(-1)?.epoch ?? 0)) last.points.push(point);
    else runs.push({ fold, points: [point] });
  }
  const finals = runs.filter((r) => r.fold === null).length;
  let final = 0;
  return runs.map((r) => {
    const validation = r.points.every((p) => p.valLoss !== undefined);
    const value = (p: EpochRun['points'][number]) => (validation ? p.valLoss! : p.loss);
    const best = r.points.reduce((b, p) => (value(p) < value(b) ? p : b), r.points[0]).epoch;
    const label = r.fold !== null ? `fold ${r.fold}` : finals > 1 ? `final fit ${++final}` : 'final fit';
    return { fold: r.fold, label, measure: validation ? 'validation loss' : 'training loss', points: r.points, best };
  });
}

/** "2 folds and the final fit: fold 1, 9 epochs (lowest validation loss at 6); …". */
export function describeRuns(runs: readonly EpochRun[]): string {
  if (!runs.length) return 'No epochs recorded yet.';
  const folds = runs.filter((r) => r.fold !== null).length;
  const head = folds ? `${folds} cross-validation fold${folds === 1 ? '' : 's'}${runs.length > folds ? ' and the final fit' : ''}` : 'The final fit only (no cross-validation)';
  const each = runs.map((r) => `${r.label}, ${r.points.length} epoch${r.points.length === 1 ? '' : 's'} (lowest ${r.measure} at ${r.best})`);
  return `${head}: ${each.join('; ')}.`;
}

/** One line per run: x the epoch within its run, y the run's measure. */
export function epochChartConfig(runs: readonly EpochRun[]): ChartConfiguration<'line', { x: number; y: number }[]> {
  const measures = new Set(runs.map((r) => r.measure));
  return {
    type: 'line',
    data: {
      datasets: runs.map((r, i) => {
        const color = RUN_COLORS[i % RUN_COLORS.length];
        return {
          label: measures.size > 1 ? `${r.label} (${r.measure})` : r.label,
          data: r.points.map((p) => ({ x: p.epoch, y: r.measure === 'validation loss' ? p.valLoss! : p.loss })),
          borderColor: color,
          backgroundColor: color,
          // The final fit in dashes: it is the model kept, the folds only estimate how well it does.
          ...(r.fold === null ? { borderDash: [6, 4] } : {}),
          pointRadius: 2,
        };
      }),
    },
    options: {
      parsing: false,
      scales: {
        x: { type: 'linear', ticks: { precision: 0 }, title: { display: true, text: 'epoch (of each run)' } },
        y: { title: { display: true, text: measures.size === 1 ? [...measures][0] : 'loss' } },
      },
    },
  };
}
