import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../src/server.ts";
import { loadSettings } from "../../src/shared/config/settings.ts";
import { browserAvailable, launchBrowser } from "../helpers/browser.ts";

describe.skipIf(!browserAvailable)("tenant home pages in chromium", () => {
  let server: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "tessera-browser-"));
    const settings = loadSettings({ flags: { port: "0", dataDir, logLevel: "warn" }, env: {}, cwd: dataDir });
    server = await startServer(settings, { demo: true });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it.each([
    ["national", "it", "Tessera ID · La tua identità digitale SPID", "English", "en", "Tessera ID · Your SPID digital identity"],
    ["university", "it", "Università Tessera · Servizi Online · Accesso ai Servizi Online dell'Ateneo", "English", "en", "Università Tessera · Servizi Online · Access to the University's Online Services"],
    ["pro", "es", "Tessera Pro · Profesionales en la nube · Tu identidad digital profesional, en la nube", "English", "en", "Tessera Pro · Profesionales en la nube · Your professional digital identity, in the cloud"],
  ])("%s: title, language switch, styles, no CSP violations", async (tenant, lang, title, switchLabel, newLang, newTitle) => {
    const context = await browser.newContext({ locale: "de-DE" });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("console", (msg) => {
      if (msg.type() === "error") problems.push(msg.text());
    });
    page.on("pageerror", (err) => problems.push(err.message));

    const response = await page.goto(`${server.baseUrl}/t/${tenant}/`);
    expect(response?.status()).toBe(200);
    expect(await page.title()).toBe(title);
    expect(await page.getAttribute("html", "lang")).toBe(lang);

    // The stylesheets loaded under the CSP: the header takes the tenant's colour.
    const brand = (await (await fetch(`${server.baseUrl}/t/${tenant}/theme.css`)).text()).match(/--brand:(#\w+)/)![1]!;
    // Evaluated in the page (a string, since this project's types have no DOM).
    const headerColour = await page.evaluate("getComputedStyle(document.querySelector('.site-header')).backgroundColor");
    expect(headerColour).toBe(hexToRgb(brand));

    await page.getByRole("navigation").getByRole("link", { name: switchLabel }).click();
    await page.waitForURL(/\?lang=/);
    expect(await page.getAttribute("html", "lang")).toBe(newLang);
    expect(await page.title()).toBe(newTitle);
    await expect(page.locator('[aria-current="true"]').textContent()).resolves.toBe("English");

    // The choice is remembered on the next visit without ?lang=.
    await page.goto(`${server.baseUrl}/t/${tenant}/`);
    expect(await page.getAttribute("html", "lang")).toBe(newLang);

    expect(problems).toEqual([]);
    await context.close();
  });

  it("shows a localised 404 page for an unknown tenant", async () => {
    const context = await browser.newContext({ locale: "it-IT" });
    const page = await context.newPage();
    const response = await page.goto(`${server.baseUrl}/t/inesistente/`);
    expect(response?.status()).toBe(404);
    expect(await page.getAttribute("html", "lang")).toBe("it");
    expect(await page.getByRole("alert").textContent()).toContain("Qui non esiste un servizio di identità chiamato «inesistente».");
    await context.close();
  });
});

function hexToRgb(hex: string): string {
  const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
  return `rgb(${r}, ${g}, ${b})`;
}
