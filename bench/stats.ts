/**
 * Small statistics for comparing two samples of latencies: quantiles, and the Mann–Whitney U
 * test, which asks whether one sample tends to be larger than the other without assuming either
 * is normal (latencies are not: they have long right tails).
 */

/** The q-quantile (0…1) of `values`, by linear interpolation between order statistics. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new RangeError("no values");
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low);
}

export const median = (values: readonly number[]) => quantile(values, 0.5);

/**
 * Two-sided Mann–Whitney U test, normal approximation with tie and continuity corrections (fit
 * for samples of 20 or more each). `p` near 0: the samples differ; a large `p`: no evidence that
 * they do.
 */
export function mannWhitney(a: readonly number[], b: readonly number[]): { u: number; z: number; p: number } {
  const n1 = a.length;
  const n2 = b.length;
  const n = n1 + n2;
  const all = [...a.map((v) => ({ v, first: true })), ...b.map((v) => ({ v, first: false }))].sort((x, y) => x.v - y.v);
  let rankSum = 0;
  let ties = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && all[j + 1]!.v === all[i]!.v) j++;
    const rank = (i + j + 2) / 2; // ranks are 1-based; tied values share the mean of their ranks
    const count = j - i + 1;
    ties += count ** 3 - count;
    for (let k = i; k <= j; k++) if (all[k]!.first) rankSum += rank;
    i = j + 1;
  }
  const u = rankSum - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const sd = Math.sqrt(((n1 * n2) / 12) * (n + 1 - ties / (n * (n - 1))));
  if (sd === 0) return { u, z: 0, p: 1 };
  const z = (Math.abs(u - mean) - 0.5) / sd;
  return { u, z: Math.max(0, z), p: Math.min(1, 2 * (1 - normalCdf(Math.max(0, z)))) };
}

/** Φ(x), from the error function (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
function normalCdf(x: number): number {
  const t = 1 / (1 + (0.3275911 * Math.abs(x)) / Math.SQRT2);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}
