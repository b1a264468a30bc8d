/**
 * The bandit's randomness: a seedable uniform source and the Beta draws Thompson sampling needs.
 * Node has no seeded generator and no Beta sampler, and both are a few lines, so they live here
 * rather than in a dependency.
 */

/** Returns a number in [0, 1). */
export type RandomSource = () => number;

/**
 * mulberry32: a 32-bit generator with good enough statistics for choosing arms and a period
 * (2^32) far beyond any run, chosen because a seed makes simulations and tests repeatable.
 */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw (Box-Muller); 1 - u keeps the logarithm's argument above 0. */
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
