import { Secret, TOTP } from "otpauth";
import { afterEach, describe, expect, it } from "vitest";
import { type AccountState } from "../../src/identity/accounts.ts";
import { generateRecoveryCodes } from "../../src/identity/recovery-codes.ts";
import { findSession, listSessions } from "../../src/identity/sessions.ts";
import { beginTotpEnrolment, confirmTotpEnrolment } from "../../src/identity/totp.ts";
import { hashingPool } from "../../src/identity/password/hashing-pool.ts";
import { type TestApp, testApp } from "../helpers/app.ts";
import { lastCodeTo } from "../helpers/enrolment.ts";
import { flowClient, member, PASSWORD } from "../helpers/flows.ts";

let t: TestApp;
afterEach(async () => {
  await t?.app.close();
  await t?.store.close();
});

const DAY = 86_400_000;

/** Everything of an error answer but what differs from one request to the next. */
const comparable = (body: object) => JSON.stringify(body, (key, value: unknown) => (key === "id" || key === "expires_at" ? undefined : value));

describe("login API, level 1", () => {
  it("opens a session at level 1 with the password, whose token works as a Bearer token", async () => {
    t = await testApp();
    await member(t, "national", { identifier: "anna@example.it", email: "anna@example.it", emailVerified: true });
    const api = flowClient(t.app, "national");
    const flow = await api.started({ kind: "login", level: 1 });
    expect(flow).toMatchObject({ kind: "login", step: "identify" });
    expect(flow.fields.map((f) => f.name)).toEqual(["identifier", "password"]);

    const done = await api.ok(flow.id, "identify", { identifier: " Anna@Example.IT ", password: PASSWORD });
    expect(done).toMatchObject({ state: "complete", session: { level: 1, acr: "https://www.spid.gov.it/SpidL1", amr: ["pwd"] } });
    expect(Date.parse(done.session!.expires_at)).toBeGreaterThan(t.clock.now());

    const profile = await t.app.inject({ url: "/t/national/api/account/", headers: { authorization: `Bearer ${done.session!.token}` } });
    expect(profile.statusCode).toBe(200);
    expect(profile.json()).toMatchObject({ identifier: "anna@example.it" });
    // The token is handed over once: the finished flow does not show it again.
    const again = await t.app.inject({ url: `/t/national/api/flows/${flow.id}` });
    expect(again.json()).not.toHaveProperty("session");
    expect(again.body).not.toContain(done.session!.token);
  });

  it("signs in with each tenant's identifier: DNI/NIE (check letter validated) and codice persona", async () => {
    t = await testApp();
    await member(t, "pro", { identifier: "X1234567L", email: "nie@example.eus", emailVerified: true });
    await member(t, "university", { identifier: "10000042", email: "s42@example.it", emailVerified: true });

    const pro = flowClient(t.app, "pro");
    const proFlow = await pro.started({ kind: "login", level: 1 });
    // Two factors are mandatory for professionals (seed 002): the password leads to the code.
    expect(await pro.ok(proFlow.id, "identify", { identifier: "x-1234567-l", password: PASSWORD })).toMatchObject({ step: "second_factor" });
    // A wrong check letter is not a DNI/NIE at all: said so, after the same work as any other try,
    // and counted like one (issue 21: malformed identifiers must not be a way round the lock).
    const wrongLetter = await pro.refused((await pro.started({ kind: "login", level: 1 })).id, "identify", { identifier: "X1234567A", password: PASSWORD });
    expect(wrongLetter).toMatchObject({ field: "identifier", code: "invalid_identifier" });
    expect(wrongLetter.message).toMatch(/DNI o NIE|DNI or NIE/);
    expect(await t.store.repos.throttles.get(["id:pro:x1234567a"])).toMatchObject([{ failures: 1 }]);

    const uni = flowClient(t.app, "university");
    const uniFlow = await uni.started({ kind: "login", level: 1 });
    // Two factors are mandatory at the university (seed 001): the password leads to activating one.
    expect(await uni.ok(uniFlow.id, "identify", { identifier: "10000042", password: PASSWORD })).toMatchObject({ step: "activate_2fa", notice: { code: "login.activate_2fa.needed" } });
    expect((await uni.refused((await uni.started({ kind: "login", level: 1 })).id, "identify", { identifier: "s42", password: PASSWORD })).code).toBe(
      "invalid_identifier",
    );
  });

  it("answers an unknown identifier exactly as a wrong password", async () => {
    t = await testApp();
    await member(t, "national", { identifier: "bruno@example.it" });
    const api = flowClient(t.app, "national");
    const wrongPassword = await api.submit((await api.started({ kind: "login", level: 1 })).id, "identify", { identifier: "bruno@example.it", password: "Not-The-One-2026!" });
    const unknown = await api.submit((await api.started({ kind: "login", level: 1 })).id, "identify", { identifier: "nobody@example.it", password: "Not-The-One-2026!" });
    expect(wrongPassword.status).toBe(400);
    expect(unknown.status).toBe(wrongPassword.status);
    expect(wrongPassword.body.errors).toEqual([{ field: "password", code: "invalid_credentials", message: "Identificativo o password non corretti." }]);
    expect(comparable(unknown.body)).toBe(comparable(wrongPassword.body));
    // Both flows stay where they were, ready for another try.
    expect(unknown.body.step ?? "identify").toBe("identify");
  });

  it.each<[AccountState, string, RegExp]>([
    ["unconfirmed", "unconfirmed", /conferma|confirm/i],
    ["awaiting_proofing", "awaiting_proofing", /verificata|verified/i],
    ["suspended", "suspended", /sospesa|suspended/i],
    ["revoked", "revoked", /revocata|revoked/i],
  ])("tells a %s identity why, once the password is right", async (state, code, message) => {
    t = await testApp();
    const { tenant, account } = await member(t, "national", { identifier: `${state}@example.it`, state });
    const api = flowClient(t.app, "national");
    const right = await api.refused((await api.started({ kind: "login", level: 1 })).id, "identify", { identifier: `${state}@example.it`, password: PASSWORD });
    expect(right.code).toBe(code);
    expect(right.message).toMatch(message);
    // With a wrong password the state is not told: it would reveal that the identifier exists.
    const wrong = await api.refused((await api.started({ kind: "login", level: 1 })).id, "identify", { identifier: `${state}@example.it`, password: "Wrong-Password-99" });
    expect(wrong.code).toBe("invalid_credentials");
    expect(await listSessions(t.deps, tenant, account)).toEqual([]);
  });

  it("locks an identifier after repeated failures, known or not, and the lock holds even for the right password", async () => {
    t = await testApp();
    await member(t, "national", { identifier: "carla@example.it" });
    const api = flowClient(t.app, "national");
    for (const identifier of ["carla@example.it", "ghost@example.it"]) {
      for (let i = 0; i < 5; i++) {
        expect((await api.refused((await api.started({ kind: "login", level: 1 })).id, "identify", { identifier, password: `Wrong-${i}-Password` })).code).toBe("invalid_credentials");
        t.clock.advance(60_000); // past the growing delay between attempts
      }
      const locked = await api.refused((await api.started({ kind: "login", level: 1 })).id, "identify", { identifier, password: PASSWORD });
      expect(locked.code).toBe("locked");
      expect(locked.message).toMatch(/Riprova tra 1[45] minuti/);
    }
    // Once the lock has run out, the right password works again.
    t.clock.advance(16 * 60_000);
    const flow = await api.started({ kind: "login", level: 1 });
    expect((await api.ok(flow.id, "identify", { identifier: "carla@example.it", password: PASSWORD })).state).toBe("complete");
  });

  it("makes a quick second try wait (the delay doubles with each failure)", async () => {
    t = await testApp();
    await member(t, "national", { identifier: "dario@example.it" });
    const api = flowClient(t.app, "national");
    await api.refused((await api.started({ kind: "login", level: 1 })).id, "identify", { identifier: "dario@example.it", password: "Wrong-Password-1" });
    await api.refused((await api.started({ kind: "login", level: 1 })).id, "identify", { identifier: "dario@example.it", password: "Wrong-Password-2" });
    const soon = await api.refused((await api.started({ kind: "login", level: 1 })).id, "identify", { identifier: "dario@example.it", password: PASSWORD });
    expect(soon.code).toBe("locked");
    t.clock.advance(2_000);
    expect((await api.ok((await api.started({ kind: "login", level: 1 })).id, "identify", { identifier: "dario@example.it", password: PASSWORD })).state).toBe("complete");
  });
});

