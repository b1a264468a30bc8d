/**
 * The Beta draws Thompson sampling needs, over a seedable uniform source (lib/seeded-random.ts).
 * Node has no Beta sampler, and it is a few lines, so it lives here rather than in a dependency.
 */

import type { RandomSource } from "../../lib/seeded-random.js";

export { seededRandom, type RandomSource } from "../../lib/seeded-random.js";

function normal(random: RandomSource): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * A Gamma(shape, 1) draw by Marsaglia and Tsang's method; shapes below 1 use the boost
 * Gamma(a) = Gamma(a + 1) x U^(1/a), since the method itself needs a >= 1.
 */
function gamma(shape: number, random: RandomSource): number {
  if (shape < 1) return gamma(shape + 1, random) * Math.pow(1 - random(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** A Beta(alpha, beta) draw in [0, 1], from two Gamma draws. */
export function betaSample(alpha: number, beta: number, random: RandomSource): number {
  const x = gamma(alpha, random);
  const y = gamma(beta, random);
  const sum = x + y;
  // Both draws can underflow to 0 for tiny shapes; the mean is the honest answer then.
  return sum > 0 ? x / sum : alpha / (alpha + beta);
}
