import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { issueOtp } from "../../src/identity/otp.ts";
import { enqueueMessage } from "../../src/messaging/outbox.ts";
import { httpSmsTransport, SmsGatewayConfig, smtpTransport, type Transports } from "../../src/messaging/transports.ts";
import { deliverDue } from "../../src/messaging/worker.ts";
import { openStore } from "../../src/store/db.ts";
import { type IdentityFixture, identityFixture } from "../helpers/identity.ts";
import { startSmtpServer, type TestSmtpServer } from "../helpers/mail.ts";
import { startSmsGateway, type TestSmsGateway } from "../helpers/sms-gateway.ts";
import { dialects, freshPgSchemaUrl } from "../helpers/stores.ts";

let smtp: TestSmtpServer;
let sms: TestSmsGateway;
let transports: Transports;
beforeEach(async () => {
  smtp = await startSmtpServer();
  sms = await startSmsGateway();
  transports = {
    email: smtpTransport({ url: smtp.url, from: "Tessera ID <no-reply@tessera.example>" }),
    sms: httpSmsTransport(SmsGatewayConfig.parse({ url: sms.url, headers: { authorization: "Bearer gateway-key" }, from: "TesseraID" })),
  };
});
afterEach(async () => {
  transports.email?.close();
  await smtp.stop().catch(() => {});
  await sms.stop().catch(() => {});
});

const live = { devMode: false };

