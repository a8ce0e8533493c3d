import { isLocale, type Locale } from "./locales.ts";

/**
 * Picks the response language: an explicit choice (`?lang=`, then the `lang` cookie) if the tenant
 * offers it, else the best match of Accept-Language (RFC 9110 §12.5.4) by primary subtag and
 * q-value, else the tenant's default.
 */
export function negotiateLocale(
  offered: readonly Locale[],
  fallback: Locale,
  choices: { query?: unknown; cookie?: unknown; acceptLanguage?: string | undefined },
): Locale {
  for (const explicit of [choices.query, choices.cookie]) {
    if (isLocale(explicit) && offered.includes(explicit)) return explicit;
  }
  if (choices.acceptLanguage) {
    const ranked = parseAcceptLanguage(choices.acceptLanguage);
    for (const { tag } of ranked) {
      const primary = tag.split("-")[0]!;
      if (primary === "*") return fallback;
      const match = offered.find((l) => l === primary);
      if (match) return match;
    }
  }
  return fallback;
}

function parseAcceptLanguage(header: string): { tag: string; q: number }[] {
  return header
    .split(",")
    .slice(0, 20) // a hostile header gets no more work than this
    .map((part, index) => {
      const [tag = "", ...params] = part.trim().toLowerCase().split(";");
      const qParam = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
      const q = qParam ? Number(qParam.slice(2)) : 1;
      return { tag: tag.trim(), q: Number.isFinite(q) ? q : 0, index };
    })
    .filter((r) => r.tag !== "" && r.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
}
