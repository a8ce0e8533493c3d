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
import { JPEG, PNG } from "../helpers/proofing.ts";
import { ACS, newKeyPair, nodeSamlSp, registerSp, SPID_L, spMetadata } from "../helpers/saml.ts";
import { startSmsGateway, type TestSmsGateway } from "../helpers/sms-gateway.ts";

/**
 * Seed 000 end to end, in chromium: a citizen requests an identity choosing identification in
 * person at a point; the registration officer of that point, signed in at level 2, finds the
 * request, records the document with its photos and approves; the new identity's first sign-in
 * is a SAML login at level 2 at a service provider (node-saml), whose assertion carries the
 * spidCode just assigned.
 */
describe.skipIf(!browserAvailable)("identity proofing in person, in chromium", () => {
  let server: RunningServer;
  let browser: Browser;
  let smtp: TestSmtpServer;
  let sms: TestSmsGateway;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    sms = await startSmsGateway();
    const dataDir = mkdtempSync(path.join(tmpdir(), "tessera-proofing-"));
    const settings = loadSettings({
      flags: { port: "0", host: "localhost", dataDir, logLevel: "warn", devMode: "off" },
      env: { TESSERA_SMTP_URL: smtp.url, TESSERA_SMS_GATEWAY_URL: sms.url },
      cwd: dataDir,
    });
    server = await startServer(settings, { demo: true, outboxIntervalMs: 50 });
    browser = await launchBrowser();
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await smtp?.stop();
    await sms?.stop();
  });

  /** The code of the next SMS to `phone`, read where the phone gets it: the gateway (delivered bodies leave the outbox). */
  const nextCodeTo = async (phone: string, before: number) => {
    await expect.poll(() => sms.textsTo(phone).length, { timeout: 20_000 }).toBeGreaterThan(before);
    return /\b(\d{6})\b/.exec(sms.textsTo(phone).at(-1)!)![1]!;
  };

  const watch = (page: Page) => {
    const problems: string[] = [];
    page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && problems.push(m.text()));
    page.on("pageerror", (e) => problems.push(e.message));
    return problems;
  };

  it("goes from the wizard to the officer's approval to the new identity's first SAML login at level 2", { timeout: 120_000 }, async () => {
    // 1. The request, in Italian, choosing identification in person at Roma Corso.
    const citizen = await browser.newContext({ locale: "it-IT" });
    const page = await citizen.newPage();
    const problems = watch(page);
    await page.goto(`${server.baseUrl}/t/national/enrol`);
    await page.getByLabel("Di persona").check();
    await page.getByLabel("Punto di registrazione", { exact: true }).selectOption("roma-corso");
    await page.getByRole("button", { name: "Prosegui e attiva SPID" }).click();
    const newCustomer = page.locator("section", { hasText: "Non sei ancora cliente" });
    await newCustomer.getByLabel("Indirizzo e-mail").fill("luca.conti@example.it");
    await newCustomer.getByLabel("Password", { exact: true }).fill("Mosaico-Verde-2026!");
    await newCustomer.getByLabel(/Ho letto l'informativa privacy/).check();
    await expect.poll(() => newCustomer.locator(".captcha-status").textContent(), { timeout: 20_000 }).toBe("Verifica completata.");
    await newCustomer.getByRole("button", { name: "Prosegui" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toBe("Conferma il tuo indirizzo e-mail");
    const [mail] = await smtp.waitForMailsTo("luca.conti@example.it");
    await page.goto(/https?:\/\/\S+\/confirm-email\?code=\d{6}/.exec(mail!.text ?? "")![0]);
    await page.getByLabel("Domanda di sicurezza").selectOption("first_pet");
    await page.getByLabel("Risposta", { exact: true }).fill("Briciola");
    await page.getByLabel("Numero di cellulare", { exact: true }).fill("+39 347 555 0202");
    await page.getByRole("button", { name: "Prosegui" }).click();
    await sms.waitFor(1);
    await page.getByLabel("Codice di verifica", { exact: true }).fill(/\b(\d{6})\b/.exec(sms.textsTo("+393475550202")[0]!)![1]!);
    await page.getByRole("button", { name: "Prosegui" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toBe("I tuoi dati personali");
    const person = { ...personalData, given_name: "Luca", family_name: "Conti", sex: "M", birth_date: "1985-03-10", fiscal_code: "CNTLCU85C10H501P", document_number: "CA55555LC" };
    const labels: Record<string, string> = {
      given_name: "Nome", family_name: "Cognome", birth_date: "Data di nascita", birth_place: "Luogo di nascita", fiscal_code: "Codice fiscale",
      document_number: "Numero del documento", document_issuer: "Rilasciato da", document_issue_date: "Data di rilascio", document_expiry_date: "Data di scadenza",
      health_card_number: "Numero della tessera sanitaria", health_card_expiry: "Data di scadenza della tessera sanitaria", address: "Indirizzo (via e numero civico)",
      postal_code: "CAP", city: "Comune", province: "Provincia",
    };
    for (const [name, label] of Object.entries(labels)) await page.getByLabel(label, { exact: true }).fill(person[name as keyof typeof person]);
    await page.getByLabel("Luogo di nascita", { exact: true }).fill("Roma");
    await page.getByLabel("Maschio").check();
    await page.getByLabel("Tipo di documento").selectOption("carta_identita");
    await page.getByRole("button", { name: "Prosegui" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toBe("Riepilogo e invio");
    await page.getByLabel(/Ho letto e accetto il contratto/).check();
    await page.getByRole("button", { name: "Accetta e invia la richiesta" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toBe("Richiesta ricevuta: in attesa di riconoscimento");
    const request = /([0-9A-F]{10})$/.exec((await page.locator(".request-number").textContent())!)![1]!;
    expect(problems).toEqual([]);

    // 2. At the point: the officer signs in at level 2 and decides.
    const officer = await browser.newContext({ locale: "en-GB" });
    const desk = await officer.newPage();
    const deskProblems = watch(desk);
    await desk.goto(`${server.baseUrl}/t/national/login?level=2&return_to=${encodeURIComponent("/t/national/operator")}`);
    await desk.getByLabel("E-mail address (user ID)", { exact: true }).fill("sportello.roma@example.it");
    await desk.getByLabel("Password", { exact: true }).fill("Tessera-Demo-2026!");
    await desk.getByRole("button", { name: "Sign in", exact: true }).click();
    const smsBox = desk.getByRole("region", { name: "Code by SMS" });
    const deskBefore = sms.textsTo("+393330000101").length;
    await smsBox.getByRole("button", { name: /^Send a code to / }).click();
    await smsBox.getByLabel("Verification code").fill(await nextCodeTo("+393330000101", deskBefore));
    await smsBox.getByRole("button", { name: "Sign in" }).click();
    await desk.waitForURL(`${server.baseUrl}/t/national/operator`);
    await desk.getByLabel("Codice fiscale or request number").fill(request);
    await desk.getByRole("button", { name: "Search" }).click();
    await desk.getByRole("link", { name: request }).first().click();
    await expect.poll(() => desk.locator("h1").textContent()).toBe(`Request ${request}`);
    await desk.getByLabel("Document number", { exact: true }).fill("CA55555LC");
    await desk.getByLabel("Issued by", { exact: true }).fill(person.document_issuer);
    await desk.getByLabel("Date of issue", { exact: true }).fill(person.document_issue_date);
    await desk.getByLabel("Expiry date", { exact: true }).fill(person.document_expiry_date);
    await desk.getByLabel("Health card number", { exact: true }).fill(person.health_card_number);
    await desk.getByLabel("Health card expiry date", { exact: true }).fill(person.health_card_expiry);
    await desk.getByLabel("Photo of the document, front (JPEG or PNG)").setInputFiles({ name: "front.png", mimeType: "image/png", buffer: PNG });
    await desk.getByLabel("Photo of the document, back (JPEG or PNG)").setInputFiles({ name: "back.jpg", mimeType: "image/jpeg", buffer: JPEG });
    for (const check of ["The person matches the document's photo", "Original, valid identity document", "Original health card (Tessera Sanitaria)", "Data of the request read back and confirmed"]) {
      await desk.getByLabel(check).check();
    }
    await desk.getByRole("button", { name: "Record the decision" }).click();
    await expect.poll(() => desk.locator(".notice").textContent()).toBe("Approved: the identity is active.");
    expect(deskProblems).toEqual([]);
    const account = await server.store.repos.accounts.findByIdentifier("national", "identity", "luca.conti@example.it");
    expect(account).toMatchObject({ state: "active", spid_code: expect.stringMatching(/^TESS\d{10}$/) });

    // 3. The new identity at a service provider: a SAML login at level 2, with the SMS code.
    const keys = await newKeyPair();
    await registerSp(server, "national", spMetadata({ certificateBase64: keys.certificateBase64 }));
    const sp = await nodeSamlSp(server.baseUrl, "national", keys, { authnContext: [SPID_L(2)] });
    const service = await browser.newContext({ locale: "en-GB" });
    const tab = await service.newPage();
    let posted: string | undefined;
    await tab.route(ACS, async (route) => {
      posted = route.request().postData() ?? "";
      await route.fulfill({ status: 200, contentType: "text/plain", body: "signed in" });
    });
    await tab.goto(await sp.getAuthorizeUrlAsync("relay", undefined, {}));
    await tab.getByLabel("E-mail address (user ID)", { exact: true }).fill("luca.conti@example.it");
    await tab.getByLabel("Password", { exact: true }).fill("Mosaico-Verde-2026!");
    await tab.getByRole("button", { name: "Sign in", exact: true }).click();
    const code = tab.getByRole("region", { name: "Code by SMS" });
    const citizenBefore = sms.textsTo("+393475550202").length;
    await code.getByRole("button", { name: /^Send a code to / }).click();
    await code.getByLabel("Verification code").fill(await nextCodeTo("+393475550202", citizenBefore));
    await code.getByRole("button", { name: "Sign in" }).click();
    await tab.getByRole("button", { name: "Send my data" }).click();
    await expect.poll(() => posted, { timeout: 20_000 }).toBeDefined();
    const fields = Object.fromEntries(new URLSearchParams(posted));
    const { profile } = await sp.validatePostResponseAsync(fields);
    expect(profile).toMatchObject({ spidCode: account!.spid_code, fiscalNumber: "TINIT-CNTLCU85C10H501P" });
    expect(Buffer.from(fields.SAMLResponse!, "base64").toString()).toContain(`<saml:AuthnContextClassRef>${SPID_L(2)}</saml:AuthnContextClassRef>`);
    await Promise.all([citizen.close(), officer.close(), service.close()]);
  });
});
