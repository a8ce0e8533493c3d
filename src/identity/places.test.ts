import { describe, expect, it } from "vitest";
import { existedOn, placeByCode, placesNamed } from "./places.ts";

describe("places of birth", () => {
  it("finds municipalities and countries by Belfiore code", async () => {
    expect(await placeByCode("h501")).toMatchObject({ code: "H501", name: "Roma", province: "RM", foreign: false, validTo: null });
    expect(await placeByCode("Z404")).toMatchObject({ code: "Z404", name: "Stati Uniti d'America", province: null, foreign: true });
    expect(await placeByCode("H5O1")).toBeUndefined();
    expect(await placeByCode("Q999")).toBeUndefined();
  });

  it("finds places by name, ignoring case and accents, and narrows by province", async () => {
    expect((await placesNamed("milano")).map((p) => p.code)).toEqual(["F205"]);
    expect((await placesNamed("Forlì")).map((p) => p.province)).toContain("FC");
    const many = await placesNamed("Castelnuovo");
    expect(many.length).toBeGreaterThanOrEqual(1);
    expect(await placesNamed("Roma (MI)")).toEqual([]);
    expect((await placesNamed("Roma (RM)")).map((p) => p.code)).toEqual(["H501"]);
    expect(await placesNamed("x")).toEqual([]);
  });

  it("knows when a municipality existed", async () => {
    const rome = (await placeByCode("H501"))!;
    expect(existedOn(rome, "1980-01-01")).toBe(true);
    expect(existedOn(rome, "1850-01-01")).toBe(false);
  });
});
