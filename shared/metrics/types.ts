/**
 * The metric names, defined once. `Metrics` is what `evaluate` returns, what the eval CLI prints as JSON and what
 * the API stores/returns as a model's metrics, so renaming a key here is an API change.
 *
 * Conventions (shared by every function of shared/metrics):
 * - label 1 = danger (the positive class), 0 = safe.
 * - A window is predicted danger when probability >= threshold (same rule as event merging).
 * - A ratio whose denominator is 0 is reported as 0 (sklearn's zero_division=0): e.g. precision with no window flagged,
 *   recall with no danger example. It keeps every scalar a finite number in JSON.
 * - rocAuc / prAuc are `null` when undefined for the data (a class is absent): a fake 0 or 0.5 would read as a result.
 */

/** Counts at one threshold. */
export interface Confusion {
  /** Danger predicted danger. */
  tp: number;
  /** Safe predicted danger: a false alarm. */
  fp: number;
  /** Safe predicted safe. */
  tn: number;
  /** Danger predicted safe: a miss. */
  fn: number;
}

/** One corner of the ROC step curve: flagging probabilities >= threshold gives this (fpr, tpr). */
export interface RocPoint {
  fpr: number;
  tpr: number;
  /** `null` for the (0, 0) start point, which no threshold within the scores reaches ("flag nothing"). */
  threshold: number | null;
}

/** Errors within one finer class of a manifest (scream, cough, traffic…). */
export interface SubclassMetrics {
  /** The class its examples carry; `mixed` if a manifest gives the subclass both labels. */
  label: 'safe' | 'danger' | 'mixed';
  n: number;
  /** Examples predicted as the other class. */
  errors: number;
  /** errors / n: for a safe subclass the false-alarm rate, for a danger subclass the miss rate. */
  errorRate: number;
}

export interface Metrics {
  n: number;
  accuracy: number;
  /** Mean of per-class recall over the classes present (sklearn's balanced_accuracy_score). */
  balancedAccuracy: number;
  precision: number;
  recall: number;
  f1: number;
  /** Area under ROC = Mann-Whitney U / (nPos * nNeg), ties counted 1/2; null when a class is absent. */
  rocAuc: number | null;
  /** Average precision (sklearn's average_precision_score, step-wise, no interpolation); null without danger examples. */
  prAuc: number | null;
  threshold: number;
  confusion: Confusion;
  /** Compact ROC: only the corners of the step curve, from (0,0) to (1,1), fpr ascending. */
  rocCurve: RocPoint[];
  /** Keyed by subclass; empty when no subclasses were given. */
  perSubclass: Record<string, SubclassMetrics>;
  /** False-alarm windows per hour of safe audio; null when durations were not given, 0 when there is no safe audio. */
  falseAlarmsPerHour: number | null;
}

/** The scalar scores, in display order (tables, model comparison). */
export const SCALAR_METRIC_KEYS = [
  'accuracy',
  'balancedAccuracy',
  'precision',
  'recall',
  'f1',
  'rocAuc',
  'prAuc',
] as const satisfies readonly (keyof Metrics)[];
export type ScalarMetricKey = (typeof SCALAR_METRIC_KEYS)[number];

/** Input to `evaluate`. */
export interface EvaluateInput {
  /** 1 = danger, 0 = safe. */
  labels: ArrayLike<number>;
  /** Model probability of danger per example, each in [0, 1]. */
  probabilities: ArrayLike<number>;
  threshold: number;
  /** Finer class per example (same length), for `perSubclass`. */
  subclasses?: readonly string[];
  /** Seconds of audio each example covers (same length), for `falseAlarmsPerHour`. */
  durationsSeconds?: ArrayLike<number>;
}

/**
 * How `chooseThreshold` picks a threshold:
 * - `maxBalancedAccuracy` (default): the best mean of recall and specificity; robust to class imbalance.
 * - `youden`: max Youden's J = TPR - FPR = 2 * balancedAccuracy - 1, so the same threshold whenever both classes
 *   are present; kept as a name because the literature uses it.
 * - `{ recallTarget: r }`: the highest threshold whose recall is >= r (fewest false alarms at that recall).
 * - `{ maxSubclassFalseAlarmRate: r, minSubclassCount: n }`: the best balanced accuracy among thresholds at which no
 *   subclass of safe examples with at least n examples has more than a share r flagged (needs the examples'
 *   subclasses; without them, or when no threshold qualifies, plain maxBalancedAccuracy). False alarms that pile up
 *   on one everyday sound (a song, a cough) are the ones users notice. With `minSubclassRecordings: k` (and the
 *   examples' groups) a subclass is judged only when its examples come from at least k recordings: five slices of
 *   one recording are one observation of a kind of sound, not five.
 */
export type ThresholdRule =
  | 'maxBalancedAccuracy'
  | 'youden'
  | { recallTarget: number }
  | { maxSubclassFalseAlarmRate: number; minSubclassCount: number; minSubclassRecordings?: number };
