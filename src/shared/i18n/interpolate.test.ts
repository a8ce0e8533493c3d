import { describe, expect, it } from "vitest";
import { interpolate } from "./interpolate.ts";
import { translator } from "./translate.ts";

describe("interpolate", () => {
  it("fills placeholders and shows the name of those without a value", () => {
    expect(interpolate("{a} and {b} in {c|# day|# days}", { a: "x" }, "en")).toBe("x and {b} in {c}");
  });

  it("chooses the plural form by the locale's rules", () => {
    const text = "tra {days|# giorno|# giorni}";
    expect([0, 1, 2, 30].map((days) => interpolate(text, { days }, "it"))).toEqual(["tra 0 giorni", "tra 1 giorno", "tra 2 giorni", "tra 30 giorni"]);
    expect(interpolate("{n|# day|# days}", { n: 1 }, "en")).toBe("1 day");
    expect(interpolate("{n|# día|# días}", { n: 1 }, "es")).toBe("1 día");
    // A value that is not a number takes the general form.
    expect(interpolate("{n|# day|# days}", { n: "1" }, "en")).toBe("1 days");
  });

  it("renders values through `show`, inside plural forms too", () => {
    expect(interpolate("<{n|# item|# items}>", { n: 1 }, "en", (v) => `[${v}]`)).toBe("<[1] item>");
  });

  it("is what the catalogues use", () => {
    expect(translator("it")("account.delayed", { seconds: 1 })).toBe("Credenziali errate. Attendi 1 secondo prima di riprovare.");
    expect(translator("en")("account.locked", { minutes: 15 })).toMatch(/in 15 minutes\.$/);
  });
});
