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

/** Whether `value` is a day of the calendar written YYYY-MM-DD (2026-02-30 is not). */
export function isCalendarDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

/** The calendar day (YYYY-MM-DD) in the zone. */
export function dayOf(ms: number, timeZone: string): string {
  return formatDate(ms, "en-CA", timeZone, "numeric");
}

export interface WallClock {
  year: number;
  /** 1 (January) to 12. */
  month: number;
  day: number;
  hour: number;
  minute: number;
  /** 1 (Monday) to 7 (Sunday), as ISO 8601 counts. */
  weekday: number;
}

const clocks = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** What the clocks of the zone read at this instant. */
export function wallClock(ms: number, timeZone: string): WallClock {
  let format = clocks.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", weekday: "short" });
    clocks.set(timeZone, format);
  }
  const part = Object.fromEntries(format.formatToParts(ms).map((p) => [p.type, p.value]));
  return { year: Number(part.year), month: Number(part.month), day: Number(part.day), hour: Number(part.hour), minute: Number(part.minute), weekday: WEEKDAYS[part.weekday!]! };
}

/**
 * The instant at which the zone's clocks read this date and time: the zone's offset is found
 * where it applies, twice, so that a time near a daylight-saving change lands on the right side.
 */
export function zonedInstant(wall: Pick<WallClock, "year" | "month" | "day" | "hour" | "minute">, timeZone: string): number {
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute);
  const offset = (ms: number) => {
    const w = wallClock(ms, timeZone);
    return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute) - Math.floor(ms / 60_000) * 60_000;
  };
  const first = asUtc - offset(asUtc);
  return asUtc - offset(first);
}
