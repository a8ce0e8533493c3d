import { afterEach, describe, expect, it } from "vitest";
import { createSession, findSession } from "../../src/identity/sessions.ts";
import { type TestApp, testApp } from "../helpers/app.ts";
import { lastCodeTo, lastMessageTo } from "../helpers/enrolment.ts";
import { flowClient, member, PASSWORD, signInL1 } from "../helpers/flows.ts";

let t: TestApp;
afterEach(async () => {
  await t?.app.close();
  await t?.store.close();
});

const NEW_PASSWORD = "Ritrovata-Chiave-2026!";
const comparable = (body: object) => JSON.stringify(body, (key, value: unknown) => (key === "id" || key === "expires_at" ? undefined : value));

describe("password recovery, security question + SMS (national)", () => {
  it("resets the password after the answer and the SMS code, ends every session and tells the holder", async () => {
    t = await testApp();
    const { tenant, account } = await member(
      t,
      "national",
      { identifier: "marta@example.it", email: "marta@example.it", emailVerified: true, phone: "+393331112001", phoneVerified: true },
      { answer: { question: "first_pet", answer: "Fuffi" } },
    );
    const { token } = await createSession(t.deps, tenant, account, { level: 1, amr: ["pwd"] }, { actor: "test" });
    const api = flowClient(t.app, "national");
    const flow = await api.started({ kind: "recovery" });
    expect(flow.step).toBe("identify");

    const question = await api.ok(flow.id, "identify", { identifier: "marta@example.it" });
    expect(question.step).toBe("question");
    expect(question.fields).toMatchObject([{ name: "answer", label: "Come si chiamava il tuo primo animale domestico?" }]);

    expect((await api.refused(flow.id, "question", { answer: "Rex" })).code).toBe("wrong_answer");
    t.clock.advance(5_000);
    // Answers are compared without regard to case, accents or spacing.
    const code = await api.ok(flow.id, "question", { answer: "  fuffi " });
    expect(code).toMatchObject({ step: "code", notice: { code: "login.sms_sent" } });
    const sms = await lastCodeTo(t, "+393331112001");

    expect((await api.refused(flow.id, "code", { code: sms === "000000" ? "111111" : "000000" })).code).toBe("invalid_code");
    expect((await api.ok(flow.id, "code", { code: sms })).step).toBe("new_password");
    // The new password is under the full policy: the old one is refused.
    expect((await api.refused(flow.id, "new_password", { password: PASSWORD })).code).toBe("password.reused");
    const done = await api.ok(flow.id, "new_password", { password: NEW_PASSWORD });
    expect(done).toMatchObject({ state: "complete", notice: { code: "recovery.done" } });

    expect(await findSession(t.deps, tenant, token)).toBeUndefined();
    const notice = await lastMessageTo(t, "marta@example.it");
    expect(notice.subject).toMatch(/password/i);
    expect(notice.text).not.toContain(NEW_PASSWORD);
    expect(await signInL1(t.app, "national", "marta@example.it", NEW_PASSWORD)).toEqual(expect.any(String));
  });

  it("shows an unknown identifier a question all the same (always the same one), and no answer opens it", async () => {
    t = await testApp();
    await member(t, "national", { identifier: "nino@example.it", phone: "+393331112002", phoneVerified: true }, { answer: { question: "primary_school", answer: "Carducci" } });
    const api = flowClient(t.app, "national");
    const known = await api.ok((await api.started({ kind: "recovery" })).id, "identify", { identifier: "nino@example.it" });
    const first = await api.ok((await api.started({ kind: "recovery" })).id, "identify", { identifier: "nessuno@example.it" });
    const second = await api.started({ kind: "recovery" });
    const again = await api.ok(second.id, "identify", { identifier: "Nessuno@Example.it" });
    expect(first.step).toBe(known.step);
    expect(Object.keys(first).sort()).toEqual(Object.keys(known).sort());
    expect(comparable(again)).toBe(comparable(first));
    expect(first.fields[0]!.name).toBe("answer");

    for (const answer of ["Carducci", "Fuffi", "Rossi"]) {
      expect((await api.refused(second.id, "question", { answer })).code).toBe("wrong_answer");
      t.clock.advance(60_000);
    }
    expect(await t.store.repos.outbox.list("national", { limit: 10 })).toEqual([]);
  });

  it("locks the answers after repeated failures", async () => {
    t = await testApp();
    await member(t, "national", { identifier: "olga@example.it", phone: "+393331112003", phoneVerified: true }, { answer: { question: "first_pet", answer: "Micio" } });
    const api = flowClient(t.app, "national");
    for (let i = 0; i < 5; i++) {
      const flow = await api.started({ kind: "recovery" });
      await api.ok(flow.id, "identify", { identifier: "olga@example.it" });
      expect((await api.refused(flow.id, "question", { answer: `Wrong ${i}` })).code).toBe("wrong_answer");
      t.clock.advance(60_000);
    }
    const flow = await api.started({ kind: "recovery" });
    await api.ok(flow.id, "identify", { identifier: "olga@example.it" });
    expect((await api.refused(flow.id, "question", { answer: "Micio" })).code).toBe("locked");
  });
});

