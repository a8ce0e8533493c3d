import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { issueOtp } from "../../src/identity/otp.ts";
import { type RunningServer, startServer } from "../../src/server.ts";
import { loadSettings } from "../../src/shared/config/settings.ts";
import { findTenant } from "../../src/tenants/service.ts";
import { startSmtpServer } from "../helpers/mail.ts";
import { startSmsGateway } from "../helpers/sms-gateway.ts";

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
});

describe("the server's outbox worker", () => {
  it("delivers through the SMTP server and SMS gateway named in the settings, and not the dev outbox's way", async () => {
    const smtp = await startSmtpServer();
    const sms = await startSmsGateway();
    const dataDir = mkdtempSync(path.join(tmpdir(), "tessera-worker-"));
    const settings = loadSettings({
      flags: { port: "0", dataDir, logLevel: "warn" },
      env: {
        TESSERA_SMTP_URL: smtp.url,
        TESSERA_MAIL_FROM: "Tessera Pro <no-reply@pro.example>",
        TESSERA_SMS_GATEWAY_URL: sms.url,
        TESSERA_SMS_SENDER: "TesseraPro",
      },
      cwd: dataDir,
    });
    server = await startServer(settings, { demo: true, outboxIntervalMs: 50 });
    expect(server.devMode).toBe(true);
    const pro = (await findTenant(server.store.repos, "pro"))!;
    await issueOtp(server.deps, pro, { purpose: "a", channel: "email", destination: "worker.check@example.eus", locale: "es" });
    await issueOtp(server.deps, pro, { purpose: "b", channel: "sms", destination: "+34600000001", locale: "es" });

    // The demo's own seeding writes to its people too (a pending membership request): find ours.
    const [mail] = await smtp.waitForMailsTo("worker.check@example.eus");
    expect(mail!.subject).toBe("Tessera Pro · Profesionales en la nube: tu código de verificación");
    const [text] = (await sms.waitFor(1), sms.textsTo("+34600000001"));
    expect(text).toMatch(/tu código de verificación es \d{6}\. Caduca en 5 minutos\./);
    expect(JSON.parse(sms.received[0]!.body)).toMatchObject({ from: "TesseraPro" });

    // In development mode the text stays readable at the dev outbox too.
    const listed = (await (await fetch(`${server.baseUrl}/t/pro/dev/outbox.json?to=%2B34600000001`)).json()) as { status: string; text: string }[];
    expect(listed).toEqual([expect.objectContaining({ status: "sent", text })]);
    await smtp.stop();
    await sms.stop();
  });
});
