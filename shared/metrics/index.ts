/** Evaluation metrics for Sentinel's danger detector: pure functions, numbers in, JSON-ready results out. */
export { evaluate } from './evaluate.ts';
export { chooseThreshold } from './threshold.ts';
export { pairedChange, type PairedChange } from './paired.ts';
export { SCALAR_METRIC_KEYS } from './types.ts';
export type {
  Confusion,
  EvaluateInput,
  Metrics,
  RocPoint,
  ScalarMetricKey,
  SubclassMetrics,
  ThresholdRule,
} from './types.ts';
