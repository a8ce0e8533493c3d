import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalizeCif, normalizeCodicePersona, normalizeDni, normalizeEmail, normalizeIdentifier, normalizePhone } from "./identifiers.ts";

describe("DNI / NIE", () => {
  it.each([
    ["12345678Z", "12345678Z"],
    ["12.345.678-z", "12345678Z"],
    ["00000000T", "00000000T"],
    ["X1234567L", "X1234567L"],
    ["y1234567x", "Y1234567X"],
    ["Z1234567R", "Z1234567R"],
  ])("accepts %s as %s", (raw, normal) => {
    expect(normalizeDni(raw)).toBe(normal);
  });

  it.each(["12345678A", "1234567Z", "123456789Z", "A1234567L", "X1234567A", "", "12345678"])("rejects %s", (raw) => {
    expect(normalizeDni(raw)).toBeNull();
  });

  it("accepts exactly one check letter for every number", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 99_999_999 }), (n) => {
        const digits = String(n).padStart(8, "0");
        const valid = [..."ABCDEFGHIJKLMNOPQRSTUVWXYZ"].filter((l) => normalizeDni(digits + l) !== null);
        expect(valid).toHaveLength(1);
      }),
    );
  });
});

describe("e-mail", () => {
  it("lower-cases and trims", () => {
    expect(normalizeEmail("  Mario.Rossi@Example.IT ")).toBe("mario.rossi@example.it");
  });
  it.each(["mario", "@example.it", "mario@", "mario@example", "ma rio@example.it", "mario@-example.it", `${"a".repeat(65)}@example.it`])(
    "rejects %s",
    (raw) => {
      expect(normalizeEmail(raw)).toBeNull();
    },
  );
});

describe("other identifiers", () => {
  it("takes an 8-digit codice persona", () => {
    expect(normalizeCodicePersona(" 10000001 ")).toBe("10000001");
    expect(normalizeCodicePersona("1000001")).toBeNull();
    expect(normalizeCodicePersona("1000000a")).toBeNull();
  });
  it("dispatches on the tenant's kind", () => {
    expect(normalizeIdentifier("dni", "12345678z")).toBe("12345678Z");
    expect(normalizeIdentifier("email", "A@B.IT")).toBe("a@b.it");
    expect(normalizeIdentifier("codice_persona", "x")).toBeNull();
  });
  it("normalises mobile numbers to E.164", () => {
    expect(normalizePhone("+39 333 123 4567")).toBe("+393331234567");
    expect(normalizePhone("0034 600-000-001")).toBe("+34600000001");
    expect(normalizePhone("3331234567")).toBeNull();
    expect(normalizePhone("+0123456789")).toBeNull();
  });
});

describe("CIF (legal entities' tax number)", () => {
  // Published tax numbers: Telefónica, Banco Santander, Izenpe, the Basque Government.
  it.each([
    ["A28015865", "A28015865"],
    ["a-39000013", "A39000013"],
    ["A01337260", "A01337260"],
    ["S4833001C", "S4833001C"],
    ["s 4833001 c", "S4833001C"],
  ])("accepts %s as %s", (raw, normal) => {
    expect(normalizeCif(raw)).toBe(normal);
  });

  it.each([
    ["A28015866", "wrong control digit"],
    ["S48330013", "a public body's control is a letter"],
    ["A2801586E", "a company's control is a digit"],
    ["I28015865", "no such entity type"],
    ["12345678Z", "a person's DNI"],
    ["A2801586", "too short"],
  ])("refuses %s (%s)", (raw) => {
    expect(normalizeCif(raw)).toBeNull();
  });

  it("accepts exactly one control character per number, digit or letter as the type wants", () => {
    fc.assert(
      fc.property(fc.constantFrom(..."ABCDEFGHJNPQRSUVW"), fc.stringMatching(/^\d{7}$/), (type, digits) => {
        const valid = [..."0123456789JABCDEFGHI"].filter((c) => normalizeCif(`${type}${digits}${c}`) !== null);
        expect(valid.length).toBe("NPQRSWABEH".includes(type) ? 1 : 2);
      }),
    );
  });
});