describe("password recovery, e-mail link + code (pro)", () => {
  it("sends a link, then an SMS code, then takes the new password", async () => {
    t = await testApp();
    const { tenant, account } = await member(t, "pro", {
      identifier: "11111111H",
      email: "mikel@example.eus",
      emailVerified: true,
      phone: "+34600000111",
      phoneVerified: true,
    });
    const { token } = await createSession(t.deps, tenant, account, { level: 1, amr: ["pwd"] }, { actor: "test" });
    const api = flowClient(t.app, "pro");
    const flow = await api.started({ kind: "recovery" });
    const link = await api.ok(flow.id, "identify", { identifier: "11111111h" });
    expect(link).toMatchObject({ step: "email_link", notice: { code: "recovery.link_sent" } });

    const mail = await lastMessageTo(t, "mikel@example.eus", "pro");
    const url = new URL(/https?:\/\/\S+\/recover\/\S+/.exec(mail.text)![0]);
    expect(url.pathname).toBe(`/t/pro/recover/${flow.id}/link`);
    const code = await api.ok(flow.id, "email_link", { code: url.searchParams.get("code") });
    expect(code).toMatchObject({ step: "code", notice: { code: "login.sms_sent" } });
    await api.ok(flow.id, "code", { code: await lastCodeTo(t, "+34600000111", "pro") });
    expect((await api.ok(flow.id, "new_password", { password: NEW_PASSWORD })).state).toBe("complete");
    expect(await findSession(t.deps, tenant, token)).toBeUndefined();
    // The new password is the first factor now (two are mandatory here: a code follows).
    const login = await api.started({ kind: "login", level: 1 });
    expect(await api.ok(login.id, "identify", { identifier: "11111111H", password: NEW_PASSWORD })).toMatchObject({ step: "second_factor" });
  });

  it("sends the second code by e-mail to an account without a verified mobile", async () => {
    t = await testApp();
    await member(t, "pro", { identifier: "22222222J", email: "ane@example.eus", emailVerified: true });
    const api = flowClient(t.app, "pro");
    const flow = await api.started({ kind: "recovery" });
    await api.ok(flow.id, "identify", { identifier: "22222222J" });
    const linkCode = new URL(/https?:\/\/\S+/.exec((await lastMessageTo(t, "ane@example.eus", "pro")).text)![0]).searchParams.get("code");
    t.clock.advance(5_000);
    expect((await api.ok(flow.id, "email_link", { code: linkCode })).notice!.code).toBe("login.email_sent");
    const second = await lastCodeTo(t, "ane@example.eus", "pro");
    expect(second).not.toBe(linkCode);
    expect((await api.ok(flow.id, "code", { code: second })).step).toBe("new_password");
  });

  it("answers an unknown identifier the same way and sends nothing", async () => {
    t = await testApp();
    await member(t, "pro", { identifier: "33333333P", email: "iker@example.eus", emailVerified: true });
    const api = flowClient(t.app, "pro");
    const known = await api.ok((await api.started({ kind: "recovery" })).id, "identify", { identifier: "33333333P" });
    const unknown = await api.ok((await api.started({ kind: "recovery" })).id, "identify", { identifier: "44444444A" });
    expect(comparable(unknown)).toBe(comparable(known));
    expect(await t.store.repos.outbox.list("pro", { limit: 10 })).toHaveLength(1);
  });

  it("refuses a link code that has expired", async () => {
    t = await testApp();
    await member(t, "pro", { identifier: "55555555K", email: "nerea@example.eus", emailVerified: true });
    const api = flowClient(t.app, "pro");
    const flow = await api.started({ kind: "recovery" });
    await api.ok(flow.id, "identify", { identifier: "55555555K" });
    const code = new URL(/https?:\/\/\S+/.exec((await lastMessageTo(t, "nerea@example.eus", "pro")).text)![0]).searchParams.get("code");
    // The link lasts the tenant's linkMinutes (30); the flow a little longer, to say so.
    t.clock.advance(31 * 60_000);
    expect((await api.refused(flow.id, "email_link", { code })).code).toBe("code_expired");
  });
});
