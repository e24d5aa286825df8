/** Sums of sines and their measurement, for audio tests (synthetic signals only). */

/** Sum of sines: parts are [amplitude, frequency Hz]. */
export function tone(rate: number, seconds: number, parts: [number, number][]): Float32Array {
  return Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) =>
    parts.reduce((acc, [amp, f]) => acc + amp * Math.sin((2 * Math.PI * f * i) / rate), 0),
  );
}

/** Amplitude of the f Hz component of the middle half of x, by projection on sin/cos (it spans many periods). */
export function toneAmplitude(x: Float32Array, rate: number, f: number): number {
  const start = Math.floor(x.length / 4);
  const n = Math.floor(x.length / 2);
  let s = 0;
  let c = 0;
  for (let i = start; i < start + n; i++) {
    const w = (2 * Math.PI * f * i) / rate;
    s += x[i] * Math.sin(w);
    c += x[i] * Math.cos(w);
  }
  return (2 / n) * Math.hypot(s, c);
}
