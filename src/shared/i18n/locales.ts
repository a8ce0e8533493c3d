/** Languages Tessera has message catalogues for. A tenant offers a subset of them. */
export const LOCALES = ["it", "en", "es"] as const;
export type Locale = (typeof LOCALES)[number];

/** Each language named in itself, as language switches show them. */
export const LOCALE_NAMES: Record<Locale, string> = { it: "Italiano", en: "English", es: "Español" };

export function isLocale(value: unknown): value is Locale {
  return typeof value === "string" && (LOCALES as readonly string[]).includes(value);
}
