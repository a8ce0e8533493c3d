import { afterEach, describe, expect, it } from "vitest";
import { type IdentityFixture, identityFixture } from "../../../test/helpers/identity.ts";
import { dialects } from "../../../test/helpers/stores.ts";
import { openBody } from "../../messaging/outbox.ts";
import { sendPasswordExpiryReminders } from "./expiry-reminders.ts";
import { setPassword } from "./service.ts";

const DAY = 86_400_000;
const HOUR = 3_600_000;
const by = { actor: "test" };

describe.each(dialects)("password expiry reminders on %s", (dialect) => {
  let f: IdentityFixture;
  afterEach(async () => {
    await f?.store.close();
  });

  async function reminders() {
    const rows = await f.store.repos.outbox.list(f.tenant.id, { limit: 100 });
    return rows.filter((r) => r.template === "password_expiry").map((r) => ({ to: r.recipient, key: r.dedupe_key, body: openBody(f.deps.secrets, r.id, r.body!) }));
  }

  it("e-mails 15, 7 and 1 days before expiry, each once however often the job runs", async () => {
    f = await identityFixture(dialect); // national: 180 days
    const account = await f.account({ givenName: "Mario", email: "mario.rossi@example.it", locale: "it" });
    await setPassword(f.deps, f.tenant, account, "Tessera-Demo-2026!", by);
    const setAt = f.clock.now();
    const runHourly = async (until: number) => {
      while (f.clock.now() < until) {
        await sendPasswordExpiryReminders(f.deps, f.tenant);
        f.clock.advance(HOUR);
      }
    };

    await runHourly(setAt + 165 * DAY - HOUR);
    expect(await reminders()).toEqual([]);
    await runHourly(setAt + 180 * DAY + 2 * DAY);
    const sent = await reminders();
    expect(sent.map((r) => r.key)).toEqual([
      `password-expiry:${account.id}:${setAt}:1`,
      `password-expiry:${account.id}:${setAt}:7`,
      `password-expiry:${account.id}:${setAt}:15`,
    ]);
    const fifteen = sent[2]!.body;
    expect(fifteen.subject).toBe("Tessera ID: la tua password scade tra 15 giorni");
    expect(fifteen.text).toContain("Gentile Mario,");
    expect(fifteen.text).toMatch(/scade il \d{1,2} \w+ \d{4}\./);
  });

  it("sends only the nearest reminder for a password found late, and nothing for other tenants' rules", async () => {
    f = await identityFixture(dialect);
    const account = await f.account({ email: "late@example.it" });
    await setPassword(f.deps, f.tenant, account, "Tessera-Demo-2026!", by);
    f.clock.advance(175 * DAY); // 5 days left: the 15- and 7-day dates are past or now
    // Two nodes running the job at the same moment queue it once between them.
    const counts = await Promise.all([sendPasswordExpiryReminders(f.deps, f.tenant), sendPasswordExpiryReminders(f.deps, f.tenant)]);
    expect(counts[0] + counts[1]).toBe(1);
    expect((await reminders()).map((r) => r.key?.split(":").pop())).toEqual(["7"]);
    expect(await sendPasswordExpiryReminders(f.deps, f.tenant)).toBe(0);
  });

  it("leaves out accounts that are not active, and is idle when passwords do not expire", async () => {
    f = await identityFixture(dialect);
    const suspended = await f.account({ state: "suspended" });
    await setPassword(f.deps, f.tenant, suspended, "Tessera-Demo-2026!", by);
    f.clock.advance(170 * DAY);
    expect(await sendPasswordExpiryReminders(f.deps, f.tenant)).toBe(0);
    const neverExpires = { ...f.tenant, policy: { ...f.tenant.policy, password: { ...f.tenant.policy.password, maxAgeDays: null } } };
    expect(await sendPasswordExpiryReminders(f.deps, neverExpires)).toBe(0);
  });
});