describe("login API, expired password", () => {
  it("asks for a new password under the full policy before anything else, then signs in", async () => {
    t = await testApp();
    const { account } = await member(t, "national", { identifier: "elena@example.it", givenName: "Elena", familyName: "Conti" });
    t.clock.advance(181 * DAY);
    const api = flowClient(t.app, "national");
    const flow = await api.started({ kind: "login", level: 1 });
    const change = await api.ok(flow.id, "identify", { identifier: "elena@example.it", password: PASSWORD });
    expect(change).toMatchObject({ state: "active", step: "password_change", notice: { code: "password_expired" } });
    expect(change).not.toHaveProperty("session");

    // The same password again, a short one, one with the holder's name: each refused with its rule.
    expect((await api.refused(flow.id, "password_change", { password: PASSWORD })).code).toBe("password.reused");
    const weak = await api.submit(flow.id, "password_change", { password: "elena" });
    expect(weak.status).toBe(400);
    expect(weak.body.errors!.map((e) => e.code)).toContain("password.min_length");
    expect((await api.refused(flow.id, "password_change", { password: "Conti-Elena-2026!" })).code).toBe("password.personal_data");

    const done = await api.ok(flow.id, "password_change", { password: "Nuova-Chiave-Sicura-88" });
    expect(done).toMatchObject({ state: "complete", session: { level: 1 } });
    const old = flowClient(t.app, "national");
    expect((await old.refused((await old.started({ kind: "login", level: 1 })).id, "identify", { identifier: "elena@example.it", password: PASSWORD })).code).toBe(
      "invalid_credentials",
    );
    expect((await t.store.repos.accounts.password(account.id))!.set_at).toBe(t.clock.now());
  });

  it("cannot skip the new password to reach the second factor or a session", async () => {
    t = await testApp();
    await member(t, "national", { identifier: "fabio@example.it", phone: "+393331110001", phoneVerified: true });
    t.clock.advance(181 * DAY);
    const api = flowClient(t.app, "national");
    const flow = await api.started({ kind: "login", level: 2 });
    await api.ok(flow.id, "identify", { identifier: "fabio@example.it", password: PASSWORD });
    const skip = await api.submit(flow.id, "second_factor", { method: "sms", send: true });
    expect(skip.status).toBe(409);
    expect(skip.body).toMatchObject({ error: "wrong_step", step: "password_change" });
    const next = await api.ok(flow.id, "password_change", { password: "Nuova-Chiave-Sicura-88" });
    expect(next.step).toBe("second_factor");
  });
});