describe.each(dialects)("message delivery on %s", (dialect) => {
  let f: IdentityFixture;
  afterEach(async () => {
    await f?.store.close();
  });

  const queueOtp = (channel: "sms" | "email", destination: string, purpose = `p-${Math.random()}`) =>
    issueOtp(f.deps, f.tenant, { purpose, channel, destination, locale: "it" });

  it("sends e-mail over SMTP with authentication, then drops the stored text", async () => {
    f = await identityFixture(dialect);
    await queueOtp("email", "mario.rossi@example.it");
    expect(await deliverDue(f.deps, transports, live)).toBe(1);
    const [mail] = await smtp.waitFor(1);
    expect(mail!.from?.text).toBe('"Tessera ID" <no-reply@tessera.example>');
    expect(mail!.to && !Array.isArray(mail!.to) ? mail!.to.text : "").toBe("mario.rossi@example.it");
    expect(mail!.subject).toBe("Tessera ID: il tuo codice di verifica");
    expect(mail!.text).toMatch(/^Il tuo codice di verifica è \d{6}\n/);
    expect(mail!.html).toMatch(/<p>Il tuo codice di verifica è \d{6}<\/p>/);
    const [row] = await f.store.repos.outbox.list(f.tenant.id, { limit: 1 });
    expect(row).toMatchObject({ status: "sent", attempts: 1, body: null, last_error: null });
    // Named after the message, so that a resend after a lost answer is recognisably the same.
    expect(mail!.messageId).toBe(`<${row!.id}@tessera.example>`);
  });

  it("sends SMS through the HTTP gateway as JSON with the configured headers", async () => {
    f = await identityFixture(dialect);
    await queueOtp("sms", "+393331234567");
    expect(await deliverDue(f.deps, transports, live)).toBe(1);
    const [request] = await sms.waitFor(1);
    expect(request).toMatchObject({ method: "POST", url: "/sms" });
    expect(request!.headers["content-type"]).toBe("application/json");
    expect(request!.headers.authorization).toBe("Bearer gateway-key");
    expect(JSON.parse(request!.body)).toEqual({
      to: "+393331234567",
      from: "TesseraID",
      text: expect.stringMatching(/^Tessera ID: il tuo codice di verifica è \d{6}\. Scade tra 5 minuti\./),
    });
  });

  it("keeps everything through an SMTP and SMS gateway outage and delivers once they are back", async () => {
    f = await identityFixture(dialect);
    await smtp.stop();
    sms.status = 503;
    await queueOtp("email", "mario.rossi@example.it");
    await queueOtp("sms", "+393331234567");

    expect(await deliverDue(f.deps, transports, live)).toBe(0);
    const failed = await f.store.repos.outbox.list(f.tenant.id, { limit: 10 });
    expect(failed.map((m) => m.status)).toEqual(["pending", "pending"]);
    for (const m of failed) {
      expect(m.attempts).toBe(1);
      expect(m.next_attempt_at).toBe(f.clock.now() + 5000);
      expect(m.last_error).toMatch(/ECONNREFUSED|SMS gateway answered 503/);
    }
    // Back-off: nothing is retried before it is due.
    f.clock.advance(4999);
    expect(await deliverDue(f.deps, transports, live)).toBe(0);
    expect(smtp.messages).toHaveLength(0);

    // Still down at the retry: the wait doubles.
    f.clock.advance(1);
    expect(await deliverDue(f.deps, transports, live)).toBe(0);
    expect((await f.store.repos.outbox.list(f.tenant.id, { limit: 10 }))[0]!.next_attempt_at).toBe(f.clock.now() + 10_000);

    await smtp.start();
    sms.status = 200;
    f.clock.advance(10_000);
    expect(await deliverDue(f.deps, transports, live)).toBe(2);
    await smtp.waitFor(1);
    await sms.waitFor(1);
    expect(await deliverDue(f.deps, transports, live)).toBe(0);
    expect(smtp.messages).toHaveLength(1);
    expect(sms.received).toHaveLength(1);
  });

  it("gives up on a message still failing a day after it was queued", async () => {
    f = await identityFixture(dialect);
    sms.status = 500;
    // A message without an expiry of its own (a one-time code would expire first).
    await enqueueMessage(f.deps, { tenant: f.tenant, channel: "sms", to: "+393331234567", template: "otp", locale: "it", params: { code: "123456", minutes: 5 } });
    await deliverDue(f.deps, transports, live);
    f.clock.advance(86_400_001);
    await deliverDue(f.deps, transports, live);
    expect((await f.store.repos.outbox.list(f.tenant.id, { limit: 1 }))[0]).toMatchObject({ status: "failed" });
  });

  it("does not send a code that has expired while it waited", async () => {
    f = await identityFixture(dialect);
    sms.status = 503;
    await queueOtp("sms", "+393331234567");
    await deliverDue(f.deps, transports, live);
    sms.status = 200;
    f.clock.advance(5 * 60_000);
    expect(await deliverDue(f.deps, transports, live)).toBe(0);
    expect((await f.store.repos.outbox.list(f.tenant.id, { limit: 1 }))[0]).toMatchObject({ status: "expired", body: null });
    expect(sms.received).toEqual([]);
  });

  it("lets a node whose lease ran out record nothing over the node that took the message over", async () => {
    f = await identityFixture(dialect);
    await queueOtp("email", "a@example.it");
    const [claimedByA] = await f.store.repos.outbox.claimDue(f.clock.now(), 1000, 1);
    f.clock.advance(1001);
    const [claimedByB] = await f.store.repos.outbox.claimDue(f.clock.now(), 1000, 1);
    expect(claimedByB!.id).toBe(claimedByA!.id);
    expect(await f.store.repos.outbox.settle(claimedByB!, { status: "sent", at: f.clock.now(), keepBody: false })).toBe(true);
    expect(await f.store.repos.outbox.settle(claimedByA!, { status: "pending", nextAttemptAt: 0, error: "late" })).toBe(false);
    expect((await f.store.repos.outbox.list(f.tenant.id, { limit: 1 }))[0]).toMatchObject({ status: "sent", last_error: null });
  });

  it("queues nothing when the action's transaction rolls back", async () => {
    f = await identityFixture(dialect);
    await expect(
      f.store.transaction(async (repos) => {
        await issueOtp({ ...f.deps, repos }, f.tenant, { purpose: "p", channel: "sms", destination: "+393331234567", locale: "it" });
        throw new Error("the step failed");
      }),
    ).rejects.toThrow();
    expect(await f.store.repos.outbox.list(f.tenant.id, { limit: 10 })).toEqual([]);
    expect(await f.store.repos.otp.latest(f.tenant.id, "p")).toBeUndefined();
  });

  it("queues a message with a dedupe key once", async () => {
    f = await identityFixture(dialect);
    const message = { tenant: f.tenant, channel: "email" as const, to: "a@example.it", template: "otp" as const, locale: "en" as const, params: { code: "1", minutes: 5 }, dedupeKey: "k" };
    expect(await enqueueMessage(f.deps, message)).toBe(true);
    expect(await enqueueMessage(f.deps, message)).toBe(false);
  });

  it("in development mode, counts a message with no transport as delivered and keeps its text", async () => {
    f = await identityFixture(dialect);
    await queueOtp("sms", "+393331234567");
    expect(await deliverDue(f.deps, {}, { devMode: true })).toBe(1);
    const [row] = await f.store.repos.outbox.list(f.tenant.id, { limit: 1 });
    expect(row!.status).toBe("sent");
    expect(row!.body).not.toBeNull();
  });

  it("outside development mode, keeps a message with no transport waiting", async () => {
    f = await identityFixture(dialect);
    await queueOtp("sms", "+393331234567");
    expect(await deliverDue(f.deps, {}, live)).toBe(0);
    expect((await f.store.repos.outbox.list(f.tenant.id, { limit: 1 }))[0]).toMatchObject({
      status: "pending",
      last_error: "no SMS transport is configured",
    });
  });

  it("uses the tenant's own text where it has one", async () => {
    f = await identityFixture(dialect, {
      id: "custom",
      displayName: "Custom ID",
      locales: ["it"],
      policy: { messages: { it: { "sms.otp": "Codice {code} per {tenant}" } } },
    });
    await queueOtp("sms", "+393331234567");
    await deliverDue(f.deps, transports, live);
    await sms.waitFor(1);
    expect(sms.textsTo("+393331234567")[0]).toMatch(/^Codice \d{6} per Custom ID$/);
  });
});

