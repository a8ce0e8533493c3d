import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../src/server.ts";
import { loadSettings } from "../../src/shared/config/settings.ts";
import { browserAvailable, launchBrowser } from "../helpers/browser.ts";
import { personalData } from "../helpers/enrolment.ts";
import { startSmtpServer, type TestSmtpServer } from "../helpers/mail.ts";
import { startSmsGateway, type TestSmsGateway } from "../helpers/sms-gateway.ts";

describe.skipIf(!browserAvailable)("SPID identity request in chromium", () => {
  let server: RunningServer;
  let browser: Browser;
  let smtp: TestSmtpServer;
  let sms: TestSmsGateway;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    sms = await startSmsGateway();
    const dataDir = mkdtempSync(path.join(tmpdir(), "tessera-enrol-"));
    const settings = loadSettings({
      flags: { port: "0", host: "localhost", dataDir, logLevel: "warn", devMode: "off" },
      env: { TESSERA_SMTP_URL: smtp.url, TESSERA_SMS_GATEWAY_URL: sms.url },
      cwd: dataDir,
    });
    server = await startServer(settings, { demo: true, outboxIntervalMs: 50 });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await smtp?.stop();
    await sms?.stop();
  });

  const fill = async (page: Page, label: string, value: string) => page.getByLabel(label, { exact: true }).fill(value);

  it("goes from the home page to awaiting identity proofing, with the e-mail link and the SMS code", async () => {
    const context = await browser.newContext({ locale: "it-IT" });
    const page = await context.newPage();
    // Script errors, CSP violations and failed requests; a form answered 400 (an error shown on
    // purpose below) is not one of them.
    const problems: string[] = [];
    page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && problems.push(m.text()));
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("response", (r) => r.status() >= 400 && r.request().method() !== "POST" && problems.push(`${r.status()} ${r.url()}`));

    await page.goto(`${server.baseUrl}/t/national/`);
    await page.getByRole("link", { name: "Richiedi la tua identità digitale SPID" }).click();
    expect(await page.title()).toContain("Richiedi la tua identità digitale SPID");

    // 1. Identification method.
    await page.getByLabel("Video riconoscimento").check();
    await page.getByRole("button", { name: "Prosegui e attiva SPID" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toBe("I tuoi dati di accesso");

    // 2. Credentials: a weak password first, as a user would, with the hints following along.
    const newCustomer = page.locator("section", { hasText: "Non sei ancora cliente" });
    await newCustomer.getByLabel("Indirizzo e-mail").fill("anna.verdi@example.it");
    await newCustomer.getByLabel("Password", { exact: true }).pressSequentially("aaa");
    await expect.poll(() => newCustomer.locator('[data-rule="password.repeated"]').getAttribute("class")).toBe("rule-fail");
    await newCustomer.getByLabel("Password", { exact: true }).fill("Mosaico-Verde-2026!");
    await newCustomer.getByLabel("Password", { exact: true }).press("End");
    await expect.poll(() => newCustomer.locator('[data-rule="password.min_length"]').getAttribute("class")).toBe("rule-ok");
    await newCustomer.getByLabel(/Ho letto l'informativa privacy/).check();
    await expect.poll(() => newCustomer.locator(".captcha-status").textContent(), { timeout: 20_000 }).toBe("Verifica completata.");
    await newCustomer.getByRole("button", { name: "Prosegui" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toBe("Conferma il tuo indirizzo e-mail");

    // 3. The confirmation e-mail, from the SMTP server: its link confirms the address.
    // (The demo's seeding writes to its professionals too: only Anna's mail is looked at.)
    const [mail] = await smtp.waitForMailsTo("anna.verdi@example.it");
    const link = /https?:\/\/\S+\/confirm-email\?code=\d{6}/.exec(mail!.text ?? "")![0];
    await page.goto(link);
    await expect.poll(() => page.locator("h1").textContent()).toBe("Informazioni di sicurezza e recapito telefonico");
    expect(await page.locator(".notice").textContent()).toBe("Il tuo indirizzo e-mail è confermato.");

    // 4. Security question and mobile number.
    await page.getByLabel("Domanda di sicurezza").selectOption("first_pet");
    await fill(page, "Risposta", "Briciola");
    await fill(page, "Numero di cellulare", "+39 347 555 0101");
    await page.getByRole("button", { name: "Prosegui" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toBe("Conferma il tuo numero di cellulare");

    // 5. The SMS code, from the SMS gateway.
    await sms.waitFor(1);
    const code = /\b(\d{6})\b/.exec(sms.textsTo("+393475550101")[0]!)![1]!;
    await fill(page, "Codice di verifica", code);
    await page.getByRole("button", { name: "Prosegui" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toBe("I tuoi dati personali");

    // 6. Personal data (an expired document first: refused, with the form kept filled in).
    const labels: Record<string, string> = {
      given_name: "Nome",
      family_name: "Cognome",
      birth_date: "Data di nascita",
      birth_place: "Luogo di nascita",
      fiscal_code: "Codice fiscale",
      document_number: "Numero del documento",
      document_issuer: "Rilasciato da",
      document_issue_date: "Data di rilascio",
      document_expiry_date: "Data di scadenza",
      health_card_number: "Numero della tessera sanitaria",
      health_card_expiry: "Data di scadenza della tessera sanitaria",
      address: "Indirizzo (via e numero civico)",
      postal_code: "CAP",
      city: "Comune",
      province: "Provincia",
    };
    const person = { ...personalData, given_name: "Anna", family_name: "Verdi", fiscal_code: "VRDNNA90E55F205I" };
    for (const [name, label] of Object.entries(labels)) await fill(page, label, person[name as keyof typeof person]);
    await page.getByLabel("Femmina").check();
    await page.getByLabel("Tipo di documento").selectOption("carta_identita");
    await fill(page, "Data di scadenza", "2020-01-01");
    await page.getByRole("button", { name: "Prosegui" }).click();
    await expect.poll(() => page.locator(".error-summary li").allTextContents()).toEqual(["Il documento è scaduto: usane uno valido."]);
    expect(await page.getByLabel("Cognome").inputValue()).toBe("Verdi");
    await fill(page, "Data di scadenza", person.document_expiry_date);
    await page.getByRole("button", { name: "Prosegui" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toBe("Riepilogo e invio");

    // 7. Summary and contract.
    expect(await page.locator(".summary-section").allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining("VRDNNA90E55F205I"), expect.stringContaining("Video riconoscimento")]),
    );
    await page.getByLabel(/Ho letto e accetto il contratto/).check();
    await page.getByRole("button", { name: "Accetta e invia la richiesta" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toBe("Richiesta ricevuta: in attesa di riconoscimento");
    expect(await page.locator(".request-number").textContent()).toMatch(/^Numero della richiesta: [0-9A-F]{10}$/);

    const submitted = await smtp.waitForMailsTo("anna.verdi@example.it", 2);
    expect(submitted[1]!.subject).toMatch(/^Tessera ID: abbiamo ricevuto la tua richiesta di identità [0-9A-F]{10}$/);
    const account = await server.store.repos.accounts.findByIdentifier("national", "identity", "anna.verdi@example.it");
    expect(account).toMatchObject({ state: "awaiting_proofing", identification_method: "video", phone: "+393475550101" });
    expect(problems).toEqual([]);
    await context.close();
  });
});
