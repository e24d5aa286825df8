import type { DangerEvent, WindowPrediction } from '../types.ts';

/**
 * Merges scored spans (windows, or pairs of adjacent windows: inference/aggregation.ts) whose probability reaches the
 * threshold into events. Spans overlap (hop < window), so consecutive hits that touch or overlap become one event
 * spanning from the first hit's start to the last hit's end; the peak is the highest probability in it.
 * Spans must be sorted by start time (as sliding windows are).
 */
export function windowsToEvents(spans: readonly Pick<WindowPrediction, 'start' | 'end' | 'probability'>[], threshold: number): DangerEvent[] {
  const events: DangerEvent[] = [];
  let current: DangerEvent | null = null;
  for (const w of spans) {
    if (w.probability < threshold) {
      if (current) events.push(current);
      current = null;
      continue;
    }
    if (current && w.start <= current.end) {
      current.end = Math.max(current.end, w.end);
      current.peakProbability = Math.max(current.peakProbability, w.probability);
    } else {
      if (current) events.push(current);
      current = { start: w.start, end: w.end, peakProbability: w.probability };
    }
  }
  if (current) events.push(current);
  return events;
}
