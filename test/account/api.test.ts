import { Secret, TOTP } from "otpauth";
import { afterEach, describe, expect, it } from "vitest";
import { recordConsent } from "../../src/identity/consents.ts";
import { findAccount } from "../../src/identity/accounts.ts";
import { createSession, findSession } from "../../src/identity/sessions.ts";
import { beginTotpEnrolment, confirmTotpEnrolment } from "../../src/identity/totp.ts";
import { type TestApp, testApp } from "../helpers/app.ts";
import { lastCodeTo, lastMessageTo } from "../helpers/enrolment.ts";
import { flowClient, member, PASSWORD, signInL1 } from "../helpers/flows.ts";

let t: TestApp;
afterEach(async () => {
  await t?.app.close();
  await t?.store.close();
});

function accountApi(token: string, tenant = "national") {
  const headers = { authorization: `Bearer ${token}` };
  return {
    get: (path: string) => t.app.inject({ url: `/t/${tenant}/api/account${path}`, headers }),
    send: (method: "POST" | "PUT" | "DELETE", path: string, payload?: object) =>
      t.app.inject({ method, url: `/t/${tenant}/api/account${path}`, headers, ...(payload ? { payload } : {}) }),
  };
}

/** A level-2 session through the API (SMS code), for changes to factors and contacts. */
async function signInL2(tenant: string, identifier: string, phone: string): Promise<string> {
  const api = flowClient(t.app, tenant);
  const flow = await api.started({ kind: "login", level: 2 });
  await api.ok(flow.id, "identify", { identifier, password: PASSWORD });
  await api.ok(flow.id, "second_factor", { method: "sms", send: true });
  t.clock.advance(1_000);
  return (await api.ok(flow.id, "second_factor", { method: "sms", code: await lastCodeTo(t, phone, tenant) })).session!.token;
}

describe("self-service API: reading", () => {
  it("needs a session, and shows personal data, factors, consents and the access history", async () => {
    t = await testApp();
    expect((await t.app.inject({ url: "/t/national/api/account/" })).json()).toMatchObject({ error: "login_required" });
    const { tenant, account } = await member(t, "national", {
      identifier: "paola@example.it",
      email: "paola@example.it",
      emailVerified: true,
      phone: "+393331113001",
      phoneVerified: true,
      givenName: "Paola",
      familyName: "Neri",
      fiscalCode: "NREPLA85M41H501Q",
    });
    await recordConsent(t.deps, tenant, account, { purpose: "privacy", version: "2026-01", granted: true }, { actor: "test" });
    await recordConsent(t.deps, tenant, account, { purpose: "marketing", version: "2026-01", granted: true }, { actor: "test" });
    t.clock.advance(60_000);
    const token = await signInL1(t.app, "national", "paola@example.it");
    t.clock.advance(60_000);
    const l2 = await signInL2("national", "paola@example.it", "+393331113001");
    const me = accountApi(token);

    expect((await me.get("/")).json()).toMatchObject({ identifier: "paola@example.it", given_name: "Paola", fiscal_code: "NREPLA85M41H501Q", mobile: "+393331113001" });
    expect((await me.get("/factors")).json()).toEqual({ authenticator_apps: [], passkeys: [], recovery_codes_left: 0, sms: "+393331113001" });
    const consents = (await me.get("/consents")).json<object[]>();
    expect(consents).toHaveLength(2);
    expect(consents).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ purpose: "privacy", granted: true, version: "2026-01", withdrawn_at: null }),
        expect.objectContaining({ purpose: "marketing", granted: true, version: "2026-01", withdrawn_at: null }),
      ]),
    );
    const history = (await me.get("/history")).json<{ at: string; ip: string; level: number; methods: string[] }[]>();
    expect(history.map((h) => h.level)).toEqual([2, 1]);
    expect(history[0]).toMatchObject({ ip: "127.0.0.1", methods: expect.arrayContaining(["sms"]) });
    const sessions = (await me.get("/sessions")).json<{ id: string; current: boolean; level: number }[]>();
    expect(sessions).toHaveLength(2);
    expect(sessions.filter((s) => s.current)).toEqual([expect.objectContaining({ level: 1 })]);
    expect(l2).not.toBe(token);
  });

  it("exports everything held as JSON, without any secret", async () => {
    t = await testApp();
    const { tenant, account } = await member(t, "national", { identifier: "quinto@example.it", email: "quinto@example.it", emailVerified: true, givenName: "Quinto" });
    const enrolment = await beginTotpEnrolment(t.deps, tenant, account);
    await confirmTotpEnrolment(t.deps, tenant, account, enrolment.factorId, new TOTP({ secret: Secret.fromBase32(enrolment.secret) }).generate({ timestamp: t.clock.now() }), { actor: "test" });
    const token = await signInL1(t.app, "national", "quinto@example.it");
    const res = await accountApi(token).get("/export");
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-disposition"]).toBe('attachment; filename="national-personal-data.json"');
    const data = res.json<{ account: { given_name: string }; factors: { authenticator_apps: unknown[] }; sessions: unknown[]; events: { type: string }[] }>();
    expect(data.account.given_name).toBe("Quinto");
    expect(data.factors.authenticator_apps).toHaveLength(1);
    expect(data.sessions).toHaveLength(1);
    expect(data.events.map((e) => e.type)).toEqual(expect.arrayContaining(["password.set", "session.created"]));
    expect(res.body).not.toContain(enrolment.secret);
    expect(res.body).not.toContain("$argon2id$");
    expect(res.body).not.toContain(token);
  });
});

