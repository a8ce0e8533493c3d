import { afterEach, describe, expect, it } from "vitest";
import { createAccount, findAccountByIdentifier } from "../../src/identity/accounts.ts";
import { hashSecret } from "../../src/identity/password/hashing.ts";
import { setPassword, verifyPassword } from "../../src/identity/password/service.ts";
import { openBody } from "../../src/messaging/outbox.ts";
import { findTenant } from "../../src/tenants/service.ts";
import { type TestApp, testApp } from "../helpers/app.ts";
import { enrolmentClient, type FlowView, lastCodeTo, personalData } from "../helpers/enrolment.ts";
import { CHEAP_HASHING } from "../helpers/identity.ts";
import { freshPgSchemaUrl, pgUrl } from "../helpers/stores.ts";

let t: TestApp;
afterEach(async () => {
  await t?.app.close();
  await t?.store.close();
});


/** A shop customer of the tenant, with the weak password shops tend to allow. */
async function shopCustomer(app: TestApp) {
  const tenant = (await findTenant(app.store.repos, "national"))!;
  const customer = await createAccount(app.deps, tenant, { identifier: "cliente@example.it", kind: "customer", state: "active", email: "cliente@example.it" }, { actor: "test" });
  await app.store.repos.accounts.setPassword({ account_id: customer.id, hash: await hashSecret("cliente123", CHEAP_HASHING), set_at: app.clock.now(), must_change: 0 });
  return { tenant, customer };
}

