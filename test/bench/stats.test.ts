import { describe, expect, it } from "vitest";
import { mannWhitney, median, quantile } from "../../bench/stats.ts";

describe("bench statistics", () => {
  it("quantiles interpolate between order statistics", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(quantile([10, 20, 30, 40, 50], 0.25)).toBe(20);
    expect(() => quantile([], 0.5)).toThrow(RangeError);
  });

  it("Mann–Whitney U: separated samples differ, shuffled ones do not", () => {
    // By hand: U = 0, mean 12.5, σ = √(25/12 × 11) = 4.787, z = 12/4.787 = 2.507, p = 0.0122.
    const apart = mannWhitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
    expect(apart.u).toBe(0);
    expect(apart.z).toBeCloseTo(2.507, 3);
    expect(apart.p).toBeCloseTo(0.0122, 4);
    // The same values dealt alternately: no difference at all.
    const values = Array.from({ length: 60 }, (_, i) => 20 + ((i * 37) % 17));
    const same = mannWhitney(values.filter((_, i) => i % 2 === 0), values.filter((_, i) => i % 2 === 1));
    expect(same.p).toBeGreaterThan(0.5);
    // Ties everywhere: no spread, no evidence.
    expect(mannWhitney([3, 3, 3], [3, 3, 3]).p).toBe(1);
  });
});
