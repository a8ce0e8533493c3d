import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Account, createAccount } from "../../src/identity/accounts.ts";
import { createSession, findSession } from "../../src/identity/sessions.ts";
import { type RunningServer, startServer } from "../../src/server.ts";
import { loadSettings } from "../../src/shared/config/settings.ts";
import { findTenant } from "../../src/tenants/service.ts";
import type { Tenant } from "../../src/tenants/tenant.ts";
import { browserAvailable, launchBrowser } from "../helpers/browser.ts";

/**
 * Real WebAuthn ceremonies: chromium's virtual authenticator (DevTools Protocol `WebAuthn`
 * domain) holds the keys and signs, our script (assets/passkeys.js) talks to our API, and the
 * server verifies with @simplewebauthn/server.
 */
describe.skipIf(!browserAvailable)("passkeys in chromium", () => {
  let server: RunningServer;
  let browser: Browser;
  let university: Tenant;

  beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "tessera-passkeys-"));
    // localhost, not 127.0.0.1: a WebAuthn relying party must be a domain.
    const settings = loadSettings({ flags: { port: "0", host: "localhost", dataDir, logLevel: "warn" }, env: {}, cwd: dataDir });
    server = await startServer(settings, { demo: true });
    browser = await launchBrowser();
    university = (await findTenant(server.store.repos, "university"))!;
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function withAuthenticator(context: BrowserContext, tenant: string): Promise<Page> {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: {
        protocol: "ctap2",
        transport: "internal",
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    await page.goto(`${server.baseUrl}/t/${tenant}/`);
    await page.addScriptTag({ url: "/assets/passkeys.js" });
    return page;
  }

  async function signIn(context: BrowserContext, account: Account) {
    const { token } = await createSession(server.deps, university, account, { level: 1, amr: ["pwd"] }, { actor: "test" });
    await context.addCookies([{ name: "tessera_session", value: token, url: `${server.baseUrl}/t/university/` }]);
    return token;
  }

  const sessionCookie = async (context: BrowserContext) =>
    (await context.cookies(`${server.baseUrl}/t/university/`)).find((c) => c.name === "tessera_session")?.value;

  it("registers a passkey, raises a session to level 2 with it, and signs in with it alone", async () => {
    const account = await createAccount(server.deps, university, { identifier: "10000042", state: "active" }, { actor: "test" });
    const context = await browser.newContext();
    const token = await signIn(context, account);
    const page = await withAuthenticator(context, "university");

    const registered = await page.evaluate(() => (window as unknown as { tesseraPasskeys: { register(n: string): Promise<{ id: string }> } }).tesseraPasskeys.register("Laptop"));
    const [stored] = await server.store.repos.factors.passkeys(account.id);
    expect(stored).toMatchObject({ id: registered.id, name: "Laptop", account_id: account.id });

    // Second factor: the level-1 session becomes level 2 under a new cookie.
    const raised = await page.evaluate(() => (window as unknown as { tesseraPasskeys: { authenticate(): Promise<unknown> } }).tesseraPasskeys.authenticate());
    expect(raised).toMatchObject({ session: { level: 2, acr: "https://www.spid.gov.it/SpidL2", amr: ["hwk", "mfa", "pwd", "user"] } });
    const rotated = await sessionCookie(context);
    expect(rotated).toBeDefined();
    expect(rotated).not.toBe(token);
    expect(await findSession(server.deps, university, token)).toBeUndefined();
    expect(await findSession(server.deps, university, rotated!)).toMatchObject({ level: 2, accountId: account.id });

    // First factor (the university allows it): no session, the browser offers the passkey it holds.
    await context.clearCookies();
    const signedIn = await page.evaluate(() => (window as unknown as { tesseraPasskeys: { authenticate(): Promise<unknown> } }).tesseraPasskeys.authenticate());
    expect(signedIn).toMatchObject({ session: { level: 2, amr: ["hwk", "mfa", "user"] } });
    const fresh = await sessionCookie(context);
    expect(await findSession(server.deps, university, fresh!)).toMatchObject({ level: 2, accountId: account.id });
    expect((await server.store.repos.factors.passkey(registered.id))?.last_used_at).not.toBeNull();
    await context.close();
  });

  it("refuses a passkey sign-in where the tenant does not allow it", async () => {
    const context = await browser.newContext();
    const page = await withAuthenticator(context, "national");
    const error = await page.evaluate(() =>
      (window as unknown as { tesseraPasskeys: { authenticate(): Promise<unknown> } }).tesseraPasskeys.authenticate().then(
        () => "signed in",
        (e: Error & { code?: string }) => `${e.code}: ${e.message}`,
      ),
    );
    expect(error).toBe("forbidden: Passkeys cannot be used to sign in here.");
    await context.close();
  });

  it("refuses a registration answered for another challenge", async () => {
    const account = await createAccount(server.deps, university, { identifier: "10000043", state: "active" }, { actor: "test" });
    const context = await browser.newContext();
    await signIn(context, account);
    const page = await withAuthenticator(context, "university");
    const outcome = await page.evaluate(async () => {
      const post = async (path: string, body: unknown) => {
        const r = await fetch(`/t/university/api/passkeys/${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
        return { status: r.status, json: (await r.json()) as Record<string, unknown> };
      };
      const first = await post("registration/options", {});
      const second = await post("registration/options", {});
      const options = (first.json as { options: unknown }).options;
      const credential = (await navigator.credentials.create({
        publicKey: (PublicKeyCredential as unknown as { parseCreationOptionsFromJSON(o: unknown): PublicKeyCredentialCreationOptions }).parseCreationOptionsFromJSON(options),
      })) as PublicKeyCredential & { toJSON(): unknown };
      // The response to the first challenge, presented under the second ceremony.
      return post("registration", { ceremonyId: (second.json as { ceremonyId: string }).ceremonyId, response: credential.toJSON() });
    });
    expect(outcome.status).toBe(400);
    expect(await server.store.repos.factors.passkeys(account.id)).toEqual([]);
    await context.close();
  });
});