describe("existing shop customer (\"Ho già un account\")", () => {
  it("links the shop account, forces a password change first, and the two then share one password", async () => {
    t = await testApp();
    const { tenant, customer } = await shopCustomer(t);
    const api = enrolmentClient(t.app, "national", t.clock);
    let flow = await api.start();
    flow = await api.ok(flow.id, "method", { method: "signature" });
    flow = await api.ok(flow.id, "credentials", { customer_email: "Cliente@Example.it", customer_password: "cliente123", privacy_consent: true });
    expect(flow).toMatchObject({ step: "password_change", notice: { code: "enrol.password_change.policy" } });

    // The new password is checked like any other.
    const weak = await api.submit(flow.id, "password_change", { password: "cliente1234" });
    expect(weak.body.errors!.map((e) => e.code)).toEqual(["password.uppercase", "password.special", "password.personal_data"]);
    flow = await api.ok(flow.id, "password_change", { password: "Negozio-Nuovo-2026!" });
    expect(flow.step).toBe("email_confirmation");

    const identity = (await findAccountByIdentifier(t.deps, tenant, "cliente@example.it"))!;
    expect(identity).toMatchObject({ kind: "identity", credentialAccountId: customer.id, state: "unconfirmed" });
    // One password for both: the shop's old one is gone, the new one opens both accounts.
    expect(await verifyPassword(t.deps, tenant, customer, "cliente123")).toEqual({ ok: false });
    expect(await verifyPassword(t.deps, tenant, customer, "Negozio-Nuovo-2026!")).toMatchObject({ ok: true });
    expect(await verifyPassword(t.deps, tenant, identity, "Negozio-Nuovo-2026!")).toMatchObject({ ok: true });

    // Changing it through either account changes it for both.
    t.clock.advance(1000);
    await setPassword(t.deps, tenant, identity, "Altra-Password-2027!", { actor: "test" });
    expect(await verifyPassword(t.deps, tenant, customer, "Altra-Password-2027!")).toMatchObject({ ok: true });
    t.clock.advance(1000);
    await setPassword(t.deps, tenant, customer, "Terza-Password-2028!", { actor: "test" });
    expect(await verifyPassword(t.deps, tenant, identity, "Terza-Password-2028!")).toMatchObject({ ok: true });
    // And the history is shared too: the shop cannot bring back what the identity retired.
    await expect(setPassword(t.deps, tenant, customer, "Altra-Password-2027!", { actor: "test" })).rejects.toMatchObject({
      issues: [expect.objectContaining({ code: "password.reused" })],
    });

    // The rest of the request goes on as for anyone.
    flow = await api.ok(flow.id, "email_confirmation", { code: await lastCodeTo(t, "cliente@example.it") });
    expect(flow.step).toBe("security");
  });

  it("skips the change when the shop password already meets the policy", async () => {
    t = await testApp();
    const { customer } = await shopCustomer(t);
    await t.store.repos.accounts.setPassword({ account_id: customer.id, hash: await hashSecret("Negozio-Forte-2026!", CHEAP_HASHING), set_at: t.clock.now(), must_change: 0 });
    const api = enrolmentClient(t.app, "national", t.clock);
    let flow = await api.start();
    flow = await api.ok(flow.id, "method", { method: "cns" });
    flow = await api.ok(flow.id, "credentials", { customer_email: "cliente@example.it", customer_password: "Negozio-Forte-2026!", privacy_consent: true });
    expect(flow).toMatchObject({ step: "email_confirmation", notice: { code: "enrol.email_sent" } });
  });

  it("locks the shop sign-in after repeated wrong passwords", async () => {
    t = await testApp();
    await shopCustomer(t);
    const api = enrolmentClient(t.app, "national", t.clock);
    let flow = await api.start();
    flow = await api.ok(flow.id, "method", { method: "cns" });
    const codes: string[] = [];
    for (let i = 0; i < 6; i++) {
      t.clock.advance(60_000);
      const { body } = await api.submit(flow.id, "credentials", { customer_email: "cliente@example.it", customer_password: `wrong-${i}`, privacy_consent: true });
      codes.push(body.errors![0]!.code);
    }
    expect(codes).toEqual([...Array(5).fill("login.invalid_credentials"), "account.locked"]);
    // Even the right password is refused while locked.
    const { body } = await api.submit(flow.id, "credentials", { customer_email: "cliente@example.it", customer_password: "cliente123", privacy_consent: true });
    expect(body.errors![0]!.code).toBe("account.locked");
    expect(body.errors![0]!.message).toMatch(/^Troppi tentativi falliti: l'accesso è bloccato\. Riprova tra 1[45] minuti\.$/);
  });

  it("cannot link a shop account twice", async () => {
    t = await testApp();
    await shopCustomer(t);
    const api = enrolmentClient(t.app, "national", t.clock);
    for (const expected of [200, 400]) {
      let flow = await api.start();
      flow = await api.ok(flow.id, "method", { method: "cns" });
      const { status, body } = await api.submit(flow.id, "credentials", { customer_email: "cliente@example.it", customer_password: "cliente123", privacy_consent: true });
      expect(status).toBe(expected);
      if (expected === 400) expect(body.errors!.map((e) => e.code)).toEqual(["account.identifier_taken"]);
    }
  });
});

async function throughMobile(api: ReturnType<typeof enrolmentClient>, app: TestApp, password = "Correct-Horse-42!"): Promise<FlowView> {
  let flow = await api.start();
  flow = await api.ok(flow.id, "method", { method: "video" });
  flow = await api.ok(flow.id, "credentials", { email: "giulia.bianchi@example.it", password, privacy_consent: true, captcha: await api.captchaFor(flow) });
  flow = await api.ok(flow.id, "email_confirmation", { code: await lastCodeTo(app, "giulia.bianchi@example.it") });
  flow = await api.ok(flow.id, "security", { question: "first_pet", answer: "Fido", mobile: "+393331112222" });
  return api.ok(flow.id, "mobile_confirmation", { code: await lastCodeTo(app, "+393331112222") });
}

describe("the password, checked again against the personal data", () => {
  it("asks for a new one when it contains them, then goes to the summary", async () => {
    t = await testApp();
    const api = enrolmentClient(t.app, "national", t.clock);
    let flow = await throughMobile(api, t, "Bnc-1990-Tessere!");
    flow = await api.ok(flow.id, "personal_data", personalData);
    expect(flow).toMatchObject({ step: "password_change", notice: { code: "enrol.password_change.personal_data" } });
    const again = await api.submit(flow.id, "password_change", { password: "Bianchi-Tessere-7!" });
    expect(again.body.errors!.map((e) => e.code)).toEqual(["password.personal_data"]);
    flow = await api.ok(flow.id, "password_change", { password: "Mosaico-Tessere-7!" });
    expect(flow.step).toBe("summary");
    // The sealed copy of the password is gone from the flow once checked.
    const row = await t.store.db.selectFrom("flows").select("data").where("id", "=", flow.id).executeTakeFirstOrThrow();
    expect(JSON.parse(row.data)).not.toHaveProperty("sealedPassword");
  });
});

describe("coming back to a request", () => {
  it("resumes by signing in with the e-mail address and password, at the step where it was left", async () => {
    t = await testApp();
    const api = enrolmentClient(t.app, "national", t.clock);
    const flow = await throughMobile(api, t);
    const wrong = await t.app.inject({ method: "POST", url: "/t/national/api/flows", payload: { kind: "enrolment", email: "giulia.bianchi@example.it", password: "nope" } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ error: "invalid_credentials" });
    // A wrong password makes the next try wait a second (brute-force protection).
    const tooSoon = await t.app.inject({ method: "POST", url: "/t/national/api/flows", payload: { kind: "enrolment", email: "giulia.bianchi@example.it", password: "Correct-Horse-42!" } });
    expect(tooSoon.statusCode).toBe(429);
    t.clock.advance(1000);
    const resumed = await t.app.inject({ method: "POST", url: "/t/national/api/flows", payload: { kind: "enrolment", email: "Giulia.Bianchi@example.it", password: "Correct-Horse-42!" } });
    expect(resumed.statusCode).toBe(200);
    expect(resumed.json()).toMatchObject({ id: flow.id, step: "personal_data" });
  });

  it("confirms the e-mail address from the link, in any browser", async () => {
    t = await testApp();
    const api = enrolmentClient(t.app, "national", t.clock);
    let flow = await api.start();
    flow = await api.ok(flow.id, "method", { method: "video" });
    flow = await api.ok(flow.id, "credentials", { email: "giulia.bianchi@example.it", password: "Correct-Horse-42!", privacy_consent: true, captcha: await api.captchaFor(flow) });
    const [row] = await t.store.repos.outbox.list("national", { recipient: "giulia.bianchi@example.it", limit: 1 });
    const link = /https?:\/\/[^\s]+/.exec(openBody(t.deps.secrets, row!.id, row!.body!).text)![0];
    const wrongLink = await t.app.inject({ url: new URL(link.replace(/code=\d+/, "code=000000")).pathname + "?code=000000", headers: { accept: "text/html" } });
    expect(wrongLink.statusCode).toBe(400);
    const page = await t.app.inject({ url: new URL(link).pathname + new URL(link).search, headers: { accept: "text/html", "accept-language": "it" } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("Il tuo indirizzo e-mail è confermato.");
    expect((await api.get(flow.id)).step).toBe("security");
  });
});

describe.skipIf(!pgUrl)("two nodes on PostgreSQL", () => {
  it("serve the steps of one flow in turn", async () => {
    const databaseUrl = await freshPgSchemaUrl();
    const a = await testApp({}, { databaseUrl, secrets: (await import("../../src/shared/crypto/secrets.ts")).createSecrets(Buffer.alloc(32, 7)) });
    const b = await testApp({}, { databaseUrl, secrets: a.deps.secrets, clock: a.clock });
    t = a;
    try {
      const viaA = enrolmentClient(a.app, "national", a.clock);
      const viaB = enrolmentClient(b.app, "national", a.clock);
      let flow = await viaA.start();
      flow = await viaB.ok(flow.id, "method", { method: "video" });
      flow = await viaA.ok(flow.id, "credentials", { email: "giulia.bianchi@example.it", password: "Correct-Horse-42!", privacy_consent: true, captcha: await viaA.captchaFor(await viaB.get(flow.id)) });
      // A double submission to both nodes at once moves the flow once: the other finds it moved on.
      const code = await lastCodeTo(a, "giulia.bianchi@example.it");
      const both = await Promise.all([viaA.submit(flow.id, "email_confirmation", { code }), viaB.submit(flow.id, "email_confirmation", { code })]);
      expect(both.map((r) => r.status).sort()).toEqual([200, 409]);
      flow = await viaB.get(flow.id);
      expect(flow.step).toBe("security");
      flow = await viaB.ok(flow.id, "security", { question: "first_pet", answer: "Fido", mobile: "+393331112222" });
      flow = await viaA.ok(flow.id, "mobile_confirmation", { code: await lastCodeTo(b, "+393331112222") });
      expect(flow.step).toBe("personal_data");
    } finally {
      await b.app.close();
      await b.store.close();
    }
  });
});
