/** How a window's top classes read as text. No tfjs here: the console's main bundle imports it. */
import type { ClassScore } from '../types.ts';

/** Top classes as "Screaming 91%, Shout 40%": one wording for the console, the live monitor and the CLI. */
export function classesText(classes: readonly ClassScore[]): string {
  return classes.map((c) => `${c.label} ${(100 * c.score).toFixed(0)}%`).join(', ');
}
