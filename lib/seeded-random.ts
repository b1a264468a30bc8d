/**
 * A seedable uniform source in [0, 1): Node has none, and a seed is what makes simulations and
 * tests repeatable (provider-mock's failure probability, select-bandit's draws). mulberry32: a
 * 32-bit generator with statistics good enough for these, and a period (2^32) beyond any run.
 */
export type RandomSource = () => number;

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
