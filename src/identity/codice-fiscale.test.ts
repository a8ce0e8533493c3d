import { createRequire } from "node:module";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkCharacter, codiceFiscaleMismatches, computeCodiceFiscale, decodeCodiceFiscale, nameCode, surnameCode } from "./codice-fiscale.ts";

// An independent implementation to check ours against (CommonJS, test-only).
const { CodiceFiscale } = createRequire(import.meta.url)("codice-fiscale-js") as {
  CodiceFiscale: { compute(p: Record<string, unknown>): string; check(cf: string): boolean };
};

const mario = { givenName: "Mario", familyName: "Rossi", birthDate: "1980-01-01", sex: "M" as const, birthPlace: "H501" };

describe("codice fiscale", () => {
  it("decodes a valid code", () => {
    expect(decodeCodiceFiscale("rssmra80a01h501u")).toEqual({
      ok: true,
      value: { code: "RSSMRA80A01H501U", surnameCode: "RSS", nameCode: "MRA", year: 80, month: 1, day: 1, sex: "M", place: "H501", omocode: false },
    });
  });

  it.each([
    ["RSSMRA80A01H501", "format"],
    ["RSSMRA80A01H5011", "format"],
    ["RSSMRA80Z01H501U", "format"],
    ["RSSMRA80A01H501X", "check_character"],
    [`RSSMRA80A00H501${checkCharacter("RSSMRA80A00H501")}`, "date"],
  ])("rejects %s (%s)", (code, problem) => {
    expect(decodeCodiceFiscale(code)).toEqual({ ok: false, problem });
  });

  it("accepts omocodia and decodes it to the same person", () => {
    // Replace the last digit of the place (1 → M), then recompute the check character.
    const first15 = "RSSMRA80A01H50M";
    const omocode = first15 + checkCharacter(first15);
    const decoded = decodeCodiceFiscale(omocode);
    expect(decoded).toMatchObject({ ok: true, value: { place: "H501", omocode: true } });
    if (!decoded.ok) throw new Error("not decoded");
    expect(codiceFiscaleMismatches(decoded.value, mario)).toEqual([]);
  });

  it("builds name and surname parts as the rules say", () => {
    expect(surnameCode("Rossi")).toBe("RSS");
    expect(surnameCode("Fo")).toBe("FOX");
    expect(surnameCode("D'Àngelo")).toBe("DNG");
    // Accented vowels count as plain ones.
    expect(nameCode("Àà")).toBe("AAX");
    expect(surnameCode("Nicolò")).toBe(surnameCode("Nicolo"));
    expect(nameCode("Gianfranco")).toBe("GFR"); // 4+ consonants: 1st, 3rd, 4th
    expect(nameCode("Mario")).toBe("MRA");
    expect(nameCode("Ugo")).toBe("GUO");
  });

  it("names each piece of data the code contradicts", () => {
    const result = decodeCodiceFiscale("RSSMRA80A01H501U");
    if (!result.ok) throw new Error("not decoded");
    const decoded = result.value;
    expect(codiceFiscaleMismatches(decoded, mario)).toEqual([]);
    expect(codiceFiscaleMismatches(decoded, { ...mario, familyName: "Bianchi", sex: "F", birthPlace: "F205" })).toEqual([
      "family_name",
      "sex",
      "birth_place",
    ]);
    expect(codiceFiscaleMismatches(decoded, { ...mario, birthDate: "1981-01-01" })).toEqual(["birth_date"]);
  });

  it("computes the same codes as an independent implementation", () => {
    // ASCII only: the other library drops accented letters, where the rules read them unaccented.
    const name = fc.stringMatching(/^[A-Za-z' ]{1,20}$/).filter((s) => /[A-Za-z]/.test(s));
    fc.assert(
      fc.property(name, name, fc.date({ min: new Date("1900-01-01"), max: new Date("2025-12-31"), noInvalidDate: true }), fc.constantFrom("M", "F"), (given, family, date, sex) => {
        const birthDate = date.toISOString().slice(0, 10);
        const ours = computeCodiceFiscale({ givenName: given, familyName: family, birthDate, sex: sex, birthPlace: "H501" });
        const theirs = CodiceFiscale.compute({
          name: given,
          surname: family,
          gender: sex,
          day: date.getUTCDate(),
          month: date.getUTCMonth() + 1,
          year: date.getUTCFullYear(),
          birthplace: "Roma",
          birthplaceProvincia: "RM",
        });
        expect(ours).toBe(theirs);
        expect(CodiceFiscale.check(ours)).toBe(true);
        expect(decodeCodiceFiscale(ours).ok).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
