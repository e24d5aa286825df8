/** The console's verdict wording (web/src/verdict.ts): P(danger) against the threshold, never a "confidence". */
import { describe, expect, it } from 'vitest';
import { comparison, percent, shortClipNote, verdictLine } from '../../web/src/verdict.ts';

describe('verdict wording', () => {
  it('says P(danger) and the threshold it was compared with', () => {
    expect(verdictLine('safe', 0.59, 0.79)).toBe('Safe — P(danger) 59%, below the 79% threshold');
    expect(verdictLine('danger', 0.91, 0.79)).toBe('Danger — P(danger) 91%, above the 79% threshold');
  });

  it('adds decimals until P(danger) and the threshold no longer print equal', () => {
    expect(comparison(0.786, 0.789)).toBe('P(danger) 78.6%, below the 78.9% threshold');
    expect(comparison(0.7891, 0.7894)).toBe('P(danger) 78.91%, below the 78.94% threshold');
    expect(comparison(0.5, 0.5)).toBe('P(danger) 50%, at the 50% threshold');
  });

  it('never rounds to a certainty', () => {
    expect(percent(0.997)).toBe('>99%');
    expect(percent(1)).toBe('100%');
    expect(percent(0.002)).toBe('<1%');
    expect(percent(0)).toBe('0%');
    expect(comparison(0.9996, 0.5)).toBe('P(danger) >99%, above the 50% threshold');
  });

  it('flags a clip shorter than a window', () => {
    expect(shortClipNote(0.2)).toBe('0.2 s clip — shorter than the 3 s window; padded with silence.');
    expect(shortClipNote(0.04)).toBe('0.04 s clip — shorter than the 3 s window; padded with silence.');
    expect(shortClipNote(3)).toBeNull();
    expect(shortClipNote(7.5)).toBeNull();
  });
});