describe("login API, level 2", () => {
  it("asks for the second factor, sends an SMS code on request, and refuses a wrong one with the tries left", async () => {
    t = await testApp();
    const { tenant } = await member(t, "national", { identifier: "gina@example.it", phone: "+393331110002", phoneVerified: true });
    const api = flowClient(t.app, "national");
    const flow = await api.started({ kind: "login", level: 2 });
    const second = await api.ok(flow.id, "identify", { identifier: "gina@example.it", password: PASSWORD });
    expect(second.step).toBe("second_factor");
    expect(second.fields.find((f) => f.name === "method")!.options!.map((o) => o.value)).toEqual(["sms"]);

    const sent = await api.ok(flow.id, "second_factor", { method: "sms", send: true });
    expect(sent.notice).toMatchObject({ code: "login.sms_sent" });
    expect(sent.notice!.message).toContain("+39******002");
    expect(sent.notice!.message).not.toContain("3331110002");
    const code = await lastCodeTo(t, "+393331110002");

    const wrong = await api.refused(flow.id, "second_factor", { method: "sms", code: code === "000000" ? "111111" : "000000" });
    expect(wrong).toMatchObject({ field: "code", code: "invalid_code" });
    expect(wrong.message).toMatch(/4/);
    // A method the account does not have is refused, not silently accepted.
    expect((await api.refused(flow.id, "second_factor", { method: "totp", code: "123456" })).code).toBe("method_unavailable");

    const done = await api.ok(flow.id, "second_factor", { method: "sms", code });
    expect(done).toMatchObject({ state: "complete", session: { level: 2, acr: "https://www.spid.gov.it/SpidL2" } });
    expect(done.session!.amr).toEqual(expect.arrayContaining(["pwd", "sms", "mfa"]));
    const session = await findSession(t.deps, tenant, done.session!.token);
    expect(session?.level).toBe(2);
  });

  it("answers an expired code with code_expired, and a new one can be sent", async () => {
    t = await testApp();
    await member(t, "national", { identifier: "ivo@example.it", phone: "+393331110003", phoneVerified: true });
    const api = flowClient(t.app, "national");
    const flow = await api.started({ kind: "login", level: 2 });
    await api.ok(flow.id, "identify", { identifier: "ivo@example.it", password: PASSWORD });
    await api.ok(flow.id, "second_factor", { method: "sms", send: true });
    const stale = await lastCodeTo(t, "+393331110003");
    t.clock.advance(301_000);
    expect(await api.refused(flow.id, "second_factor", { method: "sms", code: stale })).toMatchObject({ code: "code_expired" });
    await api.ok(flow.id, "second_factor", { method: "sms", send: true });
    const fresh = await lastCodeTo(t, "+393331110003");
    expect((await api.ok(flow.id, "second_factor", { method: "sms", code: fresh })).session!.level).toBe(2);
  });

  it("keeps 'send again' under the code throttle", async () => {
    t = await testApp();
    await member(t, "national", { identifier: "lia@example.it", phone: "+393331110004", phoneVerified: true });
    const api = flowClient(t.app, "national");
    const flow = await api.started({ kind: "login", level: 2 });
    await api.ok(flow.id, "identify", { identifier: "lia@example.it", password: PASSWORD });
    await api.ok(flow.id, "second_factor", { method: "sms", send: true });
    const tooSoon = await api.refused(flow.id, "second_factor", { method: "sms", send: true });
    expect(tooSoon.code).toBe("code_throttled");
    expect(await t.store.repos.outbox.list("national", { recipient: "+393331110004", limit: 10 })).toHaveLength(1);
  });

  it("takes an authenticator app code once (a replay is refused), and a recovery code once", async () => {
    t = await testApp();
    const { tenant, account } = await member(t, "university", { identifier: "10000043" });
    const enrolment = await beginTotpEnrolment(t.deps, tenant, account);
    const totp = new TOTP({ secret: Secret.fromBase32(enrolment.secret) });
    expect((await confirmTotpEnrolment(t.deps, tenant, account, enrolment.factorId, totp.generate({ timestamp: t.clock.now() }), { actor: "test" })).ok).toBe(true);
    const [recovery] = await generateRecoveryCodes(t.deps, tenant, account, { actor: "test" });

    t.clock.advance(30_000);
    const api = flowClient(t.app, "university");
    const flow = await api.started({ kind: "login", level: 2 });
    const second = await api.ok(flow.id, "identify", { identifier: "10000043", password: PASSWORD });
    expect(second.fields.find((f) => f.name === "method")!.options!.map((o) => o.value)).toEqual(["totp", "recovery_code"]);
    const code = totp.generate({ timestamp: t.clock.now() });
    expect((await api.ok(flow.id, "second_factor", { method: "totp", code })).session!.amr).toEqual(expect.arrayContaining(["otp", "mfa"]));

    const replay = await api.started({ kind: "login", level: 2 });
    await api.ok(replay.id, "identify", { identifier: "10000043", password: PASSWORD });
    expect((await api.refused(replay.id, "second_factor", { method: "totp", code })).code).toBe("invalid_code");
    t.clock.advance(2_000); // the failure delays the next guess by a second
    expect((await api.ok(replay.id, "second_factor", { method: "recovery_code", code: recovery })).state).toBe("complete");

    const reuse = await api.started({ kind: "login", level: 2 });
    await api.ok(reuse.id, "identify", { identifier: "10000043", password: PASSWORD });
    expect((await api.refused(reuse.id, "second_factor", { method: "recovery_code", code: recovery })).code).toBe("invalid_code");
  });

  it("locks guessing at authenticator codes like passwords", async () => {
    t = await testApp();
    const { tenant, account } = await member(t, "university", { identifier: "10000044" });
    const enrolment = await beginTotpEnrolment(t.deps, tenant, account);
    const totp = new TOTP({ secret: Secret.fromBase32(enrolment.secret) });
    await confirmTotpEnrolment(t.deps, tenant, account, enrolment.factorId, totp.generate({ timestamp: t.clock.now() }), { actor: "test" });
    const api = flowClient(t.app, "university");
    const flow = await api.started({ kind: "login", level: 2 });
    await api.ok(flow.id, "identify", { identifier: "10000044", password: PASSWORD });
    for (let i = 0; i < 5; i++) {
      expect((await api.refused(flow.id, "second_factor", { method: "totp", code: String(100000 + i) })).code).toBe("invalid_code");
      t.clock.advance(60_000);
    }
    expect((await api.refused(flow.id, "second_factor", { method: "totp", code: totp.generate({ timestamp: t.clock.now() }) })).code).toBe("locked");
  });

  it("refuses level 2 to an account without any second factor", async () => {
    t = await testApp();
    await member(t, "pro", { identifier: "87654321X" });
    const api = flowClient(t.app, "pro");
    const flow = await api.started({ kind: "login", level: 2 });
    expect((await api.refused(flow.id, "identify", { identifier: "87654321X", password: PASSWORD })).code).toBe("no_second_factor");
  });

  it("signs in by e-mail code where the tenant offers it (pro)", async () => {
    t = await testApp();
    await member(t, "pro", { identifier: "87654321X", email: "jon@example.eus", emailVerified: true });
    const api = flowClient(t.app, "pro");
    const flow = await api.started({ kind: "login", level: 2 });
    const second = await api.ok(flow.id, "identify", { identifier: "87654321X", password: PASSWORD });
    expect(second.fields.find((f) => f.name === "method")!.options!.map((o) => o.value)).toContain("email");
    await api.ok(flow.id, "second_factor", { method: "email", send: true });
    const code = await lastCodeTo(t, "jon@example.eus", "pro");
    expect((await api.ok(flow.id, "second_factor", { method: "email", code })).session!.level).toBe(2);
  });
});