describe("self-service API: changes", () => {
  it("ends another session, or all the others, and the ended ones stop working", async () => {
    t = await testApp();
    await member(t, "national", { identifier: "rita@example.it" });
    const [a, b, c] = [await signInL1(t.app, "national", "rita@example.it"), await signInL1(t.app, "national", "rita@example.it"), await signInL1(t.app, "national", "rita@example.it")];
    const me = accountApi(a);
    const sessions = (await me.get("/sessions")).json<{ id: string; current: boolean }[]>();
    expect(sessions).toHaveLength(3);
    const other = sessions.find((s) => !s.current)!;
    expect((await me.send("DELETE", `/sessions/${other.id}`)).statusCode).toBe(204);
    expect((await me.send("DELETE", `/sessions/${other.id}`)).statusCode).toBe(404);
    expect((await me.get("/sessions")).json()).toHaveLength(2);
    expect((await me.send("DELETE", "/sessions")).json()).toEqual({ revoked: 1 });
    for (const gone of [b, c]) expect((await accountApi(gone).get("/")).statusCode).toBe(401);
    expect((await me.get("/")).statusCode).toBe(200);
  });

  it("asks for a new sign-in when the session is older than the tenant allows (RFC 9470)", async () => {
    t = await testApp();
    await member(t, "national", { identifier: "sara@example.it" });
    const token = await signInL1(t.app, "national", "sara@example.it");
    t.clock.advance(16 * 60_000);
    // Keep the session alive (idle 30 minutes) but let its sign-in age past 15 minutes.
    const me = accountApi(token);
    expect((await me.get("/")).statusCode).toBe(200);
    const res = await me.send("PUT", "/notifications", { login: true });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: "insufficient_user_authentication", max_age: 900 });
    expect(res.headers["www-authenticate"]).toBe('Bearer error="insufficient_user_authentication", max_age=900');
    expect((await me.get("/")).json()).toMatchObject({ notify_on_login: false });
  });

  it("e-mails the holder at every sign-in once asked to", async () => {
    t = await testApp();
    await member(t, "national", { identifier: "tina@example.it", email: "tina@example.it", emailVerified: true });
    const token = await signInL1(t.app, "national", "tina@example.it");
    expect((await accountApi(token).send("PUT", "/notifications", { login: true })).json()).toEqual({ login: true });
    expect(await t.store.repos.outbox.list("national", { recipient: "tina@example.it", limit: 5 })).toHaveLength(0);
    t.clock.advance(60_000);
    await signInL1(t.app, "national", "tina@example.it");
    const notice = await lastMessageTo(t, "tina@example.it");
    expect(notice.text).toContain("127.0.0.1");
    expect((await accountApi(token).send("PUT", "/notifications", { login: "yes" })).statusCode).toBe(400);
  });

  it("changes the password under the policy and ends the other sessions", async () => {
    t = await testApp();
    await member(t, "national", { identifier: "ugo@example.it", givenName: "Ugo" });
    const token = await signInL1(t.app, "national", "ugo@example.it");
    const other = await signInL1(t.app, "national", "ugo@example.it");
    const me = accountApi(token);
    const weak = await me.send("POST", "/password", { password: "ugo12345" });
    expect(weak.statusCode).toBe(400);
    expect(weak.json<{ errors: { code: string }[] }>().errors.map((e) => e.code)).toEqual(expect.arrayContaining(["password.uppercase", "password.personal_data"]));
    expect((await me.send("POST", "/password", { password: "Nuova-Chiave-Sicura-88" })).statusCode).toBe(204);
    expect((await accountApi(other).get("/")).statusCode).toBe(401);
    expect((await me.get("/")).statusCode).toBe(200);
    expect(await signInL1(t.app, "national", "ugo@example.it", "Nuova-Chiave-Sicura-88")).toEqual(expect.any(String));
  });

  it("withdraws the marketing consent, keeping the record", async () => {
    t = await testApp();
    const { tenant, account } = await member(t, "national", { identifier: "vera@example.it" });
    await recordConsent(t.deps, tenant, account, { purpose: "marketing", version: "2026-01", granted: true }, { actor: "test" });
    const me = accountApi(await signInL1(t.app, "national", "vera@example.it"));
    expect((await me.send("POST", "/consents/marketing/withdraw")).json()).toEqual({ withdrawn: true });
    expect((await me.send("POST", "/consents/marketing/withdraw")).json()).toEqual({ withdrawn: false });
    expect((await me.get("/consents")).json()).toEqual([expect.objectContaining({ purpose: "marketing", withdrawn_at: new Date(t.clock.now()).toISOString() })]);
  });
});

