import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { demoTenants } from "../../tenants/demo.ts";
import { PasswordPolicy } from "../../tenants/policy.ts";
import { COMMON_PASSWORD_COUNT, isCommonPassword } from "./denylist.ts";
import { checkPasswordRules, longestRun, passwordRuleHints, personalFragments } from "./rules.ts";

const spid = PasswordPolicy.parse(demoTenants.find((t) => t.id === "national")!.policy!.password);
const rules = (password: string, personal = {}) => checkPasswordRules(spid, password, personal).map((f) => f.rule);

describe("SPID password rules (national tenant)", () => {
  it("accepts a password meeting every rule", () => {
    expect(rules("Tessera-Demo-2026!")).toEqual([]);
  });

  it("needs at least 8 characters: 7 fail, 8 pass", () => {
    expect(rules("Ab1!xyz")).toEqual(["password.min_length"]);
    expect(rules("Ab1!xyzw")).toEqual([]);
    expect(checkPasswordRules(spid, "Ab1!xyz")[0]!.params).toEqual({ min: 8 });
  });

  it("counts characters, not UTF-16 units", () => {
    expect(rules("Àb1!😀😀é")).toEqual(["password.min_length"]);
    expect(rules("Àb1!😀😀éx")).toEqual([]);
  });

  it("allows two identical characters in a row, not three", () => {
    expect(rules("Tessera-aa-2026!")).toEqual([]);
    expect(rules("Tessera-aaa-2026!")).toEqual(["password.repeated"]);
    expect(rules("Tessera-111-2026!")).toEqual(["password.repeated"]);
    expect(rules("Tessera-!!!-2026")).toEqual(["password.repeated"]);
    expect(rules("Tessera-aAa-2026!")).toEqual([]);
  });

  it.each([
    ["tessera-demo-2026!", "password.uppercase"],
    ["TESSERA-DEMO-2026!", "password.lowercase"],
    ["Tessera-Demo-Two!", "password.digit"],
    ["TesseraDemo2026", "password.special"],
  ])("%s fails %s alone", (password, rule) => {
    expect(rules(password)).toEqual([rule]);
  });

  it("reports every failing rule at once", () => {
    expect(rules("aaa")).toEqual([
      "password.min_length",
      "password.uppercase",
      "password.digit",
      "password.special",
      "password.repeated",
    ]);
  });

  it("refuses common passwords, also with digits and symbols stuck on", () => {
    expect(COMMON_PASSWORD_COUNT).toBeGreaterThanOrEqual(10_000);
    expect(isCommonPassword("password")).toBe(true);
    expect(isCommonPassword("PassWord")).toBe(true);
    expect(rules("Password123!")).toEqual(["password.common"]);
    expect(rules("!Qwerty2024")).toEqual(["password.common"]);
    expect(isCommonPassword("Tessera-Demo-2026!")).toBe(false);
  });
});

describe("personal data in passwords", () => {
  const mario = {
    givenName: "Mario",
    familyName: "De Rossi",
    fiscalCode: "RSSMRA80A01H501U",
    birthDate: "1980-01-01",
    email: "mario.derossi@example.it",
    documentNumber: "CA12345AB",
  };

  it.each([
    ["Ciao-Mario-2026!", "given name"],
    ["X-Rossi!2026abc", "a word of the surname"],
    ["Màrio!Xyz2026", "the name written with an accent"],
    ["Az-rssmra80a01h501u", "the codice fiscale"],
    ["Nato-01011980!X", "the birth date DDMMYYYY"],
    ["Nato-19800101!X", "the birth date YYYYMMDD"],
    ["Nato-010180!Xy", "the birth date DDMMYY"],
    ["Since-1980!Xyz", "the birth year"],
    ["Q!mario.derossi9", "the e-mail local part"],
    ["Doc-CA12345AB!x", "the document number"],
  ])("refuses %s (%s)", (password) => {
    expect(rules(password, mario)).toEqual(["password.personal_data"]);
  });

  it("accepts passwords unrelated to the holder", () => {
    expect(rules("Tessera-Demo-2026!", mario)).toEqual([]);
  });

  it("ignores fragments too short to mean anything", () => {
    expect(personalFragments({ givenName: "Al", familyName: "Li" })).toEqual(["alli"]);
    expect(personalFragments({ email: "a.b@example.it" })).toEqual([]);
  });
});

describe("other tenants' policies and hints", () => {
  it("defaults to length and denylist only (NIST SP 800-63B)", () => {
    const defaults = PasswordPolicy.parse({});
    expect(checkPasswordRules(defaults, "correct horse battery").map((f) => f.rule)).toEqual([]);
    expect(checkPasswordRules(defaults, "Xq7#vbz").map((f) => f.rule)).toEqual(["password.min_length"]);
    expect(checkPasswordRules(defaults, "sunshine").map((f) => f.rule)).toEqual(["password.min_length", "password.common"]);
    expect(checkPasswordRules(defaults, "x".repeat(129)).map((f) => f.rule)).toEqual(["password.max_length"]);
  });

  it("lists the rules in force for forms", () => {
    expect(passwordRuleHints(spid).map((h) => h.rule)).toEqual([
      "password.min_length",
      "password.uppercase",
      "password.lowercase",
      "password.digit",
      "password.special",
      "password.repeated",
      "password.personal_data",
      "password.common",
      "password.reused",
    ]);
    expect(passwordRuleHints(PasswordPolicy.parse({})).map((h) => h.rule)).toEqual([
      "password.min_length",
      "password.personal_data",
      "password.common",
    ]);
  });

  it("measures runs correctly for any string", () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 6 }), fc.constantFrom("a", "7", "é", "😀"), (s, n, c) => {
        expect(longestRun(s + c.repeat(n))).toBeGreaterThanOrEqual(n);
        expect(longestRun(s)).toBeLessThanOrEqual([...s].length);
      }),
    );
  });
});
