import { describe, expect, it } from "vitest";
import { dayOf, formatDate } from "./dates.ts";

describe("dates", () => {
  const at = Date.UTC(2026, 10, 24, 23, 30); // 24 Nov 2026 23:30 UTC: already the 25th in Rome

  it("formats in the tenant's zone and the reader's locale, the same date again from the kept formatter", () => {
    expect(formatDate(at, "it", "Europe/Rome", "date")).toBe("25 novembre 2026");
    expect(formatDate(at, "en", "UTC", "date")).toBe("November 24, 2026");
    expect(formatDate(at, "es", "Europe/Madrid", "dateTime")).toBe(new Intl.DateTimeFormat("es", { dateStyle: "long", timeStyle: "short", timeZone: "Europe/Madrid" }).format(at));
    expect(formatDate(at + 60_000, "es", "Europe/Madrid", "dateTime")).toBe(new Intl.DateTimeFormat("es", { dateStyle: "long", timeStyle: "short", timeZone: "Europe/Madrid" }).format(at + 60_000));
    expect(formatDate(at, "en", "UTC", "shortDateTime")).toMatch(/^Nov 24, 2026, 11:30\sPM$/);
  });

  it("gives the calendar day in the zone", () => {
    expect(dayOf(at, "Europe/Rome")).toBe("2026-11-25");
    expect(dayOf(at, "America/New_York")).toBe("2026-11-24");
  });
});