describe("self-service API: second factors", () => {
  it("adds an authenticator app through a settings flow, and needs level 2 once the account has a factor", async () => {
    t = await testApp();
    await member(t, "national", { identifier: "walter@example.it", phone: "+393331113002", phoneVerified: true });
    const l1 = await signInL1(t.app, "national", "walter@example.it");
    const refused = await flowClient(t.app, "national", l1).start({ kind: "settings", action: "add_totp" });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: "insufficient_user_authentication", acr_values: "https://www.spid.gov.it/SpidL2" });

    const token = await signInL2("national", "walter@example.it", "+393331113002");
    const api = flowClient(t.app, "national", token);
    const flow = await api.started({ kind: "settings", action: "add_totp" });
    expect(flow.step).toBe("totp_confirm");
    const challenge = flow.fields[0]!.challenge as { secret: string; uri: string; qrSvg: string };
    expect(challenge.uri).toMatch(/^otpauth:\/\/totp\/Tessera%20ID:walter%40example\.it\?/);
    expect(challenge.qrSvg).toContain("<svg");
    const totp = new TOTP({ secret: Secret.fromBase32(challenge.secret) });
    expect((await api.refused(flow.id, "totp_confirm", { code: "000000" === totp.generate({ timestamp: t.clock.now() }) ? "111111" : "000000" })).code).toBe("invalid_code");
    expect((await api.ok(flow.id, "totp_confirm", { code: totp.generate({ timestamp: t.clock.now() }) })).state).toBe("complete");
    expect((await accountApi(token).get("/factors")).json()).toMatchObject({ authenticator_apps: [expect.objectContaining({ id: expect.any(String) })] });

    // Another user's session cannot see or drive this flow.
    await member(t, "national", { identifier: "xenia@example.it" });
    const stranger = flowClient(t.app, "national", await signInL1(t.app, "national", "xenia@example.it"));
    expect((await stranger.submit(flow.id, "totp_confirm", { code: "123456" })).status).toBe(404);
  });

  it("removes a factor, but never the last one a tenant requires", async () => {
    t = await testApp();
    const { tenant, account } = await member(t, "university", { identifier: "10000051" });
    const enrolment = await beginTotpEnrolment(t.deps, tenant, account);
    const totp = new TOTP({ secret: Secret.fromBase32(enrolment.secret) });
    await confirmTotpEnrolment(t.deps, tenant, account, enrolment.factorId, totp.generate({ timestamp: t.clock.now() }), { actor: "test" });
    t.clock.advance(30_000);
    const api = flowClient(t.app, "university");
    const login = await api.started({ kind: "login", level: 2 });
    await api.ok(login.id, "identify", { identifier: "10000051", password: PASSWORD });
    const token = (await api.ok(login.id, "second_factor", { method: "totp", code: totp.generate({ timestamp: t.clock.now() }) })).session!.token;
    const me = accountApi(token, "university");

    const codes = (await me.send("POST", "/recovery-codes")).json<{ codes: string[] }>().codes;
    expect(codes).toHaveLength(10);
    const last = await me.send("DELETE", `/factors/totp/${enrolment.factorId}`);
    expect(last.statusCode).toBe(409);
    expect(last.json<{ error_description: string }>().error_description).toMatch(/ultimo|last/i);

    // With a second app, the first can go.
    const second = flowClient(t.app, "university", token);
    const flow = await second.started({ kind: "settings", action: "add_totp" });
    const secret = (flow.fields[0]!.challenge as { secret: string }).secret;
    t.clock.advance(30_000);
    await second.ok(flow.id, "totp_confirm", { code: new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: t.clock.now() }) });
    expect((await me.send("DELETE", `/factors/totp/${enrolment.factorId}`)).statusCode).toBe(204);
    expect((await me.get("/factors")).json<{ authenticator_apps: unknown[] }>().authenticator_apps).toHaveLength(1);
    expect((await me.send("DELETE", "/factors/totp/nope")).statusCode).toBe(404);
  });
});

