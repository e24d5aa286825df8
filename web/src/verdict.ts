/**
 * How a verdict is worded everywhere in the console: the class, P(danger) and the threshold it was compared with
 * ("Safe — P(danger) 59%, below the 79% threshold"). The API's `confidence` (1 − P for a safe verdict) is never
 * shown: a "safe, confidence 40%" reads as a coin toss when it means P(danger) 60% under a 79% threshold.
 */
import { AUDIO } from '../../shared/config.ts';

/** A probability as a percentage that never rounds to a certainty it is not: 0.997 is ">99%", 0.002 is "<1%". */
export function percent(x: number, digits = 0): string {
  const text = (100 * x).toFixed(digits);
  const step = 10 ** -digits;
  if (x < 1 && Number(text) >= 100) return `>${(100 - step).toFixed(digits)}%`;
  if (x > 0 && Number(text) <= 0) return `<${step.toFixed(digits)}%`;
  return `${text}%`;
}

/** P(danger) and threshold as percentages, with as many decimals as it takes for them not to print equal. */
export function comparedPercents(probability: number, threshold: number): [string, string] {
  if (probability === threshold) return [percent(probability), percent(threshold)];
  for (let digits = 0; digits < 3; digits++) {
    const a = percent(probability, digits);
    const b = percent(threshold, digits);
    if (a !== b) return [a, b];
  }
  return [percent(probability, 3), percent(threshold, 3)];
}

/** "P(danger) 91%, above the 79% threshold" (danger when P ≥ threshold, as the detector decides). */
export function comparison(probability: number, threshold: number): string {
  const [p, t] = comparedPercents(probability, threshold);
  const where = probability > threshold ? 'above' : probability < threshold ? 'below' : 'at';
  return `P(danger) ${p}, ${where} the ${t} threshold`;
}

/** "Danger — P(danger) 91%, above the 79% threshold". */
export function verdictLine(cls: 'safe' | 'danger', probability: number, threshold: number): string {
  return `${cls === 'danger' ? 'Danger' : 'Safe'} — ${comparison(probability, threshold)}`;
}

/** A recording shorter than one analysis window was padded with silence to fill it: say so, or null. */
export function shortClipNote(duration: number, windowSeconds = AUDIO.windowSeconds): string | null {
  if (!(duration < windowSeconds)) return null;
  return `${duration.toFixed(duration < 0.1 ? 2 : 1)} s clip — shorter than the ${windowSeconds} s window; padded with silence.`;
}
