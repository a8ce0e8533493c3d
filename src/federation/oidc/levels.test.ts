import { describe, expect, it } from "vitest";
import { acrFor, requestedLevel } from "./levels.ts";

const L1 = "https://www.spid.gov.it/SpidL1";
const L2 = "https://www.spid.gov.it/SpidL2";
const L3 = "https://www.spid.gov.it/SpidL3";

describe("requestedLevel", () => {
  it("takes the first value in order of preference that can be met", () => {
    expect(requestedLevel({ acrValues: `${L2} ${L1}` }, [1, 2])).toEqual({ ok: true, level: 2 });
    expect(requestedLevel({ acrValues: `${L3} ${L1}` }, [1, 2])).toEqual({ ok: true, level: 1 });
    expect(requestedLevel({ acrValues: "http://eidas.europa.eu/LoA/substantial" }, [1, 2])).toEqual({ ok: true, level: 2 });
  });

  it("meets a request at a higher level when the client may not use the one asked", () => {
    expect(requestedLevel({ acrValues: L1 }, [2])).toEqual({ ok: true, level: 2 });
  });

  it("refuses what cannot be met: L3, unknown values, levels above any the client may use", () => {
    expect(requestedLevel({ acrValues: L3 }, [1, 2])).toEqual({ ok: false, asked: [L3] });
    expect(requestedLevel({ acrValues: "urn:example:loa:4" }, [1, 2])).toMatchObject({ ok: false });
    expect(requestedLevel({ acrValues: L2 }, [1])).toMatchObject({ ok: false });
  });

  it("without a request, gives the lowest level the client may use", () => {
    expect(requestedLevel({}, [2, 1])).toEqual({ ok: true, level: 1 });
    expect(requestedLevel({ acrValues: "" }, [2])).toEqual({ ok: true, level: 2 });
  });

  it("follows an essential acr claim over acr_values, and remembers the values for the ID token", () => {
    expect(requestedLevel({ acrValues: L1, acrClaim: { essential: true, values: [L2] } }, [1, 2])).toEqual({ ok: true, level: 2, essential: [L2] });
    expect(requestedLevel({ acrClaim: { essential: true, value: L3 } }, [1, 2])).toMatchObject({ ok: false });
    // A voluntary claim does not bind.
    expect(requestedLevel({ acrClaim: { values: [L2] } }, [1, 2])).toEqual({ ok: true, level: 1 });
  });
});

describe("acrFor", () => {
  it("says the level reached, or the highest essential value it meets", () => {
    expect(acrFor(2, undefined)).toBe(L2);
    expect(acrFor(2, [L1])).toBe(L1);
    expect(acrFor(2, [L1, L2])).toBe(L2);
    expect(acrFor(1, [L2])).toBe(L1);
  });
});
