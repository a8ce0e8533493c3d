import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Secret, TOTP } from "otpauth";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maskContact } from "../../src/identity/identifiers.ts";
import { createSession, findSession } from "../../src/identity/sessions.ts";
import { beginTotpEnrolment, confirmTotpEnrolment } from "../../src/identity/totp.ts";
import { type RunningServer, startServer } from "../../src/server.ts";
import { loadSettings } from "../../src/shared/config/settings.ts";
import { browserAvailable, launchBrowser } from "../helpers/browser.ts";
import { lastCodeTo } from "../helpers/enrolment.ts";
import {
  englishPage,
  enterPassword,
  enterSmsCode,
  errorsShown,
  type Identity,
  newIdentity,
  sessionRows,
  sessionToken,
  signIn,
  signInWithSms,
  submitForm,
  submitPassword,
} from "../helpers/login.ts";

const DAY = 86_400_000;

/**
 * Sign-in, password changes and recovery, and the self-service panel, as a person uses them in
 * chromium: real pages and forms, codes read from the development outbox where a phone or a
 * mailbox would receive them, and the outcome checked in the store as well as on the page.
 */
describe.skipIf(!browserAvailable)("sign-in and self-service in chromium", () => {
  let server: RunningServer;
  let browser: Browser;
  let serial = 0;
  /** Identifiers no other test uses. */
  const nextEmail = () => `utente${++serial}.test@example.it`;
  const nextMobile = () => `+39347555${String(1000 + ++serial).padStart(4, "0")}`;

  beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "tessera-login-"));
    const settings = loadSettings({ flags: { port: "0", host: "localhost", dataDir, logLevel: "warn" }, env: {}, cwd: dataDir });
    server = await startServer(settings, { demo: true });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const url = (p: string) => `${server.baseUrl}${p}`;
  const heading = (page: Page) => page.getByRole("heading", { level: 1 }).textContent();
  const notice = (page: Page) => page.getByRole("status").filter({ hasText: /\S/ }).first().textContent();

  /** A national (SPID) identity with a verified e-mail and mobile number. */
  const spidIdentity = (extra: { question?: { id: string; answer: string } } = {}) => {
    const email = nextEmail();
    return newIdentity(server, "national", {
      identifier: email,
      email,
      emailVerified: true,
      phone: nextMobile(),
      phoneVerified: true,
      givenName: "Lucia",
      familyName: "Ferraro",
      password: "Mosaico-Verde-2026!",
      ...extra,
    });
  };

  /**
   * An authenticator app set up with the identity services, confirmed with the code of the
   * previous 30-second step so that the current one is still unused for a sign-in. Its key.
   */
  const confirmedApp = async (who: Identity) => {
    const enrolment = await beginTotpEnrolment(server.deps, who.tenant, who.account);
    const code = new TOTP({ secret: Secret.fromBase32(enrolment.secret) }).generate({ timestamp: Date.now() - 30_000 });
    expect(await confirmTotpEnrolment(server.deps, who.tenant, who.account, enrolment.factorId, code, { actor: "test" })).toMatchObject({ ok: true });
    return enrolment.secret;
  };

  // Proves: a password alone opens a level-1 session on the panel, which shows whose account it is
  // and lists that one session at level 1.
  it("signs in at level 1 with a password and shows the panel with the session", async () => {
    const who = await spidIdentity();
    const { context, page, problems } = await englishPage(browser);

    await signIn(page, server.baseUrl, who);
    expect(await heading(page)).toBe("Your account");
    const personal = page.getByRole("region", { name: "Personal data" });
    expect(await personal.getByRole("definition").allTextContents()).toEqual(expect.arrayContaining([who.account.identifier, "Lucia", "Ferraro"]));

    expect(await sessionRows(page)).toEqual([[expect.stringMatching(/^Chrome/), expect.any(String), expect.any(String), "1", "This session"]]);
    const token = await sessionToken(context, server.baseUrl, "national");
    expect(await findSession(server.deps, who.tenant, token!)).toMatchObject({ accountId: who.account.id, level: 1, amr: ["pwd"] });
    expect(problems).toEqual([]);
    await context.close();
  });

  // Proves: level 2 needs the SMS code sent on request to the account's own number; a wrong code is
  // refused, the right one opens a level-2 session.
  it("signs in at level 2 with a password and a code by SMS", async () => {
    const who = await spidIdentity();
    const { context, page, problems } = await englishPage(browser);

    await page.goto(url("/t/national/login?level=2"));
    expect(await page.getByText("This service asks for level 2").count()).toBe(1);
    await enterPassword(page, "national", who.account.identifier, who.password);
    await page.waitForURL(/\/t\/national\/login\/[^/?]+$/);
    expect(await heading(page)).toBe("Second factor (level 2)");

    const sms = page.getByRole("region", { name: "Code by SMS" });
    await sms.getByRole("button", { name: `Send a code to ${maskContact(who.account.phone!)}` }).click();
    await page.waitForURL(/notice=login\.sms_sent/);
    expect(await notice(page)).toBe(`We sent a code by SMS to ${maskContact(who.account.phone!)}.`);
    const code = await lastCodeTo(server, who.account.phone!);

    const wrong = code === "000000" ? "111111" : "000000";
    await sms.getByLabel("Verification code").fill(wrong);
    await sms.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => errorsShown(page)).toEqual(["The code is not correct. Attempts left: 4."]);
    expect(await sessionToken(context, server.baseUrl, "national")).toBeUndefined();

    await sms.getByLabel("Verification code").fill(code);
    await sms.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(url("/t/national/account"));
    expect((await sessionRows(page)).map((r) => r[3])).toEqual(["2"]);
    const token = await sessionToken(context, server.baseUrl, "national");
    expect(await findSession(server.deps, who.tenant, token!)).toMatchObject({
      accountId: who.account.id,
      level: 2,
      acr: "https://www.spid.gov.it/SpidL2",
      amr: ["mfa", "otp", "pwd", "sms"],
    });
    expect(problems).toEqual([]);
    await context.close();
  });

  // Proves: a password older than the SPID 180 days must be replaced before anything else, under
  // the full policy (rules and history); the new one signs in, the old one no longer does.
  it("makes a user with an expired password choose a new one", async () => {
    const who = await spidIdentity();
    await server.store.db
      .updateTable("passwords")
      .set({ set_at: Date.now() - 181 * DAY })
      .where("account_id", "=", who.account.id)
      .execute();
    const { context, page, problems } = await englishPage(browser);

    await submitPassword(page, server.baseUrl, "national", who.account.identifier, who.password);
    await page.waitForURL(/\/t\/national\/login\/[^/?]+\?notice=password_expired$/);
    expect(await heading(page)).toBe("Choose a new password");
    expect(await notice(page)).toBe("Your password has expired: choose a new one to continue.");
    expect(await sessionToken(context, server.baseUrl, "national")).toBeUndefined();

    const submit = (password: string) =>
      page.getByLabel("New password").fill(password).then(() => page.getByRole("button", { name: "Change password and continue" }).click());
    await submit("mosaico-rosso-2026?");
    await expect.poll(() => errorsShown(page)).toEqual(["At least one upper-case letter"]);
    await submit(who.password);
    await expect.poll(() => errorsShown(page)).toEqual(["Not one of the passwords you have used recently"]);
    expect(await heading(page)).toBe("Choose a new password");

    await submit("Mosaico-Rosso-2026?");
    await page.waitForURL(url("/t/national/account"));
    const stored = await server.store.repos.accounts.password(who.account.id);
    expect(Date.now() - stored!.set_at).toBeLessThan(60_000);

    await submitForm(page, page.locator(".panel-header").getByRole("button", { name: "Sign out" }));
    await page.waitForURL(url("/t/national/login?notice=login.signed_out"));
    await submitPassword(page, server.baseUrl, "national", who.account.identifier, who.password);
    await expect.poll(() => errorsShown(page)).toEqual(["The identifier or password is not correct."]);
    expect(await sessionToken(context, server.baseUrl, "national")).toBeUndefined();
    expect(problems).toEqual([]);
    await context.close();
  });

  // Proves: the SPID recovery asks the account's own question, refuses a wrong answer, sends the
  // SMS code only after the right one, then sets the new password, ends every session and tells
  // the holder by e-mail; the new password signs in.
  it("recovers a forgotten password with the security question and a code by SMS", async () => {
    const who = await spidIdentity({ question: { id: "first_car", answer: "Fiat Panda" } });
    const earlier = await createSession(server.deps, who.tenant, who.account, { level: 1, amr: ["pwd"] }, { actor: "test" });
    const { context, page, problems } = await englishPage(browser);

    await page.goto(url("/t/national/login"));
    await page.getByRole("link", { name: "Forgot your password?" }).click();
    await page.waitForURL(url("/t/national/recover"));
    expect(await heading(page)).toBe("Reset your password");
    await page.getByLabel("E-mail address (user ID)").fill(who.account.identifier);
    await page.getByRole("button", { name: "Continue" }).click();

    // The account's own question (first_car), asked by name.
    await page.waitForURL(/\/t\/national\/recover\/[^/?]+$/);
    const answer = page.getByLabel("What was the make of your first car?");
    await answer.fill("Fiat Uno");
    await page.getByRole("button", { name: "Continue" }).click();
    await expect.poll(() => errorsShown(page)).toEqual(["The answer is not correct."]);
    expect(await server.store.repos.outbox.list("national", { recipient: who.account.phone!, limit: 10 })).toEqual([]);

    // After a wrong answer the next one is held back for a second (lockout.delayBaseSeconds), as
    // it would be for a person reading the error.
    await page.waitForTimeout(1100);
    await answer.fill("  fiat  PANDA ");
    await page.getByRole("button", { name: "Continue" }).click();
    await page.waitForURL(/notice=login\.sms_sent/);
    // Soft: the rest of the recovery is worth checking even when this message is wrong.
    expect(await notice(page)).toBe(`We sent a code by SMS to ${maskContact(who.account.phone!)}.`);
    await page.getByLabel("Verification code").fill(await lastCodeTo(server, who.account.phone!));
    await page.getByRole("button", { name: "Continue" }).click();

    await page.getByLabel("New password").fill("Quadrifoglio-42-Sole!");
    await page.getByRole("button", { name: "Continue" }).click();
    await page.waitForURL(url("/t/national/login?notice=recovery.done"));
    expect(await notice(page)).toBe("Your password has been changed and every session signed out. Sign in with the new password.");

    expect(await findSession(server.deps, who.tenant, earlier.token)).toBeUndefined();
    const [mail] = await server.store.repos.outbox.list("national", { recipient: who.account.email!, limit: 1 });
    expect(mail).toMatchObject({ channel: "email", template: "password_reset" });

    await signIn(page, server.baseUrl, { ...who, password: "Quadrifoglio-42-Sole!" });
    expect(await sessionRows(page)).toHaveLength(1);
    expect(problems).toEqual([]);
    await context.close();
  });

  // Proves: a contact that receives codes changes only after a level-2 sign-in; the new mobile
  // number is taken only with the code sent to it, and the old number is told.
  it("changes the mobile number with a code to the new one and a notice to the old one", async () => {
    const who = await spidIdentity();
    const oldMobile = who.account.phone!;
    const newMobile = nextMobile();
    const { context, page, problems } = await englishPage(browser);
    await signIn(page, server.baseUrl, who);

    const contacts = page.getByRole("region", { name: "Contact details" });
    const mobileRow = contacts.locator("div").filter({ has: page.getByRole("term").filter({ hasText: /^Mobile number$/ }) });
    const changeMobile = () => submitForm(page, mobileRow.getByRole("button", { name: "Change" }));

    // A password alone may not redirect the codes: sign in again at level 2, then back to the panel.
    await changeMobile();
    await page.waitForURL(url(`/t/national/login?return_to=${encodeURIComponent("/t/national/account")}&level=2&notice=login.reauth`));
    expect(await notice(page)).toBe("For your security, sign in again to make this change.");
    await enterPassword(page, "national", who.account.identifier, who.password);
    await enterSmsCode(page, server, who);
    await page.waitForURL(url("/t/national/account"));

    await changeMobile();
    await page.waitForURL(/\/t\/national\/account\/settings\/[^/?]+$/);
    expect(await heading(page)).toBe("Change your mobile number");
    await page.getByLabel("New mobile number").fill(`${newMobile.slice(0, 3)} ${newMobile.slice(3, 6)} ${newMobile.slice(6)}`);
    await page.getByRole("button", { name: "Continue" }).click();
    await page.waitForURL(/notice=enrol\.sms_sent/);
    expect(await notice(page)).toBe(`We sent a verification code by SMS to ${newMobile}.`);

    await page.getByLabel("Verification code").fill(await lastCodeTo(server, newMobile));
    await page.getByRole("button", { name: "Continue" }).click();
    await page.waitForURL(url("/t/national/account?notice=account.saved"));
    expect(await notice(page)).toBe("Saved.");
    expect(await mobileRow.getByRole("definition").textContent()).toContain(newMobile);
    expect(await contacts.textContent()).not.toContain(oldMobile);

    // The old number received the sign-in code and the notice of the change, nothing else; the
    // code confirming the change went to the new number alone.
    const toOld = await server.store.repos.outbox.list("national", { recipient: oldMobile, limit: 10 });
    expect(toOld.map((m) => [m.channel, m.template])).toEqual([["sms", "contact_changed"], ["sms", "otp"]]);
    const toNew = await server.store.repos.outbox.list("national", { recipient: newMobile, limit: 10 });
    expect(toNew.map((m) => [m.channel, m.template])).toEqual([["sms", "otp"]]);
    expect(await server.store.repos.accounts.find("national", who.account.id)).toMatchObject({ phone: newMobile, phone_verified_at: expect.any(Number) });
    expect(problems).toEqual([]);
    await context.close();
  });

  // Proves: an authenticator app is added from the panel with the QR code or the key shown as text
  // (a code computed from that key confirms it), and can be removed where no second factor is required.
  it("adds an authenticator app from the panel and removes it", async () => {
    const who = await spidIdentity();
    const { context, page, problems } = await englishPage(browser);
    await signInWithSms(page, server, who);

    const factors = page.getByRole("region", { name: "Second factors" });
    await submitForm(page, factors.getByRole("button", { name: "Add an authenticator app" }));
    await page.waitForURL(/\/t\/national\/account\/settings\/[^/?]+$/);
    expect(await heading(page)).toBe("Add an authenticator app");
    const qr = page.getByRole("img", { name: "QR code to scan with the authenticator app" });
    const svg = Buffer.from((await qr.getAttribute("src"))!.replace(/^data:image\/svg\+xml;base64,/, ""), "base64").toString();
    expect(svg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    await expect.poll(() => qr.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
    const secret = (await page.locator("figure.qr figcaption code").textContent())!;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);

    const app = new TOTP({ secret: Secret.fromBase32(secret), algorithm: "SHA1", digits: 6, period: 30 });
    await page.getByLabel("Code shown by the app").fill(app.generate());
    await page.getByRole("button", { name: "Continue" }).click();
    await page.waitForURL(url("/t/national/account?notice=account.totp.added"));
    expect(await notice(page)).toBe("The authenticator app has been added.");
    const apps = factors.locator("h3", { hasText: /^Authenticator app$/ }).locator("xpath=following-sibling::*[1]");
    expect(await apps.getByRole("listitem").count()).toBe(1);
    expect(await server.store.repos.factors.totpFactors(who.account.id)).toEqual([expect.objectContaining({ confirmed_at: expect.any(Number) })]);

    await submitForm(page, apps.getByRole("button", { name: "Remove" }));
    await page.waitForURL(url("/t/national/account?notice=account.saved"));
    expect(await apps.textContent()).toBe("None.");
    expect(await server.store.repos.factors.totpFactors(who.account.id)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  // Proves: a password alone (a level-1 session) cannot remove a second factor: the holder is sent
  // to sign in at level 2 and the factor stays.
  it("asks for a level-2 sign-in before removing an authenticator app", async () => {
    const who = await spidIdentity();
    await confirmedApp(who);
    const { context, page, problems } = await englishPage(browser);
    await signIn(page, server.baseUrl, who);

    await submitForm(page, page.getByRole("region", { name: "Second factors" }).getByRole("button", { name: "Remove" }));
    await page.waitForURL(url(`/t/national/login?return_to=${encodeURIComponent("/t/national/account")}&level=2&notice=login.reauth`));
    expect(await notice(page)).toBe("For your security, sign in again to make this change.");
    expect(await server.store.repos.factors.totpFactors(who.account.id)).toEqual([expect.objectContaining({ confirmed_at: expect.any(Number) })]);
    expect(problems).toEqual([]);
    await context.close();
  });

  // Proves: the university's second factor works at sign-in (a code from the app), and there the
  // last one cannot be removed.
  it("signs in with an authenticator app and refuses to remove the last one where a second factor is required", async () => {
    const who = await newIdentity(server, "university", { identifier: "20000001", password: "Ateneo-Chiaro-2026" });
    const secret = await confirmedApp(who);
    const { context, page, problems } = await englishPage(browser);

    await submitPassword(page, server.baseUrl, "university", who.account.identifier, who.password, 2);
    const totp = page.getByRole("region", { name: "Authenticator app" });
    await totp.getByLabel("Code from the app").fill(new TOTP({ secret: Secret.fromBase32(secret) }).generate());
    await totp.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(url("/t/university/account"));
    expect((await sessionRows(page)).map((r) => r[3])).toEqual(["2"]);

    const factors = page.getByRole("region", { name: "Second factors" });
    await submitForm(page, factors.getByRole("button", { name: "Remove" }), 400);
    await expect.poll(() => errorsShown(page)).toEqual(["This is your last second factor, which this service requires: add another one first."]);
    expect(await factors.getByRole("button", { name: "Remove" }).count()).toBe(1);
    expect(await server.store.repos.factors.totpFactors(who.account.id)).toHaveLength(1);
    expect(problems).toEqual([]);
    await context.close();
  });

  // Proves: from one browser the holder sees and ends the session of another; that browser is then
  // signed out at its next request.
  it("signs out another browser's session from the panel", async () => {
    const who = await spidIdentity();
    const a = await englishPage(browser);
    const b = await englishPage(browser);
    await signIn(b.page, server.baseUrl, who);
    const tokenB = (await sessionToken(b.context, server.baseUrl, "national"))!;
    await signIn(a.page, server.baseUrl, who);

    const rows = await sessionRows(a.page);
    expect(rows).toHaveLength(2);
    expect(rows.map((r) => r[4]).sort()).toEqual(["Sign out", "This session"]);
    await submitForm(a.page, a.page.getByRole("region", { name: "Active sessions" }).getByRole("button", { name: "Sign out", exact: true }));
    await a.page.waitForURL(url("/t/national/account?notice=account.signed_out_session"));
    expect(await notice(a.page)).toBe("The session has been signed out.");
    expect((await sessionRows(a.page)).map((r) => r[4])).toEqual(["This session"]);
    expect(await findSession(server.deps, who.tenant, tokenB)).toBeUndefined();

    await b.page.reload();
    await b.page.waitForURL(url(`/t/national/login?return_to=${encodeURIComponent("/t/national/account")}`));
    expect(await heading(b.page)).toBe("Sign in to Tessera ID");
    // A's session lives on.
    await a.page.reload();
    expect(await heading(a.page)).toBe("Your account");
    expect([...a.problems, ...b.problems]).toEqual([]);
    await a.context.close();
    await b.context.close();
  });
});
