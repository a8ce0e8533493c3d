/**
 * Dates as people read them, in the tenant's time zone. An Intl.DateTimeFormat is costly to build
 * (ICU data, held in native memory until the next garbage collection): a page listing sessions
 * built one per date and spent most of its time, and hundreds of megabytes, doing so. One is kept
 * per locale, zone and style.
 */
const STYLES = {
  /** 24 November 2026 */
  date: { dateStyle: "long" },
  /** 24 November 2026 at 10:15 */
  dateTime: { dateStyle: "long", timeStyle: "short" },
  /** 24 Nov 2026, 10:15 */
  shortDateTime: { dateStyle: "medium", timeStyle: "short" },
  /** The locale's numeric date: 2026-11-24 in en-CA. */
  numeric: {},
} as const satisfies Record<string, Intl.DateTimeFormatOptions>;

export type DateStyle = keyof typeof STYLES;

const formats = new Map<string, Intl.DateTimeFormat>();

export function formatDate(ms: number, locale: string, timeZone: string, style: DateStyle): string {
  const key = `${locale}|${timeZone}|${style}`;
  let format = formats.get(key);
  if (!format) formats.set(key, (format = new Intl.DateTimeFormat(locale, { ...STYLES[style], timeZone })));
  return format.format(ms);
}

/** The calendar day (YYYY-MM-DD) in the zone. */
export function dayOf(ms: number, timeZone: string): string {
  return formatDate(ms, "en-CA", timeZone, "numeric");
}
