import { afterEach, describe, expect, it } from "vitest";
import { type IdentityFixture, identityFixture } from "../../test/helpers/identity.ts";
import { dialects } from "../../test/helpers/stores.ts";
import { openBody } from "../messaging/outbox.ts";
import { issueOtp, verifyOtp } from "./otp.ts";

const SECOND = 1000;
const MINUTE = 60 * SECOND;

describe.each(dialects)("one-time codes on %s", (dialect) => {
  let f: IdentityFixture;
  afterEach(async () => {
    await f?.store.close();
  });

  const send = (purpose = "flow:1:mobile_confirmation", destination = "+393331234567") =>
    issueOtp(f.deps, f.tenant, { purpose, channel: "sms", destination, locale: "it" });

  /** The code, as the user reads it in the message that was queued. */
  async function lastCode(): Promise<string> {
    const [message] = await f.store.repos.outbox.list(f.tenant.id, { limit: 1 });
    const text = openBody(f.deps.secrets, message!.id, message!.body!).text;
    return /\b(\d{6})\b/.exec(text)![1]!;
  }

  it("sends a 6-digit code by SMS in the user's language, stores only a MAC of it, and accepts it once", async () => {
    f = await identityFixture(dialect);
    expect(await send()).toMatchObject({ ok: true, expiresAt: f.clock.now() + 5 * MINUTE, resendAt: f.clock.now() + MINUTE });
    const code = await lastCode();
    const [message] = await f.store.repos.outbox.list(f.tenant.id, { limit: 1 });
    expect(message).toMatchObject({ channel: "sms", recipient: "+393331234567", status: "pending" });
    expect(openBody(f.deps.secrets, message!.id, message!.body!).text).toBe(
      `Tessera ID: il tuo codice di verifica è ${code}. Scade tra 5 minuti. Non comunicarlo a nessuno.`,
    );
    const stored = await f.store.repos.otp.latest(f.tenant.id, "flow:1:mobile_confirmation");
    expect(JSON.stringify(stored)).not.toContain(code);
    expect(message!.body).not.toContain(code);

    expect(await verifyOtp(f.deps, f.tenant, "flow:1:mobile_confirmation", code)).toEqual({
      ok: true,
      destination: "+393331234567",
      channel: "sms",
    });
    expect(await verifyOtp(f.deps, f.tenant, "flow:1:mobile_confirmation", code)).toMatchObject({ ok: false, reason: "otp.used" });
  });

  it("binds a code to its purpose", async () => {
    f = await identityFixture(dialect);
    await send("flow:1:mobile_confirmation");
    const code = await lastCode();
    expect(await verifyOtp(f.deps, f.tenant, "flow:2:mobile_confirmation", code)).toMatchObject({ reason: "otp.missing" });
    expect(await verifyOtp(f.deps, f.tenant, "flow:1:mobile_confirmation", code)).toMatchObject({ ok: true });
  });

  it("is valid at 4:59 and expired at 5:01", async () => {
    f = await identityFixture(dialect);
    await send("a");
    const a = await lastCode();
    f.clock.advance(5 * MINUTE - SECOND);
    expect(await verifyOtp(f.deps, f.tenant, "a", a)).toMatchObject({ ok: true });

    await send("b");
    const b = await lastCode();
    f.clock.advance(5 * MINUTE + SECOND);
    expect(await verifyOtp(f.deps, f.tenant, "b", b)).toEqual({ ok: false, reason: "otp.expired", params: {} });
  });

  it("counts wrong attempts: the 5th attempt can still succeed, the 6th cannot", async () => {
    f = await identityFixture(dialect);
    await send("a");
    const a = await lastCode();
    const wrong = a === "000000" ? "111111" : "000000";
    for (let i = 1; i <= 4; i++) {
      expect(await verifyOtp(f.deps, f.tenant, "a", wrong)).toEqual({ ok: false, reason: "otp.invalid", params: { remaining: 5 - i } });
    }
    expect(await verifyOtp(f.deps, f.tenant, "a", a)).toMatchObject({ ok: true });

    f.clock.advance(MINUTE);
    await send("b");
    const b = await lastCode();
    for (let i = 1; i <= 4; i++) await verifyOtp(f.deps, f.tenant, "b", wrong);
    expect(await verifyOtp(f.deps, f.tenant, "b", wrong)).toEqual({ ok: false, reason: "otp.exhausted", params: {} });
    expect(await verifyOtp(f.deps, f.tenant, "b", b)).toEqual({ ok: false, reason: "otp.exhausted", params: {} });
  });

  it("counts every one of many parallel guesses: no more than 5 are ever compared", async () => {
    f = await identityFixture(dialect);
    await send("a");
    const a = await lastCode();
    const wrong = a === "000000" ? "111111" : "000000";
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => verifyOtp(f.deps, f.tenant, "a", wrong)));
    expect(outcomes.filter((o) => !o.ok && o.reason === "otp.invalid").length).toBe(4);
    expect(outcomes.filter((o) => !o.ok && o.reason === "otp.exhausted").length).toBe(16);
    expect(await verifyOtp(f.deps, f.tenant, "a", a)).toMatchObject({ ok: false, reason: "otp.exhausted" });
  });

  it("sends one code when many requests for the same purpose arrive at once", async () => {
    f = await identityFixture(dialect);
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => send("a")));
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    expect(await f.store.repos.outbox.list(f.tenant.id, { limit: 20 })).toHaveLength(1);
  });

  it("says when no code was sent", async () => {
    f = await identityFixture(dialect);
    expect(await verifyOtp(f.deps, f.tenant, "nothing", "123456")).toEqual({ ok: false, reason: "otp.missing", params: {} });
  });

  it("lets a new code replace the previous one", async () => {
    f = await identityFixture(dialect);
    await send("a");
    const first = await lastCode();
    f.clock.advance(MINUTE);
    await send("a");
    const second = await lastCode();
    if (first !== second) expect(await verifyOtp(f.deps, f.tenant, "a", first)).toMatchObject({ reason: "otp.invalid" });
    expect(await verifyOtp(f.deps, f.tenant, "a", second)).toMatchObject({ ok: true });
  });

  it("throttles resends: not before 60 s, at most 5 an hour per purpose", async () => {
    f = await identityFixture(dialect);
    expect(await send("a")).toMatchObject({ ok: true });
    f.clock.advance(59 * SECOND);
    expect(await send("a")).toEqual({ ok: false, reason: "otp.resend_too_soon", params: { seconds: 1 } });
    f.clock.advance(SECOND);
    expect(await send("a")).toMatchObject({ ok: true });
    for (let i = 3; i <= 5; i++) {
      f.clock.advance(MINUTE);
      expect(await send("a")).toMatchObject({ ok: true });
    }
    f.clock.advance(MINUTE);
    expect(await send("a")).toEqual({ ok: false, reason: "otp.too_many", params: { minutes: 60 } });
    // An hour after the first send, one more is allowed.
    f.clock.advance(56 * MINUTE);
    expect(await send("a")).toMatchObject({ ok: true });
  });

  it("limits sends to one destination across purposes (10 an hour)", async () => {
    f = await identityFixture(dialect);
    for (let i = 1; i <= 10; i++) expect(await send(`purpose-${i}`)).toMatchObject({ ok: true });
    expect(await send("purpose-11")).toMatchObject({ ok: false, reason: "otp.too_many" });
    expect(await send("purpose-11", "+393339999999")).toMatchObject({ ok: true });
  });

  it("counts a destination's codes per kind: a professional's signing codes leave the sign-in codes of the hour", async () => {
    f = await identityFixture(dialect);
    const signing = (i: number) => issueOtp(f.deps, f.tenant, { purpose: `csc:credential-${i}`, channel: "sms", destination: "+34600000001", locale: "es", perHour: 12 });
    for (let i = 1; i <= 12; i++) expect(await signing(i)).toMatchObject({ ok: true });
    expect(await signing(13)).toMatchObject({ ok: false, reason: "otp.too_many" });
    expect(await send("flow:9:second_factor:sms", "+34600000001")).toMatchObject({ ok: true });
    f.clock.advance(SECOND);
    // A used code lets the next of its purpose go at once; an unused one waits its 60 s.
    expect(await send("flow:7:second_factor:sms")).toMatchObject({ ok: true });
    expect(await send("flow:7:second_factor:sms")).toMatchObject({ ok: false, reason: "otp.resend_too_soon" });
    expect(await verifyOtp(f.deps, f.tenant, "flow:7:second_factor:sms", await lastCode())).toMatchObject({ ok: true });
    expect(await send("flow:7:second_factor:sms")).toMatchObject({ ok: true });
  });

  it("sends by e-mail with a subject, text and HTML", async () => {
    f = await identityFixture(dialect);
    await issueOtp(f.deps, f.tenant, { purpose: "p", channel: "email", destination: "mario@example.it", locale: "en" });
    const [message] = await f.store.repos.outbox.list(f.tenant.id, { limit: 1 });
    const body = openBody(f.deps.secrets, message!.id, message!.body!);
    expect(body.subject).toBe("Tessera ID: your verification code");
    expect(body.text).toMatch(/^Your verification code is \d{6}\n\nIt expires in 5 minutes\./);
    expect(body.html).toMatch(/<p>Your verification code is \d{6}<\/p>/);
  });
});
