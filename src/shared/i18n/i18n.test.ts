import { describe, expect, it } from "vitest";
import { en } from "./messages/en.ts";
import { es } from "./messages/es.ts";
import { it as italian } from "./messages/it.ts";
import { negotiateLocale } from "./negotiate.ts";
import { translator } from "./translate.ts";

describe("negotiateLocale", () => {
  const offered = ["it", "en"] as const;
  it("prefers ?lang=, then the cookie, then Accept-Language, then the default", () => {
    expect(negotiateLocale(offered, "it", { query: "en", cookie: "it", acceptLanguage: "it" })).toBe("en");
    expect(negotiateLocale(offered, "it", { cookie: "en", acceptLanguage: "it" })).toBe("en");
    expect(negotiateLocale(offered, "it", { acceptLanguage: "en-GB,en;q=0.9" })).toBe("en");
    expect(negotiateLocale(offered, "it", {})).toBe("it");
  });

  it("ignores languages the tenant does not offer", () => {
    expect(negotiateLocale(offered, "it", { query: "es", cookie: "xx", acceptLanguage: "es-ES" })).toBe("it");
    expect(negotiateLocale(offered, "it", { query: ["en"] })).toBe("it");
  });

  it("ranks Accept-Language by q-value, then by order", () => {
    expect(negotiateLocale(offered, "en", { acceptLanguage: "de;q=1, en;q=0.5, it;q=0.8" })).toBe("it");
    expect(negotiateLocale(offered, "en", { acceptLanguage: "it;q=0.5, en;q=0.5" })).toBe("it");
    expect(negotiateLocale(offered, "en", { acceptLanguage: "it;q=0, de" })).toBe("en");
    expect(negotiateLocale(offered, "it", { acceptLanguage: "*" })).toBe("it");
    expect(negotiateLocale(offered, "it", { acceptLanguage: ";;;,q=,,en;q=abc" })).toBe("it");
  });
});

describe("message catalogues", () => {
  const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  it.each([
    ["it", italian],
    ["es", es],
  ])("%s has every English message, with the same placeholders", (_name, catalogue) => {
    expect(Object.keys(catalogue).sort()).toEqual(Object.keys(en).sort());
    for (const [key, text] of Object.entries(en)) {
      const translated = catalogue[key as keyof typeof en];
      expect(translated.trim(), key).not.toBe("");
      expect(placeholders(translated), key).toEqual(placeholders(text));
    }
  });

  it("fills placeholders and leaves unknown ones visible", () => {
    const t = translator("it");
    expect(t("http.rate_limited", { seconds: 30 })).toBe("Troppe richieste. Riprova tra 30 secondi.");
    expect(t("http.rate_limited")).toContain("{seconds}");
  });
});
