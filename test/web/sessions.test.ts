import { afterEach, describe, expect, it } from "vitest";
import { createAccount } from "../../src/identity/accounts.ts";
import { createSession } from "../../src/identity/sessions.ts";
import { beginTotpEnrolment } from "../../src/identity/totp.ts";
import { findTenant } from "../../src/tenants/service.ts";
import { issueOtp } from "../../src/identity/otp.ts";
import { type TestApp, testApp } from "../helpers/app.ts";

let t: TestApp;
afterEach(async () => {
  await t?.app.close();
  await t?.store.close();
});

const HTML = { accept: "text/html" };

async function signedIn(tenantId: string, identifier: string, level: 1 | 2 = 1) {
  const tenant = (await findTenant(t.store.repos, tenantId))!;
  const account = await createAccount(t.deps, tenant, { identifier, state: "active" }, { actor: "test" });
  const { token } = await createSession(t.deps, tenant, account, { level, amr: ["pwd"] }, { actor: "test" });
  return { tenant, account, token };
}

describe("sessions over HTTP", () => {
  it("need a session for passkey registration, by Bearer token or cookie", async () => {
    t = await testApp();
    const anonymous = await t.app.inject({ method: "POST", url: "/t/university/api/passkeys/registration/options", payload: {} });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toMatchObject({ error: "login_required" });

    const { token } = await signedIn("university", "10000002");
    const bearer = await t.app.inject({
      method: "POST",
      url: "/t/university/api/passkeys/registration/options",
      headers: { authorization: `Bearer ${token}` },
      payload: {},
    });
    expect(bearer.statusCode).toBe(200);
    expect(bearer.json()).toMatchObject({
      ceremonyId: expect.any(String),
      options: { rp: { id: "localhost", name: "Università Tessera · Servizi Online" }, user: { name: "10000002" }, attestation: "none" },
    });

    const cookie = await t.app.inject({
      method: "POST",
      url: "/t/university/api/passkeys/registration/options",
      headers: { cookie: `tessera_session=${token}`, origin: "http://localhost" },
      payload: {},
    });
    expect(cookie.statusCode).toBe(200);
  });

  it("refuse state-changing requests riding on the cookie from another site (CSRF)", async () => {
    t = await testApp();
    const { token } = await signedIn("university", "10000003");
    const post = (headers: Record<string, string>) =>
      t.app.inject({ method: "POST", url: "/t/university/api/passkeys/registration/options", headers: { cookie: `tessera_session=${token}`, ...headers }, payload: {} });
    for (const headers of <Record<string, string>[]>[
      { origin: "https://evil.example" },
      {},
      { origin: "null" },
      { origin: "null", "sec-fetch-site": "cross-site" },
      { origin: "https://evil.example", "sec-fetch-site": "same-origin" },
    ]) {
      const res = await post(headers);
      expect(res.statusCode, JSON.stringify(headers)).toBe(403);
      expect(res.json()).toEqual({ error: "forbidden", error_description: "La richiesta non proviene da questo sito." });
    }
    // A browser that withholds the origin still tells a same-site request by Sec-Fetch-Site.
    expect((await post({ origin: "null", "sec-fetch-site": "same-origin" })).statusCode).toBe(200);
    expect((await post({ origin: "http://localhost" })).statusCode).toBe(200);
  });

  it("ask for a step-up (RFC 9470) when a second factor exists and the session is at level 1", async () => {
    t = await testApp();
    const { tenant, account, token } = await signedIn("university", "10000004");
    const enrolment = await beginTotpEnrolment(t.deps, tenant, account);
    await t.store.repos.factors.confirmTotp(enrolment.factorId, t.clock.now(), 1);
    const res = await t.app.inject({
      method: "POST",
      url: "/t/university/api/passkeys/registration/options",
      headers: { authorization: `Bearer ${token}`, "accept-language": "it" },
      payload: {},
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers["www-authenticate"]).toBe('Bearer error="insufficient_user_authentication", acr_values="https://www.spid.gov.it/SpidL2"');
    expect(res.json()).toEqual({
      error: "insufficient_user_authentication",
      error_description: "Per questa operazione serve un accesso più sicuro (livello 2).",
      acr_values: "https://www.spid.gov.it/SpidL2",
    });
  });

  it("are per tenant: a token from one tenant means nothing to another", async () => {
    t = await testApp();
    const { token } = await signedIn("university", "10000005");
    const res = await t.app.inject({
      method: "POST",
      url: "/t/pro/api/passkeys/registration/options",
      headers: { authorization: `Bearer ${token}` },
      payload: {},
    });
    expect(res.statusCode).toBe(401);
  });

  it("refuse passkeys where the tenant does not offer them as a factor", async () => {
    t = await testApp();
    const tenant = (await findTenant(t.store.repos, "university"))!;
    const noPasskeys = { ...tenant.policy, factors: { ...tenant.policy.factors, secondFactors: ["totp" as const], passkeyFirstFactor: false } };
    await t.store.db.updateTable("tenants").set({ policy: JSON.stringify(noPasskeys) }).where("id", "=", "university").execute();
    const { token } = await signedIn("university", "10000006");
    for (const path of ["registration/options", "authentication/options"]) {
      const res = await t.app.inject({
        method: "POST",
        url: `/t/university/api/passkeys/${path}`,
        headers: { authorization: `Bearer ${token}` },
        payload: {},
      });
      expect(res.statusCode, path).toBe(403);
    }
  });

  it("allow passkey sign-in only where the tenant does", async () => {
    t = await testApp();
    const national = await t.app.inject({ method: "POST", url: "/t/national/api/passkeys/authentication/options", payload: {} });
    expect(national.statusCode).toBe(403);
    expect(national.json()).toMatchObject({ error: "forbidden", error_description: "Qui non è possibile accedere con una passkey." });
    const university = await t.app.inject({ method: "POST", url: "/t/university/api/passkeys/authentication/options", payload: {} });
    expect(university.statusCode).toBe(200);
    expect(university.json()).toMatchObject({ options: { rpId: "localhost", userVerification: "required", allowCredentials: [] } });
  });

  it("validate request bodies at the edge, naming each field", async () => {
    t = await testApp();
    const res = await t.app.inject({
      method: "POST",
      url: "/t/university/api/passkeys/authentication",
      payload: { ceremonyId: "", response: { id: "x", type: "password" } },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      error: "invalid_request",
      errors: [
        { field: "ceremonyId", code: "invalid.too_small" },
        { field: "response.type", code: "invalid.invalid_value" },
        { field: "response.response", code: "invalid.invalid_type" },
      ],
    });
  });
});

describe("development mode", () => {
  it("lists sent messages with their text, newest first, filtered by recipient", async () => {
    t = await testApp({ devMode: true });
    const tenant = (await findTenant(t.store.repos, "national"))!;
    await issueOtp(t.deps, tenant, { purpose: "a", channel: "sms", destination: "+393331234567", locale: "it" });
    t.clock.advance(1000);
    await issueOtp(t.deps, tenant, { purpose: "b", channel: "email", destination: "mario.rossi@example.it", locale: "en" });

    const all = (await t.app.inject("/t/national/dev/outbox.json")).json<{ to: string; text: string }[]>();
    expect(all.map((m) => m.to)).toEqual(["mario.rossi@example.it", "+393331234567"]);
    const sms = (await t.app.inject(`/t/national/dev/outbox.json?to=${encodeURIComponent("+39 333 123 4567")}`)).json<{ text: string; subject: string | null }[]>();
    expect(sms).toHaveLength(1);
    expect(sms[0]!.text).toMatch(/il tuo codice di verifica è \d{6}/);
    expect(sms[0]!.subject).toBeNull();
    expect((await t.app.inject("/t/pro/dev/outbox.json")).json()).toEqual([]);

    const page = await t.app.inject({ url: "/t/national/dev/outbox", headers: HTML });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("Tessera ID: your verification code");
    expect(page.body).toMatch(/il tuo codice di verifica è \d{6}/);
  });

  it("is announced on every page", async () => {
    t = await testApp({ devMode: true });
    for (const url of ["/t/national/", "/t/pro/", "/t/national/nothing"]) {
      const res = await t.app.inject({ url, headers: HTML });
      expect(res.body).toMatch(/<div class="dev-banner" role="note">.*<a href="\/t\/\w+\/dev\/outbox">/);
    }
  });

  it("is off by default: no banner, no outbox", async () => {
    t = await testApp();
    expect((await t.app.inject({ url: "/t/national/", headers: HTML })).body).not.toContain("dev-banner");
    expect((await t.app.inject("/t/national/dev/outbox.json")).statusCode).toBe(404);
  });
});