describe("login API under overload", () => {
  it("answers 503 with Retry-After when the password hash would wait too long, and counts no failed attempt for it", async () => {
    t = await testApp();
    // Different people (parallel tries for one identifier would rightly wait for each other).
    const people = Array.from({ length: 24 }, (_, i) => `person${i}@example.it`);
    for (const p of people) await member(t, "national", { identifier: p, email: p, emailVerified: true });
    const api = flowClient(t.app, "national");
    // One sign-in first: the lanes learn how long a hash takes, which the limit is reckoned in.
    await api.ok((await api.started({ kind: "login", level: 1 })).id, "identify", { identifier: people[0]!, password: PASSWORD });
    const flows = await Promise.all(people.map(() => api.started({ kind: "login", level: 1 })));
    hashingPool.limitWait(1);
    let answers;
    try {
      answers = await Promise.all(
        flows.map((flow, i) => t.app.inject({ method: "POST", url: `/t/national/api/flows/${flow.id}`, payload: { step: "identify", identifier: people[i], password: PASSWORD } })),
      );
    } finally {
      hashingPool.limitWait(0);
    }
    const refused = answers.filter((a) => a.statusCode === 503);
    expect(refused.length).toBeGreaterThan(0);
    expect(answers.filter((a) => a.statusCode !== 503).every((a) => a.statusCode === 200 && a.json<{ state: string }>().state === "complete")).toBe(true);
    for (const a of refused) {
      expect(a.headers["retry-after"]).toBe("1");
      expect(a.json()).toMatchObject({ error: "temporarily_unavailable" });
    }
    // The refused were never tried: neither the address nor any identifier carries a failure.
    const counters = await t.services.attempts.counters(["ip:national:127.0.0.1", ...people.map((p) => `id:national:${p}`)]);
    expect(counters.map((c) => c?.failures ?? 0)).toEqual(Array(25).fill(0));
    // And a refused sign-in can simply be sent again.
    const i = answers.indexOf(refused[0]!);
    expect(await api.ok(flows[i]!.id, "identify", { identifier: people[i]!, password: PASSWORD })).toMatchObject({ state: "complete" });
  });
});
