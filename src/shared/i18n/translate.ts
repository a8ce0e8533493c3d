import { type Catalogue, en, type MessageKey } from "./messages/en.ts";
import { es } from "./messages/es.ts";
import { it } from "./messages/it.ts";
import { interpolate } from "./interpolate.ts";
import type { Locale } from "./locales.ts";

export type { MessageKey } from "./messages/en.ts";

const catalogues: Record<Locale, Catalogue> = { it, en, es };

export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

/** A translator bound to one locale. Placeholders as `interpolate` fills them; output is plain text, not HTML. */
export function translator(locale: Locale): Translate {
  const catalogue = catalogues[locale];
  return (key, params) => {
    const text = catalogue[key];
    return interpolate(text, params ?? {}, locale);
  };
}

export function isMessageKey(key: string): key is MessageKey {
  return Object.hasOwn(en, key);
}
