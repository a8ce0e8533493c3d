import { afterEach, describe, expect, it } from "vitest";
import { processExpiringEnrolments } from "../../src/flows/enrolment/expiry.ts";
import { createAccount } from "../../src/identity/accounts.ts";
import { hashSecret } from "../../src/identity/password/hashing.ts";
import { openBody } from "../../src/messaging/outbox.ts";
import { findTenant, listTenants } from "../../src/tenants/service.ts";
import { type TestApp, testApp } from "../helpers/app.ts";
import { enrolmentClient } from "../helpers/enrolment.ts";
import { CHEAP_HASHING } from "../helpers/identity.ts";

const DAY = 86_400_000;
let t: TestApp;
afterEach(async () => {
  await t?.app.close();
  await t?.store.close();
});

const run = async () => processExpiringEnrolments(t.deps, await listTenants(t.store.repos), (tenant) => `https://id.example.org/t/${tenant.id}`);

describe("unfinished requests", () => {
  it("get one reminder a week before their deadline, then are deleted with the account they created", async () => {
    t = await testApp();
    const api = enrolmentClient(t.app, "national", t.clock);
    let flow = await api.start();
    flow = await api.ok(flow.id, "method", { method: "video" });
    flow = await api.ok(flow.id, "credentials", { email: "giulia.bianchi@example.it", password: "Correct-Horse-42!", privacy_consent: true, captcha: await api.captchaFor(flow) });
    const anonymous = await api.start();

    t.clock.advance(22 * DAY);
    expect(await run()).toEqual({ reminded: 0, deleted: 1 }); // the anonymous flow, long expired
    t.clock.advance(DAY + 3_600_000); // a little under 7 days left
    expect(await run()).toEqual({ reminded: 1, deleted: 0 });
    expect(await run()).toEqual({ reminded: 0, deleted: 0 });
    const [reminder] = await t.store.repos.outbox.list("national", { recipient: "giulia.bianchi@example.it", limit: 1 });
    const body = openBody(t.deps.secrets, reminder!.id, reminder!.body!);
    expect(body.subject).toBe("Tessera ID: la tua richiesta di identità ti aspetta");
    expect(body.text).toContain("https://id.example.org/t/national/enrol/resume");
    expect(body.html).toContain('<a href="https://id.example.org/t/national/enrol/resume">');

    t.clock.advance(7 * DAY);
    expect(await run()).toEqual({ reminded: 0, deleted: 1 });
    expect(await t.store.repos.accounts.findByIdentifier("national", "identity", "giulia.bianchi@example.it")).toBeUndefined();
    expect(await t.store.db.selectFrom("flows").select("id").where("id", "in", [flow.id, anonymous.id]).execute()).toEqual([]);
    // The e-mail address is free again.
    const again = await api.start();
    const next = await api.ok(again.id, "method", { method: "video" });
    const retry = await api.submit(next.id, "credentials", { email: "giulia.bianchi@example.it", password: "Correct-Horse-42!", privacy_consent: true, captcha: await api.captchaFor(next) });
    expect(retry.status).toBe(200);
  });

  it("never delete a linked shop account, only the identity request", async () => {
    t = await testApp();
    const tenant = (await findTenant(t.store.repos, "national"))!;
    const customer = await createAccount(t.deps, tenant, { identifier: "cliente@example.it", kind: "customer", state: "active", email: "cliente@example.it" }, { actor: "test" });
    await t.store.repos.accounts.setPassword({ account_id: customer.id, hash: await hashSecret("Negozio-Forte-2026!", CHEAP_HASHING), set_at: 0, must_change: 0 });
    const api = enrolmentClient(t.app, "national", t.clock);
    let flow = await api.start();
    flow = await api.ok(flow.id, "method", { method: "cns" });
    await api.ok(flow.id, "credentials", { customer_email: "cliente@example.it", customer_password: "Negozio-Forte-2026!", privacy_consent: true });
    t.clock.advance(31 * DAY);
    expect(await run()).toMatchObject({ deleted: 1 });
    expect(await t.store.repos.accounts.find("national", customer.id)).toMatchObject({ kind: "customer", state: "active" });
    expect(await t.store.repos.accounts.findByIdentifier("national", "identity", "cliente@example.it")).toBeUndefined();
  });
});
