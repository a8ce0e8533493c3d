import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Secret, TOTP } from "otpauth";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../src/server.ts";
import { loadSettings } from "../../src/shared/config/settings.ts";
import { browserAvailable, launchBrowser } from "../helpers/browser.ts";
import { lastMessageTo } from "../helpers/enrolment.ts";
import { englishPage, enterPassword, enterSmsCode, type Identity, newIdentity } from "../helpers/login.ts";
import { REPO_ROOT, runTessera, type Spawned, spawnProcess } from "../helpers/process.ts";

const DAY = 86_400_000;
const PASSWORD = "Politecnico-Blu-2026";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === "object" && address ? address.port : 0;
}

/**
 * Seed 001 in chromium, from the university's service portal (examples/service-portal, an OpenID
 * Connect relying party of the `university` tenant) to its page showing who signed in and how:
 * "Entra con SPID" through the national tenant's real pages over SAML, "Entra con CIE" through
 * them over OpenID Connect, and the mandatory 2FA's three branches for local accounts: an Italian
 * citizen's SPID/CIE step-up (refused for another person's codice fiscale), the declaration of not
 * being able to use SPID/CIE with its temporary app (and what happens when its time is over), and
 * a non-Italian citizen's app, after registering ("Registrati").
 */
describe.skipIf(!browserAvailable)("the university broker in chromium", () => {
  let server: RunningServer;
  let browser: Browser;
  let portal: Spawned;
  let portalUrl: string;
  /** The server's clock, which the declaration's expiry test moves. */
  let offset = 0;

  beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "tessera-broker-"));
    const settings = loadSettings({ flags: { port: "0", host: "localhost", dataDir, logLevel: "warn" }, env: {}, cwd: dataDir });
    server = await startServer(settings, { demo: true, clock: { now: () => Date.now() + offset } });
    const port = await freePort();
    portalUrl = `http://localhost:${port}`;
    const created = await runTessera(["client", "create", "--tenant", "university", "--name", "Servizi Online", "--redirect-uri", `${portalUrl}/callback`,
      "--post-logout-redirect-uri", `${portalUrl}/`, "--data-dir", dataDir, "--json"]);
    expect(created.code, created.stderr).toBe(0);
    const { client_id, client_secret } = JSON.parse(created.stdout) as { client_id: string; client_secret: string };
    portal = spawnProcess(process.execPath, [path.join(REPO_ROOT, "examples/service-portal/server.mjs")], {
      env: { ISSUER: `${server.baseUrl}/t/university`, CLIENT_ID: client_id, CLIENT_SECRET: client_secret, PORT: String(port) },
    });
    await portal.waitFor(/Service portal on/);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await portal?.stop();
    await server?.close();
  });

  let serial = 0;
  /** A national SPID identity of its own, with a mobile number for level 2. */
  const citizen = (fiscalCode: string, givenName: string, familyName: string) =>
    newIdentity(server, "national", {
      identifier: `cittadino${++serial}@example.it`,
      email: `cittadino${serial}@example.it`,
      emailVerified: true,
      phone: `+39347666${String(1000 + serial)}`,
      phoneVerified: true,
      givenName,
      familyName,
      fiscalCode,
      password: "Quercia-Rossa-2026!",
    });
  /** A local university account (as a registration makes it), Italian or not. */
  const student = (citizenship: "italian" | "other", fiscalCode: string | null) =>
    newIdentity(server, "university", { identifier: String(30_000_000 + ++serial), email: `studente${serial}@example.it`, emailVerified: true, givenName: "Studente", familyName: `Numero${serial}`, fiscalCode, citizenship, password: PASSWORD });

  /** At the national tenant's pages: password, SMS code (level 2), and the release of data the first time. */
  async function atNational(page: Page, who: Identity) {
    await page.waitForURL(/\/t\/national\/login/);
    await enterPassword(page, "national", who.account.identifier, who.password);
    await enterSmsCode(page, server, who);
    await page.waitForURL((url) => !url.pathname.startsWith("/t/national/login"));
    const allow = page.getByRole("button", { name: /^(Send my data|Allow)$/ });
    if (await allow.isVisible().catch(() => false)) await allow.click();
  }

  /** The portal's page once signed in: each row's value by its id. */
  async function portalShows(page: Page) {
    // The first time, the holder lets the portal have their data (the university's consent page).
    await page.waitForURL((url) => url.href === `${portalUrl}/` || url.pathname.startsWith("/t/university/authorize/"));
    if (page.url().includes("/t/university/authorize/")) await page.getByRole("button", { name: "Allow", exact: true }).click();
    await page.waitForURL(`${portalUrl}/`);
    const text = async (id: string) => (await page.locator(`#${id}`).textContent())?.trim();
    return { name: await text("name"), codicePersona: await text("codice-persona"), fiscalCode: await text("fiscal-code"), via: await text("via"), secondFactor: await text("second-factor"), level: await text("level"), amr: await text("amr") };
  }

  async function universitySignIn(page: Page, codicePersona: string, password = PASSWORD) {
    await page.waitForURL(/\/t\/university\/login/);
    await enterPassword(page, "university", codicePersona, password);
  }

  /** The app's key as the page shows it, and the code it gives now by the server's clock. */
  async function appCode(page: Page): Promise<string> {
    const key = (await page.locator("figure.qr code").textContent())!.trim();
    return new TOTP({ secret: Secret.fromBase32(key), digits: 6, period: 30, algorithm: "SHA1" }).generate({ timestamp: Date.now() + offset });
  }

  it('"Entra con SPID": through the national SPID pages over SAML, a new account with a codice persona and a password, at level 2', async () => {
    const lucia = await citizen("VRDLCU90H55F205X", "Lucia", "Verdi");
    const { context, page, problems } = await englishPage(browser);
    await page.goto(`${portalUrl}/`);
    await page.getByRole("link", { name: "Sign in" }).click();
    await page.waitForURL(/\/t\/university\/login/);
    await page.getByRole("region", { name: "Sign in with SPID" }).getByRole("link", { name: "Tessera ID" }).click();
    await atNational(page, lucia);
    // Back at the university: "ti verrà assegnato un codice persona e dovrai inserire una password".
    await page.waitForURL(/\/t\/university\/login\//);
    const intro = await page.locator("main p").first().textContent();
    const codicePersona = /codice persona (\d{8})/.exec(intro ?? "")?.[1];
    expect(codicePersona, intro ?? "").toMatch(/^\d{8}$/);
    await page.getByLabel("A password of your choice").fill(PASSWORD);
    await page.getByRole("button", { name: "Continue" }).click();
    expect(await portalShows(page)).toMatchObject({ name: "Lucia Verdi", codicePersona, fiscalCode: "VRDLCU90H55F205X", via: "SPID", secondFactor: "given by the SPID/CIE provider (level 2)", level: "2" });
    // And the codice persona now works with that password (the second factor is still owed).
    await context.clearCookies();
    await page.goto(`${server.baseUrl}/t/university/login`);
    await universitySignIn(page, codicePersona!);
    await page.waitForURL(/\/t\/university\/login\//);
    expect(await page.locator("h1").textContent()).toMatch(/second factor|two-factor/i);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('"Entra con CIE": through the national pages over OpenID Connect, again at level 2', async () => {
    const paolo = await citizen("BNCPLA85M01F205E", "Paolo", "Bianchi");
    const { context, page, problems } = await englishPage(browser);
    await page.goto(`${portalUrl}/login`);
    await page.waitForURL(/\/t\/university\/login/);
    await page.getByRole("region", { name: "Sign in with CIE" }).getByRole("link").first().click();
    await atNational(page, paolo);
    await page.waitForURL(/\/t\/university\/login\//);
    await page.getByLabel("A password of your choice").fill(PASSWORD);
    await page.getByRole("button", { name: "Continue" }).click();
    expect(await portalShows(page)).toMatchObject({ name: "Paolo Bianchi", fiscalCode: "BNCPLA85M01F205E", via: "CIE", level: "2" });
    expect(problems).toEqual([]);
    await context.close();
  });

  it("an Italian citizen activates 2FA with SPID/CIE: refused for someone else's codice fiscale, then accepted for their own", async () => {
    const own = await citizen("RSSGNN75A01F205B", "Giovanni", "Rossi");
    const other = await citizen("NRELNE80A41F205V", "Elena", "Neri");
    const local = await student("italian", "RSSGNN75A01F205B");
    const { context, page, problems } = await englishPage(browser);
    await page.goto(`${portalUrl}/login`);
    await universitySignIn(page, local.account.identifier);
    await page.waitForURL(/\/t\/university\/login\//);
    await expect.poll(() => page.locator("h1").textContent()).toBe("Activate two-factor authentication (2FA)");
    const activate = page.getByRole("region", { name: "Activate 2FA with SPID/CIE" });
    await activate.getByRole("link", { name: "Tessera ID" }).first().click();
    await atNational(page, other);
    await page.waitForURL(/\/t\/university\/login\//);
    expect(await page.getByRole("alert").textContent()).toContain("another person's");
    // The same page, the right person this time.
    await page.getByRole("region", { name: "Activate 2FA with SPID/CIE" }).getByRole("link", { name: "Tessera ID" }).first().click();
    await page.waitForURL(/\/t\/national\//);
    if (page.url().includes("/t/national/login")) await atNational(page, own);
    // National still has Elena's session: a fresh sign-in is forced for level 2 (ForceAuthn).
    expect(await portalShows(page)).toMatchObject({ codicePersona: local.account.identifier, via: "University credentials (codice persona and password)", secondFactor: "SPID/CIE at level 2", level: "2" });
    expect(problems).toEqual([]);
    await context.close();
  });

  it('an Italian citizen who cannot use SPID/CIE declares it, gets a temporary app, and after its time SPID/CIE is required again', async () => {
    const local = await student("italian", "VRDMRA70A41F205I");
    const { context, page, problems } = await englishPage(browser);
    await page.goto(`${portalUrl}/login`);
    await universitySignIn(page, local.account.identifier);
    await page.getByText("Trouble with SPID or CIE?").click();
    await page.getByLabel("Your declaration").fill("I live abroad and cannot obtain SPID or a CIE at the moment.");
    await page.getByRole("button", { name: "Declare and go on without SPID/CIE" }).click();
    await page.waitForURL(/\/t\/university\/login\//);
    await expect.poll(() => page.locator("main .notice").first().textContent()).toContain("This app is your second factor until");
    await page.getByLabel("Code shown by the app").fill(await appCode(page));
    await page.getByRole("button", { name: "Sign in" }).click();
    expect(await portalShows(page)).toMatchObject({ codicePersona: local.account.identifier, secondFactor: "authenticator app (one-time code)", level: "2" });
    const declared = await server.store.db.selectFrom("declarations").selectAll().where("account_id", "=", local.account.id).execute();
    expect(declared).toMatchObject([{ text: "I live abroad and cannot obtain SPID or a CIE at the moment.", ip: expect.any(String) }]);
    expect(await server.store.db.selectFrom("audit_entries").select("type").where("subject", "=", local.account.id).where("type", "=", "2fa.declaration").execute()).toHaveLength(1);

    // 181 days later the app no longer counts: the activation page offers SPID/CIE only.
    offset += 181 * DAY;
    try {
      await context.clearCookies();
      await page.goto(`${server.baseUrl}/t/university/login`);
      await universitySignIn(page, local.account.identifier);
      await page.waitForURL(/\/t\/university\/login\//);
      expect(await page.locator("h1").textContent()).toBe("Activate two-factor authentication (2FA)");
      await expect.poll(() => page.locator("main").textContent()).toContain("that period is over");
      expect(await page.getByText("Trouble with SPID or CIE?").count()).toBe(0);
      expect(await page.getByRole("region", { name: "Activate 2FA with SPID/CIE" }).getByRole("link").count()).toBeGreaterThan(0);
    } finally {
      offset -= 181 * DAY;
    }
    expect(problems).toEqual([]);
    await context.close();
  });

  it("a non-Italian citizen registers, is given a codice persona, and chooses the app", async () => {
    const { context, page, problems } = await englishPage(browser);
    await page.goto(`${server.baseUrl}/t/university/login`);
    await page.getByRole("link", { name: "No account yet? Register" }).click();
    await page.getByLabel("No").check();
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByLabel("Given name").fill("Amira");
    await page.getByLabel("Surname").fill("Haddad");
    await page.getByLabel("E-mail address").fill("amira.haddad@example.org");
    await page.getByLabel("A password of your choice").fill(PASSWORD);
    await page.getByLabel(/I have read the privacy notice/).check();
    await expect.poll(() => page.locator(".captcha-status").textContent(), { timeout: 60_000 }).not.toBe("");
    await page.locator("[data-captcha] input[type=hidden]").evaluate((input: HTMLInputElement) => new Promise((resolve) => {
      const check = () => (input.value ? resolve(true) : setTimeout(check, 100));
      check();
    }));
    await page.getByRole("button", { name: "Continue" }).click();
    await page.waitForURL(/\/t\/university\/register\/[^?]+/);
    const mail = await lastMessageTo(server, "amira.haddad@example.org", "university");
    await page.goto(/https?:\/\/\S+confirm-email\?code=\d+/.exec(mail.text)![0]);
    const codicePersona = (await page.locator("#codice-persona").textContent())!.trim();
    expect(codicePersona).toMatch(/^\d{8}$/);

    await page.goto(`${portalUrl}/login`);
    await universitySignIn(page, codicePersona);
    await page.waitForURL(/\/t\/university\/login\//);
    await expect.poll(() => page.getByRole("region", { name: "2FA with an authenticator app" }).count()).toBe(1);
    await page.getByRole("button", { name: "Activate the app" }).click();
    await page.getByLabel("Code shown by the app").fill(await appCode(page));
    await page.getByRole("button", { name: "Sign in" }).click();
    expect(await portalShows(page)).toMatchObject({ name: "Amira Haddad", codicePersona, fiscalCode: "", secondFactor: "authenticator app (one-time code)", level: "2" });
    expect(problems).toEqual([]);
    await context.close();
  });
});
