import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_PASSWORD } from "../../src/demo/identities.ts";
import { type RunningServer, startServer } from "../../src/server.ts";
import { loadSettings } from "../../src/shared/config/settings.ts";
import { browserAvailable, launchBrowser } from "../helpers/browser.ts";
import { lastCodeTo, lastMessageTo } from "../helpers/enrolment.ts";
import { englishPage, enterPassword, submitForm } from "../helpers/login.ts";
import { openssl, qcStatementsOf, workdir } from "../helpers/pki.ts";

/**
 * Seed 002 end to end, in chromium, on the demo: Jon records at the Bilbao desk a second request
 * of Miren Arana (the demo already holds her request to the Ayuntamiento); Ane, representative of
 * both organisations, authorises both in her console; Miren opens the e-mailed link and goes
 * through the six steps; she ends with two organisations and two qualified certificates, which
 * openssl reads from her panel's downloads.
 */
describe.skipIf(!browserAvailable)("professionals in the cloud, in chromium", () => {
  let server: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "tessera-pro-"));
    const settings = loadSettings({ flags: { port: "0", host: "localhost", dataDir, logLevel: "warn" }, env: {}, cwd: dataDir });
    server = await startServer(settings, { demo: true });
    browser = await launchBrowser();
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const url = (p: string) => `${server.baseUrl}${p}`;
  const heading = (page: Page) => page.getByRole("heading", { level: 1 }).textContent();

  /** DNI, password, then the code by SMS: the portal's "Profesionales en la nube". */
  async function signIn(page: Page, dni: string, phone: string) {
    await page.goto(url("/t/pro/login"));
    await enterPassword(page, "pro", dni, DEMO_PASSWORD);
    const sms = page.getByRole("region", { name: "Code by SMS" });
    await sms.getByRole("button", { name: /^Send a code to / }).click();
    await page.waitForURL(/notice=login\.sms_sent/);
    await sms.getByLabel("Verification code").fill(await lastCodeTo(server, phone, "pro"));
    await sms.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(url("/t/pro/account"));
  }

  it("goes from the representative's authorisation to an active professional with two organisations and two certificates", { timeout: 120_000 }, async () => {
    // The desk: Jon records Miren's request to the engineering firm, having checked her DNI.
    const desk = await englishPage(browser);
    await signIn(desk.page, "11111111H", "+34600000002");
    await desk.page.goto(url("/t/pro/desk"));
    await desk.page.getByLabel("Organisation", { exact: true }).selectOption({ label: "Ejemplo Ingeniería S.L. (B48123459)" });
    const fields: [string, string][] = [
      ["DNI or NIE", "44556677L"],
      ["Given name", "Miren"],
      ["Surname", "Arana"],
      ["Expiry date of your DNI", "2031-06-30"],
      ["E-mail address", "miren.arana@example.eus"],
      ["Mobile number", "+34600000003"],
      ["Position in the organisation (optional)", "Ingeniera de caminos"],
    ];
    for (const [label, value] of fields) await desk.page.getByLabel(label, { exact: true }).fill(value);
    for (const check of ["I have seen the original DNI", "The DNI is valid and its expiry date is the one recorded", "The photo on the DNI is the person in front of me"]) {
      await desk.page.getByLabel(check).check();
    }
    await submitForm(desk.page, desk.page.getByRole("button", { name: "Record the request" }));
    expect(await desk.page.getByRole("region", { name: "Recorded this week" }).textContent()).toContain("44556677L");
    expect(desk.problems).toEqual([]);
    await desk.context.close();

    // The representative: both requests wait in Ane's console; she authorises them.
    const rep = await englishPage(browser);
    await signIn(rep.page, "12345678Z", "+34600000001");
    await rep.page.goto(url("/t/pro/organisations"));
    for (const organisation of ["Ayuntamiento de Ejemplo", "Ejemplo Ingeniería S.L."]) {
      const section = rep.page.getByRole("region", { name: new RegExp(`^${organisation}`) });
      const row = section.getByRole("row").filter({ hasText: "44556677L" });
      await submitForm(rep.page, row.getByRole("button", { name: "Authorise" }));
      expect(await rep.page.getByRole("status").textContent()).toBe("Authorised: the activation link has been sent to the professional.");
    }
    expect(rep.problems).toEqual([]);
    await rep.context.close();

    // Miren: the link from the e-mail, and the six steps.
    const mail = await lastMessageTo(server, "miren.arana@example.eus", "pro");
    const link = /(https?:\/\/\S+\/t\/pro\/activate\/\S+)/.exec(mail.text)![1]!;
    const { context, page, problems } = await englishPage(browser);
    await page.goto(link);
    expect(await heading(page)).toBe("Step 2 of 6: the code we sent you");
    await page.getByLabel("Verification code").fill(await lastCodeTo(server, "+34600000003", "pro"));
    await page.getByRole("button", { name: "Continue" }).click();
    await expect.poll(() => heading(page)).toBe("Step 3 of 6: your DNI");
    // A wrong expiry date is refused, in words.
    await page.getByLabel("Expiry date of your DNI").fill("2031-06-29");
    await submitForm(page, page.getByRole("button", { name: "Continue" }), 400);
    expect(await page.getByRole("alert").textContent()).toContain("That is not the expiry date of the DNI");
    await new Promise((r) => setTimeout(r, 1100)); // the delay a wrong answer earns
    await page.getByLabel("Expiry date of your DNI").fill("2031-06-30");
    await page.getByRole("button", { name: "Continue" }).click();
    await expect.poll(() => heading(page)).toBe("Step 4 of 6: your password");
    await page.getByLabel("Password for identification and signing").fill("Haritza-Berdea-2031");
    await page.getByRole("button", { name: "Continue" }).click();
    await expect.poll(() => heading(page)).toBe("Step 5 of 6: Terms of use of the professional identity in the cloud");
    await page.getByLabel(/I have read and accept the terms of use/).check();
    await page.getByRole("button", { name: "Continue" }).click();
    await expect.poll(() => heading(page)).toBe("Step 6 of 6: last code");
    await page.getByLabel("Verification code").fill(await lastCodeTo(server, "+34600000003", "pro"));
    await page.getByRole("button", { name: "Activate my identity" }).click();
    await expect.poll(() => heading(page)).toBe("Your professional identity is active");
    expect(await page.locator("ul.certificates li").count()).toBe(2);

    // Her panel: two organisations, two certificates; openssl reads each download.
    await page.getByRole("link", { name: "Sign in" }).click();
    await enterPassword(page, "pro", "44556677L", "Haritza-Berdea-2031");
    // Her codes go where the activation sent them: the SMS is on its way already.
    await page.waitForURL(/notice=login\.sms_sent/);
    await page.getByRole("region", { name: "Code by SMS" }).getByLabel("Verification code").fill(await lastCodeTo(server, "+34600000003", "pro"));
    await page.getByRole("region", { name: "Code by SMS" }).getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(url("/t/pro/account"));
    const certificates = page.getByRole("region", { name: "Your certificates" });
    const items = certificates.locator("ul.certificates > li");
    expect(await items.count()).toBe(2);
    const dir = workdir();
    const seen = new Map<string, string>();
    for (let i = 0; i < 2; i++) {
      const organisation = (await items.nth(i).locator("strong").textContent())!;
      const href = (await items.nth(i).getByRole("link", { name: "Download (PEM)" }).getAttribute("href"))!;
      const pem = await (await page.request.get(url(href))).text();
      writeFileSync(path.join(dir, `c${i}.pem`), pem);
      // openssl prints the names' UTF-8 as it is (-esc_msb); run() reads output as bytes (latin1).
      const subject = Buffer.from((await openssl(["x509", "-in", `c${i}.pem`, "-noout", "-subject", "-nameopt", "RFC2253,-esc_msb"], { cwd: dir })).stdout, "latin1").toString("utf8");
      seen.set(organisation, subject);
      const statements = await qcStatementsOf(dir, `c${i}.pem`);
      // QcCompliance, QcSSCD, QcType esign, QcPDS (ETSI EN 319 412-5).
      for (const oid of ["0.4.0.1862.1.1", "0.4.0.1862.1.4", "0.4.0.1862.1.6.1", "0.4.0.1862.1.5"]) expect(statements).toContain(oid);
    }
    expect(seen.get("Ayuntamiento de Ejemplo")).toMatch(/O=Ayuntamiento de Ejemplo,.*organizationIdentifier=VATES-P4800100B|organizationIdentifier=VATES-P4800100B.*O=Ayuntamiento de Ejemplo/);
    expect(seen.get("Ayuntamiento de Ejemplo")).toContain("title=Técnica de urbanismo");
    expect(seen.get("Ejemplo Ingeniería S.L.")).toContain("O=Ejemplo Ingeniería S.L.");
    expect(seen.get("Ejemplo Ingeniería S.L.")).toContain("organizationIdentifier=VATES-B48123459");
    expect(seen.get("Ejemplo Ingeniería S.L.")).toContain("title=Ingeniera de caminos");
    for (const subject of seen.values()) expect(subject).toContain("serialNumber=IDCES-44556677L");
    expect(problems).toEqual([]);
    await context.close();
  });
});
