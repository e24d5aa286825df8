import { describe, expect, it } from 'vitest';
import { windowsToEvents } from '../../shared/inference/events.ts';

const w = (start: number, probability: number, len = 3) => ({ start, end: start + len, probability });

describe('windowsToEvents', () => {
  it('returns no events when nothing reaches the threshold', () => {
    expect(windowsToEvents([w(0, 0.1), w(1, 0.49)], 0.5)).toEqual([]);
  });

  it('merges overlapping hits into one event with the peak probability', () => {
    const events = windowsToEvents([w(0, 0.1), w(1, 0.6), w(2, 0.9), w(3, 0.7), w(4, 0.2)], 0.5);
    expect(events).toEqual([{ start: 1, end: 6, peakProbability: 0.9 }]);
  });

  it('splits hits separated by a miss and non-overlapping hits', () => {
    const events = windowsToEvents([w(0, 0.8), w(1, 0.1), w(2, 0.8), w(10, 0.9)], 0.5);
    expect(events).toEqual([
      { start: 0, end: 3, peakProbability: 0.8 },
      { start: 2, end: 5, peakProbability: 0.8 },
      { start: 10, end: 13, peakProbability: 0.9 },
    ]);
  });

  it('counts a window exactly at the threshold as a hit', () => {
    expect(windowsToEvents([w(0, 0.5)], 0.5)).toHaveLength(1);
  });
});