describe("self-service API: contacts and the identity's state", () => {
  it("changes the mobile number with a code to the new one and a notice to the old one", async () => {
    t = await testApp();
    const { tenant, account } = await member(t, "national", { identifier: "yara@example.it", email: "yara@example.it", emailVerified: true, phone: "+393331113003", phoneVerified: true });
    const token = await signInL2("national", "yara@example.it", "+393331113003");
    const api = flowClient(t.app, "national", token);
    const flow = await api.started({ kind: "settings", action: "change_mobile" });
    expect(flow.step).toBe("mobile");
    expect((await api.refused(flow.id, "mobile", { value: "12" })).code).toBe("phone.invalid");
    expect((await api.refused(flow.id, "mobile", { value: "+39 333 111 3003" })).code).toBe("contact.unchanged");
    const sent = await api.ok(flow.id, "mobile", { value: "+39 333 999 0001" });
    expect(sent.step).toBe("mobile_code");
    const code = await lastCodeTo(t, "+393339990001");
    expect((await api.refused(flow.id, "mobile_code", { code: code === "000000" ? "111111" : "000000" })).code).toBe("invalid_code");
    t.clock.advance(1_000);
    expect((await api.ok(flow.id, "mobile_code", { code })).state).toBe("complete");

    const after = (await findAccount(t.deps, tenant, account.id))!;
    expect(after.phone).toBe("+393339990001");
    expect(after.phoneVerifiedAt).toBe(t.clock.now());
    const notice = await lastMessageTo(t, "+393331113003");
    expect(notice.text).not.toMatch(/\b\d{6}\b/);
    expect(notice.text.length).toBeGreaterThan(10);
    const audit = await t.store.repos.audit.bySubject("national", account.id, ["contact.mobile_changed"], 5);
    expect(JSON.parse(audit[0]!.data)).toEqual({ from: "+39******003", to: "+39******001" });
  });

  it("changes the e-mail address, which is the SPID user ID, and tells the old address", async () => {
    t = await testApp();
    await member(t, "national", { identifier: "zeno@example.it", email: "zeno@example.it", emailVerified: true, phone: "+393331113004", phoneVerified: true });
    await member(t, "national", { identifier: "taken@example.it", email: "taken@example.it", emailVerified: true });
    const token = await signInL2("national", "zeno@example.it", "+393331113004");
    const api = flowClient(t.app, "national", token);
    const flow = await api.started({ kind: "settings", action: "change_email" });
    expect((await api.refused(flow.id, "email", { value: "taken@example.it" })).code).toBe("account.identifier_taken");
    await api.ok(flow.id, "email", { value: "zeno.nuovo@example.it" });
    await api.ok(flow.id, "email_code", { code: await lastCodeTo(t, "zeno.nuovo@example.it") });
    expect((await lastMessageTo(t, "zeno@example.it")).text).not.toMatch(/\b\d{6}\b/);
    expect(await signInL1(t.app, "national", "zeno.nuovo@example.it")).toEqual(expect.any(String));
    const old = flowClient(t.app, "national");
    expect((await old.refused((await old.started({ kind: "login", level: 1 })).id, "identify", { identifier: "zeno@example.it", password: PASSWORD })).code).toBe("invalid_credentials");
  });

  it("suspends the identity once the code sent to the mobile number confirms it", async () => {
    t = await testApp();
    const { tenant, account } = await member(t, "national", { identifier: "alba@example.it", email: "alba@example.it", emailVerified: true, phone: "+393331113005", phoneVerified: true });
    const token = await signInL1(t.app, "national", "alba@example.it");
    const { token: other } = await createSession(t.deps, tenant, account, { level: 1, amr: ["pwd"] }, { actor: "test" });
    const api = flowClient(t.app, "national", token);
    const flow = await api.started({ kind: "settings", action: "suspend" });
    expect(flow).toMatchObject({ step: "state_code", notice: { code: "login.sms_sent" } });
    const done = await api.ok(flow.id, "state_code", { code: await lastCodeTo(t, "+393331113005") });
    expect(done.state).toBe("complete");
    expect((await findAccount(t.deps, tenant, account.id))!.state).toBe("suspended");
    for (const gone of [token, other]) expect(await findSession(t.deps, tenant, gone)).toBeUndefined();
    expect((await lastMessageTo(t, "alba@example.it")).text).toMatch(/sospesa|suspended/i);
    const again = flowClient(t.app, "national");
    expect((await again.refused((await again.started({ kind: "login", level: 1 })).id, "identify", { identifier: "alba@example.it", password: PASSWORD })).code).toBe("suspended");
  });

  it("leaves no flow behind when the code for a suspension cannot be sent", async () => {
    t = await testApp();
    await member(t, "national", { identifier: "bice@example.it", email: "bice@example.it", emailVerified: true, phone: "+393331113006", phoneVerified: true });
    const token = await signInL1(t.app, "national", "bice@example.it");
    const api = flowClient(t.app, "national", token);
    // Ten codes an hour to one number (the tenant's limit against SMS pumping), then no more.
    for (let i = 0; i < 10; i++) expect((await api.start({ kind: "settings", action: "suspend" })).status).toBe(201);
    const refused = await api.start({ kind: "settings", action: "revoke" });
    expect(refused.status).toBe(400);
    expect(refused.body.errors![0]!.code).toBe("code_throttled");
    const rows = await t.store.db.selectFrom("flows").select(["data"]).where("kind", "=", "settings").execute();
    expect(rows.map((r) => (JSON.parse(r.data) as { action: string }).action)).toEqual(Array(10).fill("suspend"));
  });
});
