/**
 * Sentinel's domain types: one name for one thing, used alike by the API, the database, the CLI and the console.
 * Pure types (no runtime code beyond tiny guards), importable from the browser.
 */
import type { Aggregation } from './model/types.ts';

/** The two classes. `danger` = a person in distress (scream, shout for help, distressed crying) or violence (gunshot). */
export type Label = 'safe' | 'danger';
export const LABELS: readonly Label[] = ['safe', 'danger'];

export function isLabel(x: unknown): x is Label {
  return x === 'safe' || x === 'danger';
}

/** One analysed window of a recording. Times in seconds from the start of the recording. */
/** One of the backbone's own classes (AudioSet's, for the AudioSet backbone) and its sigmoid score. */
export interface ClassScore {
  label: string;
  score: number;
}

export interface WindowPrediction {
  start: number;
  end: number;
  /** P(danger); 0 for a window the level gate skipped (the model did not hear it). */
  probability: number;
  /** RMS level of the window's audio, dB re full scale (-120 for digital silence). */
  level: number;
  /** Set when the model did not score the window: 'quiet' = below the level gate's floor (LEVEL_GATE). */
  skipped?: 'quiet';
  /** What the window sounds like to the backbone: its top classes (models with a class head only). */
  classes?: ClassScore[];
}

/** A run of consecutive windows (or pairs of windows, for a model scored by pairs) at or above the threshold, merged. */
export interface DangerEvent {
  start: number;
  end: number;
  peakProbability: number;
}

/** The verdict on one recording (a clip or a long recording analysed in sliding windows). */
export interface Prediction {
  /** `danger` when the recording's probability reaches the threshold. */
  class: Label;
  /** The recording's P(danger): its highest window's, or, for a model scored by pairs, its best adjacent pair's. */
  probability: number;
  /** How sure the verdict is: probability for danger, 1 - probability for safe. */
  confidence: number;
  /** How the probability and the events come from the windows: the model's (shared/inference/aggregation.ts). */
  aggregation: Aggregation;
  threshold: number;
  duration: number;
  windows: WindowPrediction[];
  events: DangerEvent[];
  modelVersion: string;
}

/** A labelled training/evaluation clip as read from a folder or zip (`safe/…`, `danger/…`). */
export interface LabeledClip {
  /** Path inside the dataset, e.g. `danger/scream_01.wav`. */
  path: string;
  label: Label;
  bytes: Uint8Array;
  /** Finer class from a manifest (cough, scream…), used for per-subclass error. */
  subclass?: string;
  /** Source recording: clips of one group always stay in one split. Defaults to the path. */
  group?: string;
  /** Where the recording came from (a dataset, a device): training weighs sources evenly within a class and can
   *  test on each source unseen (`--source-cv`). Defaults to the group. */
  source?: string;
}

/** Why a file of a dataset was not used. */
export interface SkippedFile {
  path: string;
  code: string;
  reason: string;
}