describe("several nodes delivering one outbox", () => {
  it.each(dialects)("send each message exactly once (%s)", async (dialect) => {
    const url = dialect === "postgres" ? await freshPgSchemaUrl() : `sqlite:${path.join(mkdtempSync(path.join(tmpdir(), "tessera-outbox-")), "db.sqlite")}`;
    const f = await identityFixture(dialect);
    await f.store.close();
    // Two nodes, each with its own connection pool on the same database.
    const nodes = [openStore(url), openStore(url)];
    await nodes[0]!.migrate();
    await nodes[1]!.migrate();
    const tenant = { ...f.tenant, id: "national" };
    await nodes[0]!.repos.tenants.insertIfAbsent({
      id: "national", display_name: tenant.displayName, locales: "[\"it\"]", default_locale: "it", policy: "{}", branding: "{}", created_at: 0, updated_at: 0,
    });
    try {
      const deps = nodes.map((store) => ({ repos: store.repos, clock: f.clock, secrets: f.deps.secrets }));
      for (let i = 0; i < 30; i++) {
        await enqueueMessage(deps[0]!, { tenant, channel: "sms", to: `+3933300000${String(i).padStart(2, "0")}`, template: "otp", locale: "it", params: { code: String(i), minutes: 5 } });
      }
      const rounds = await Promise.all(
        deps.flatMap((d) => [deliverDue(d, transports, { ...live, batch: 7 }), deliverDue(d, transports, { ...live, batch: 7 })]),
      );
      let delivered = rounds.reduce((a, b) => a + b, 0);
      while (delivered < 30) delivered += await deliverDue(deps[1]!, transports, live);
      expect(delivered).toBe(30);
      await sms.waitFor(30);
      const recipients = sms.received.map((r) => (JSON.parse(r.body) as { to: string }).to);
      expect(recipients).toHaveLength(30);
      expect(new Set(recipients).size).toBe(30);
    } finally {
      await Promise.all(nodes.map((n) => n.close()));
    }
  });
});

describe("SMS gateway formats", () => {
  it("posts an HTML form when configured so, with a custom template", async () => {
    const gateway = httpSmsTransport(
      SmsGatewayConfig.parse({ url: sms.url, format: "form", body: "dest={{to}}&msg={{text}}&sender={{from}}&ref={{id}}", from: "Pro" }),
    );
    await gateway.send({ id: "m-1", to: "+34600000001", text: "Código 123456 & más" });
    const [request] = await sms.waitFor(1);
    expect(request!.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(Object.fromEntries(new URLSearchParams(request!.body))).toEqual({ dest: "+34600000001", msg: "Código 123456 & más", sender: "Pro", ref: "m-1" });
  });

  it("escapes quotes and newlines into valid JSON, and sends GET requests as a query", async () => {
    await httpSmsTransport(SmsGatewayConfig.parse({ url: sms.url })).send({ id: "m-1", to: "+39333", text: 'say "hi"\nbye' });
    await httpSmsTransport(SmsGatewayConfig.parse({ url: `${sms.url}?key=k`, method: "GET", format: "form" })).send({ id: "m-2", to: "+39333", text: "a b" });
    await sms.waitFor(2);
    expect(JSON.parse(sms.received[0]!.body)).toMatchObject({ text: 'say "hi"\nbye' });
    expect(sms.received[1]!.url).toBe("/sms?key=k&to=%2B39333&from=Tessera&text=a%20b");
  });

  it("refuses a JSON template that cannot produce JSON, and GET with JSON, at start-up", () => {
    expect(() => httpSmsTransport(SmsGatewayConfig.parse({ url: sms.url, body: '{"to": {{to}}}' }))).toThrow(SyntaxError);
    expect(SmsGatewayConfig.safeParse({ url: sms.url, method: "GET" }).success).toBe(false);
  });
});

describe("e-mail HTML", () => {
  it("escapes parameters and links only the URLs Tessera puts in", async () => {
    const { renderMessage } = await import("../../src/messaging/templates.ts");
    const f = await identityFixture("sqlite", {
      id: "links",
      displayName: "Links & Co",
      locales: ["en"],
      policy: { messages: { en: { "email.password_expiry.text": "Hi {name},\n\nsee {help_url} or {date}." } } },
    });
    const rendered = renderMessage(f.tenant, "email", "password_expiry", "en", {
      name: "<b>Eve</b> https://evil.example",
      help_url: "https://id.example.org/help?a=1&b=2",
      date: "today",
      days: 3,
    });
    expect(rendered.text).toBe("Hi <b>Eve</b> https://evil.example,\n\nsee https://id.example.org/help?a=1&b=2 or today.");
    expect(rendered.html).toContain("<p>Hi &lt;b&gt;Eve&lt;/b&gt; https://evil.example,</p>");
    expect(rendered.html).toContain('<a href="https://id.example.org/help?a=1&amp;b=2">https://id.example.org/help?a=1&amp;b=2</a>');
    expect(rendered.html).not.toContain('href="https://evil.example');
    expect(rendered.html).toContain("<title>Links &amp; Co</title>");
    await f.store.close();
  });
});
