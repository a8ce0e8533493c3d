import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { expect } from "vitest";
import { type Account, createAccount, type NewAccount } from "../../src/identity/accounts.ts";
import { setPassword } from "../../src/identity/password/service.ts";
import { setSecurityAnswer } from "../../src/identity/security-question.ts";
import type { RunningServer } from "../../src/server.ts";
import { findTenant } from "../../src/tenants/service.ts";
import type { Tenant } from "../../src/tenants/tenant.ts";
import { lastCodeTo } from "./enrolment.ts";

/** The sign-in page's identifier label, in English, by tenant. */
const IDENTIFIER_LABEL: Record<string, string> = {
  national: "E-mail address (user ID)",
  university: "Codice persona",
  pro: "DNI or NIE",
};

const BY = { actor: "test" };

export interface Identity {
  tenant: Tenant;
  account: Account;
  password: string;
}

/**
 * A fresh, active identity with a password of its own (and, given `question`, a security answer),
 * made with the identity services as an operator's tool would: no test depends on another's.
 */
export async function newIdentity(
  server: Pick<RunningServer, "store" | "deps">,
  tenantId: string,
  input: Omit<NewAccount, "state"> & { password: string; question?: { id: string; answer: string } },
): Promise<Identity> {
  const { password, question, ...account } = input;
  const tenant = (await findTenant(server.store.repos, tenantId))!;
  const created = await createAccount(server.deps, tenant, { state: "active", ...account }, BY);
  await setPassword(server.deps, tenant, created, password, BY);
  if (question) {
    expect(await setSecurityAnswer(server.deps, tenant, created, question.id, question.answer, BY)).toEqual({ ok: true });
  }
  return { tenant, account: created, password };
}

/** A browser context in English, with a page that records script errors and CSP violations. */
export async function englishPage(browser: Browser): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ locale: "en-GB" });
  // Failures surface as Playwright's own errors (what it waited for, where the page was) rather
  // than as the test's time limit.
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const problems: string[] = [];
  // A form answered 400 (an error shown on purpose) logs "Failed to load resource": not a problem.
  page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && problems.push(m.text()));
  page.on("pageerror", (e) => problems.push(e.message));
  return { context, page, problems };
}

/** Fills in the sign-in form on the page shown (identifier and password) and submits it. */
export async function enterPassword(page: Page, tenant: string, identifier: string, password: string) {
  await page.getByLabel(IDENTIFIER_LABEL[tenant]!, { exact: true }).fill(identifier);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

/** Opens `/t/<tenant>/login` (at `level`) and signs in with the password. */
export async function submitPassword(page: Page, baseUrl: string, tenant: string, identifier: string, password: string, level: 1 | 2 = 1) {
  await page.goto(`${baseUrl}/t/${tenant}/login${level === 2 ? "?level=2" : ""}`);
  await enterPassword(page, tenant, identifier, password);
}

/** On the second-factor page: asks for the SMS code, reads it where the phone would, types it in. */
export async function enterSmsCode(page: Page, server: Pick<RunningServer, "store" | "deps">, who: Identity) {
  const sms = page.getByRole("region", { name: "Code by SMS" });
  await sms.getByRole("button", { name: /^Send a code to / }).click();
  await page.waitForURL(/notice=login\.sms_sent/);
  await sms.getByLabel("Verification code").fill(await lastCodeTo(server, who.account.phone!, who.tenant.id));
  await sms.getByRole("button", { name: "Sign in" }).click();
}

/** Signs in at level 1 and waits for the self-service panel. */
export async function signIn(page: Page, baseUrl: string, who: Identity) {
  await submitPassword(page, baseUrl, who.tenant.id, who.account.identifier, who.password);
  await page.waitForURL(`${baseUrl}/t/${who.tenant.id}/account`);
}

/** Signs in at level 2 with the password and a code by SMS, and waits for the panel. */
export async function signInWithSms(page: Page, server: Pick<RunningServer, "store" | "deps" | "baseUrl">, who: Identity) {
  await submitPassword(page, server.baseUrl, who.tenant.id, who.account.identifier, who.password, 2);
  await enterSmsCode(page, server, who);
  await page.waitForURL(`${server.baseUrl}/t/${who.tenant.id}/account`);
}

/** The session cookie the browser holds for `tenant`. */
export async function sessionToken(context: BrowserContext, baseUrl: string, tenant: string): Promise<string | undefined> {
  return (await context.cookies(`${baseUrl}/t/${tenant}/`)).find((c) => c.name === "tessera_session")?.value;
}

/** The panel's sessions table, one array of cell texts per session (device, address, since, level, action). */
export async function sessionRows(page: Page): Promise<string[][]> {
  const rows = page.getByRole("region", { name: "Active sessions" }).locator("tbody tr");
  const count = await rows.count();
  const cells: string[][] = [];
  for (let i = 0; i < count; i++) cells.push((await rows.nth(i).locator("td").allTextContents()).map((c) => c.trim()));
  return cells;
}

/**
 * Clicks a button that posts its form and checks the answer's status: 303 for a change that is
 * made (post, redirect, get), 400 for a form shown again with its errors. Any other answer fails
 * with the words of the page that came back, not just a navigation that never came.
 */
export async function submitForm(page: Page, button: Locator, status: 303 | 400 = 303): Promise<void> {
  const answered = page.waitForResponse((r) => r.request().method() === "POST");
  await button.click();
  const response = await answered;
  const said = response.status() === status ? "" : (await response.text()).replace(/^[\s\S]*<main[^>]*>|<\/main>[\s\S]*$/g, "").replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim();
  expect(response.status(), `POST ${new URL(response.url()).pathname}: ${said}`).toBe(status);
}

/** The text of the page's error summary, one entry per error. */
export const errorsShown = (page: Page) => page.getByRole("alert").locator("li").allTextContents();
