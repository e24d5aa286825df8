/** The console's per-epoch chart: a session's epoch rows split into one run per CV fold, then the final fit. */
import { describe, expect, it } from 'vitest';
import { describeRuns, epochChartConfig, epochRuns } from '../../web/src/epochs.ts';

// As worker/handler.ts writes them: fold 1 and 2 with validation loss, then the final fit on all clips without.
const rows: Record<string, number>[] = [
  { epoch: 1, loss: 0.7, val_loss: 0.68, fold: 1 },
  { epoch: 2, loss: 0.5, val_loss: 0.55, fold: 1 },
  { epoch: 3, loss: 0.4, val_loss: 0.6, fold: 1 },
  { epoch: 1, loss: 0.72, val_loss: 0.7, fold: 2 },
  { epoch: 2, loss: 0.52, val_loss: 0.5, fold: 2 },
  { epoch: 1, loss: 0.69 },
  { epoch: 2, loss: 0.45 },
];

describe('epochRuns', () => {
  it('gives one run per fold and one for the final fit, each with its own epochs', () => {
    const runs = epochRuns(rows);
    expect(runs.map((r) => [r.label, r.points.map((p) => p.epoch), r.measure, r.best])).toEqual([
      ['fold 1', [1, 2, 3], 'validation loss', 2],
      ['fold 2', [1, 2], 'validation loss', 2],
      ['final fit', [1, 2], 'training loss', 2],
    ]);
    expect(describeRuns(runs)).toBe(
      '2 cross-validation folds and the final fit: fold 1, 3 epochs (lowest validation loss at 2); fold 2, 2 epochs (lowest validation loss at 2); final fit, 2 epochs (lowest training loss at 2).',
    );
  });

  it('plots each run against its own epochs, never a fold number as a metric', () => {
    const config = epochChartConfig(epochRuns(rows));
    expect(config.data.datasets.map((d) => d.label)).toEqual(['fold 1 (validation loss)', 'fold 2 (validation loss)', 'final fit (training loss)']);
    expect(config.data.datasets[0].data).toEqual([{ x: 1, y: 0.68 }, { x: 2, y: 0.55 }, { x: 3, y: 0.6 }]);
    expect(config.data.datasets[2].data).toEqual([{ x: 1, y: 0.69 }, { x: 2, y: 0.45 }]);
  });

  it('without CV: the final fit only; a restart at a lower epoch is a new run', () => {
    const only = epochRuns([{ epoch: 1, loss: 0.6, val_loss: 0.7 }, { epoch: 2, loss: 0.4, val_loss: 0.5 }]);
    expect(only.map((r) => r.label)).toEqual(['final fit']);
    expect(describeRuns(only)).toMatch(/^The final fit only \(no cross-validation\): final fit, 2 epochs/);
    expect(epochRuns([{ epoch: 1, loss: 1 }, { epoch: 2, loss: 0.9 }, { epoch: 1, loss: 0.8 }]).map((r) => r.label)).toEqual(['final fit 1', 'final fit 2']);
    expect(describeRuns([])).toBe('No epochs recorded yet.');
  });
});
