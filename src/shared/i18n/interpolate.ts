import type { Locale } from "./locales.ts";

const pluralRules = new Map<Locale, Intl.PluralRules>();

/**
 * Fills a message's placeholders: `{name}`, and `{name|one|other}` for a number whose words
 * depend on it, the form chosen by the locale's plural rules (`#` stands for the number):
 * "tra {days|# giorno|# giorni}" gives "tra 1 giorno", "tra 30 giorni". `show` renders a value
 * (escaping it for HTML, say); a placeholder without a value shows as `{name}`.
 */
export function interpolate(
  template: string,
  params: Record<string, string | number>,
  locale: Locale,
  show: (value: string, name: string) => string = String,
): string {
  let rules = pluralRules.get(locale);
  if (!rules) pluralRules.set(locale, (rules = new Intl.PluralRules(locale)));
  return template.replace(/\{(\w+)(?:\|([^|{}]*)\|([^|{}]*))?\}/g, (_, name: string, one: string | undefined, other: string | undefined) => {
    if (!Object.hasOwn(params, name)) return `{${name}}`;
    const value = params[name]!;
    const shown = show(String(value), name);
    if (one === undefined || other === undefined) return shown;
    return (typeof value === "number" && rules.select(value) === "one" ? one : other).replace(/#/g, shown);
  });
}
