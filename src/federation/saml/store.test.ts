import { afterEach, describe, expect, it } from "vitest";
import type { Store } from "../../store/db.ts";
import { demoTenants } from "../../tenants/demo.ts";
import { ensureTenants } from "../../tenants/service.ts";
import { dialects, fakeClock, freshStore } from "../../../test/helpers/stores.ts";

let stores: Store[] = [];
afterEach(async () => {
  for (const s of stores) await s.close();
  stores = [];
});

const row = (ticket: string, requestId = "_req-1") => ({
  ticket,
  tenant_id: "national",
  sp_entity_id: "https://sp.example.it/metadata",
  request_id: requestId,
  payload: "{}",
  created_at: 1,
  expires_at: 2,
  answered_at: null,
});

/** What replay protection and single answers rest on: the store, on each engine. */
describe.each(dialects)("SAML requests in the store (%s)", (dialect) => {
  async function store() {
    const s = await freshStore(dialect);
    stores.push(s);
    await ensureTenants(s, fakeClock(), demoTenants, { actor: "test" });
    return s;
  }

  it("records a request id once per service provider, however many arrive at once", async () => {
    const s = await store();
    const results = await Promise.all([1, 2, 3, 4].map((i) => s.repos.saml.insertRequest(row(`ticket-${i}`))));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await s.repos.saml.insertRequest(row("ticket-5"))).toBe(false);
    // Another id, or the same id from another service provider, is another request.
    expect(await s.repos.saml.insertRequest(row("ticket-6", "_req-2"))).toBe(true);
    expect(await s.repos.saml.insertRequest({ ...row("ticket-7"), sp_entity_id: "https://other.example.it/sp" })).toBe(true);
  });

  it("answers a request once", async () => {
    const s = await store();
    await s.repos.saml.insertRequest(row("ticket-1"));
    const answers = await Promise.all([s.repos.saml.answerRequest("national", "ticket-1", 10), s.repos.saml.answerRequest("national", "ticket-1", 11)]);
    expect(answers.filter(Boolean)).toHaveLength(1);
    // Scoped by tenant: another tenant's ticket is not found.
    expect(await s.repos.saml.request("university", "ticket-1")).toBeUndefined();
  });

  it("forgets requests and sessions past their expiry", async () => {
    const s = await store();
    await s.repos.saml.insertRequest(row("ticket-1"));
    await s.repos.saml.deleteExpired(3);
    expect(await s.repos.saml.request("national", "ticket-1")).toBeUndefined();
    // Past its expiry, the id may come again (its IssueInstant can no longer pass the clock-skew check).
    expect(await s.repos.saml.insertRequest(row("ticket-2"))).toBe(true);
  });
});
