import { afterEach, describe, expect, it } from "vitest";
import { createAccount, findAccount } from "../../src/identity/accounts.ts";
import { processInactiveIdentities } from "../../src/identity/lifecycle.ts";
import { createSession, findSession } from "../../src/identity/sessions.ts";
import { openBody } from "../../src/messaging/outbox.ts";
import { startScheduler } from "../../src/jobs/scheduler.ts";
import { openStore, type Store } from "../../src/store/db.ts";
import { type IdentityFixture, identityFixture } from "../helpers/identity.ts";
import { dialects, fakeClock, freshPgSchemaUrl, freshStore } from "../helpers/stores.ts";

const DAY = 86_400_000;
let f: IdentityFixture | undefined;
const stores: Store[] = [];
afterEach(async () => {
  await f?.store.close();
  f = undefined;
  for (const s of stores.splice(0)) await s.close();
});

/** Two years after `time`, as the job counts them (calendar months). */
const twoYearsAfter = (time: number) => {
  const d = new Date(time);
  d.setUTCMonth(d.getUTCMonth() + 24);
  return d.getTime();
};

describe.each(dialects)("inactive identities (%s)", (dialect) => {
  it("warns at 90, 30, 10 and 1 days, once each, then revokes after 24 months unused", async () => {
    f = await identityFixture(dialect);
    const { deps, clock, tenant } = f;
    const account = await f.account({ identifier: "sleepy@example.it", email: "sleepy@example.it" });
    const { token } = await createSession(deps, tenant, account, { level: 1, amr: ["pwd"] }, { actor: "test" });
    const lastUse = clock.now();
    const revokeAt = twoYearsAfter(lastUse);
    const warnings = async () => (await f!.store.repos.outbox.list(tenant.id, { recipient: "sleepy@example.it", limit: 20 })).length;

    clock.advance(revokeAt - 91 * DAY - clock.now());
    expect(await processInactiveIdentities(deps, [tenant])).toEqual({ warned: 0, revoked: 0 });
    for (const daysLeft of [90, 30, 10, 1]) {
      clock.advance(revokeAt - daysLeft * DAY + 3_600_000 - clock.now());
      expect(await processInactiveIdentities(deps, [tenant])).toEqual({ warned: 1, revoked: 0 });
      // A second run the same day (another node, a restart) sends nothing more.
      expect(await processInactiveIdentities(deps, [tenant])).toEqual({ warned: 0, revoked: 0 });
    }
    expect(await warnings()).toBe(4);
    const [latest] = await f.store.repos.outbox.list(tenant.id, { recipient: "sleepy@example.it", limit: 1 });
    expect(openBody(deps.secrets, latest!.id, latest!.body!).subject).toMatch(/revocata tra 1 giorno$/);

    clock.advance(revokeAt - clock.now());
    expect(await processInactiveIdentities(deps, [tenant])).toEqual({ warned: 0, revoked: 1 });
    expect((await findAccount(deps, tenant, account.id))!.state).toBe("revoked");
    expect(await findSession(deps, tenant, token)).toBeUndefined();
    expect(await warnings()).toBe(5); // and the notice of the revocation
    expect(await processInactiveIdentities(deps, [tenant])).toEqual({ warned: 0, revoked: 0 });
    const audit = await f.store.repos.audit.bySubject(tenant.id, account.id, ["account.revoked"], 5);
    expect(JSON.parse(audit[0]!.data)).toMatchObject({ reason: "inactivity" });
  });

  it("starts counting again at every sign-in, and leaves tenants without the rule alone", async () => {
    f = await identityFixture(dialect);
    const { deps, clock, tenant } = f;
    const account = await f.account({ identifier: "active@example.it", email: "active@example.it" });
    clock.advance(20 * 30 * DAY);
    await createSession(deps, tenant, account, { level: 1, amr: ["pwd"] }, { actor: "test" });
    clock.advance(23 * 30 * DAY);
    expect(await processInactiveIdentities(deps, [tenant])).toEqual({ warned: 1, revoked: 0 });
    expect((await findAccount(deps, tenant, account.id))!.state).toBe("active");

    const forever = { ...tenant, policy: { ...tenant.policy, inactivity: { revokeAfterMonths: null, warnDays: [90] } } };
    clock.advance(10 * 365 * DAY);
    expect(await processInactiveIdentities(deps, [forever])).toEqual({ warned: 0, revoked: 0 });
  });

  it("does not touch identities that are not active", async () => {
    f = await identityFixture(dialect);
    const waiting = await createAccount(f.deps, f.tenant, { identifier: "waiting@example.it", state: "awaiting_proofing", email: "waiting@example.it" }, { actor: "test" });
    f.clock.advance(30 * 30 * DAY);
    expect(await processInactiveIdentities(f.deps, [f.tenant])).toEqual({ warned: 0, revoked: 0 });
    expect((await findAccount(f.deps, f.tenant, waiting.id))!.state).toBe("awaiting_proofing");
  });
});

describe.each(dialects)("scheduled jobs once per period (%s)", (dialect) => {
  /** Two nodes: two stores on one database (PostgreSQL), or one store shared (SQLite in memory). */
  async function twoNodes(): Promise<[Store, Store]> {
    if (dialect === "sqlite") {
      const store = await freshStore("sqlite");
      stores.push(store);
      return [store, store];
    }
    const url = await freshPgSchemaUrl();
    const a = openStore(url);
    await a.migrate();
    const b = openStore(url);
    stores.push(a, b);
    return [a, b];
  }

  it("runs a job once in its period whichever node ticks, again in the next, and again after a failure", async () => {
    const [a, b] = await twoNodes();
    const clock = fakeClock();
    let runs = 0;
    let fail = false;
    const job = {
      name: "inactivity",
      everyMs: 3_600_000,
      oncePerMs: DAY,
      run: async () => {
        runs++;
        if (fail) throw new Error("boom");
      },
    };
    const errors: unknown[] = [];
    const nodes = [a, b].map((store) => startScheduler([job], { repos: store.repos, clock, onError: (_job, err) => errors.push(err) }));
    try {
      await Promise.all(nodes.map((n) => n.tick("inactivity")));
      await nodes[0]!.tick("inactivity");
      expect(runs).toBe(1);

      clock.advance(DAY);
      fail = true;
      await nodes[1]!.tick("inactivity");
      expect(runs).toBe(2);
      expect(errors).toHaveLength(1);
      // The failed run gave its period back: the next tick (on any node) tries again.
      fail = false;
      await nodes[0]!.tick("inactivity");
      await nodes[1]!.tick("inactivity");
      expect(runs).toBe(3);
    } finally {
      for (const n of nodes) await n.stop();
    }
  });
});
