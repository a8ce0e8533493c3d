import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../src/server.ts";
import { loadSettings } from "../../src/shared/config/settings.ts";
import { browserAvailable, launchBrowser } from "../helpers/browser.ts";
import { englishPage, enterPassword } from "../helpers/login.ts";
import { REPO_ROOT, runTessera, type Spawned, spawnProcess } from "../helpers/process.ts";

/** A port nobody listens on, for the example application (its redirect URI names it). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === "object" && address ? address.port : 0;
}

/**
 * The README's "Connect an application", step by step: the demo server, a client registered with
 * `tessera client create`, and examples/oidc-client.mjs as the relying party, used by a person in
 * chromium: sign in, consent, the application's page with the claims, and signing out again.
 */
describe.skipIf(!browserAvailable)("the README's example application in chromium", () => {
  let server: RunningServer;
  let browser: Browser;
  let example: Spawned;
  let app: string;

  beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "tessera-oidc-example-"));
    const settings = loadSettings({ flags: { port: "0", host: "localhost", dataDir, logLevel: "warn" }, env: {}, cwd: dataDir });
    server = await startServer(settings, { demo: true });
    const port = await freePort();
    app = `http://localhost:${port}`;

    const created = await runTessera(["client", "create", "--tenant", "national", "--name", "Example application", "--redirect-uri", `${app}/callback`,
      "--post-logout-redirect-uri", `${app}/`, "--data-dir", dataDir, "--json"]);
    expect(created.code, created.stderr).toBe(0);
    const { client_id, client_secret } = JSON.parse(created.stdout) as { client_id: string; client_secret: string };

    example = spawnProcess(process.execPath, [path.join(REPO_ROOT, "examples/oidc-client.mjs")], {
      env: { ISSUER: `${server.baseUrl}/t/national`, CLIENT_ID: client_id, CLIENT_SECRET: client_secret, PORT: String(port) },
    });
    await example.waitFor(/Example application on/);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await example?.stop();
    await server?.close();
  });

  it("signs the demo citizen in through Tessera's pages, shows their claims, and signs them out", async () => {
    const { context, page, problems } = await englishPage(browser);
    await page.goto(`${app}/`);
    await page.getByRole("link", { name: "Sign in with Tessera" }).click();

    await page.waitForURL(`${server.baseUrl}/t/national/login?**`);
    await enterPassword(page, "national", "mario.rossi@example.it", "Tessera-Demo-2026!");
    await page.waitForURL(`${server.baseUrl}/t/national/authorize/**`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toContain("Example application");
    expect(await page.getByRole("listitem").filter({ hasText: "Codice fiscale" }).count()).toBe(1);
    await page.getByRole("button", { name: "Allow", exact: true }).click();

    await page.waitForURL(`${app}/`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Hello, Mario");
    expect(await page.locator("#acr").textContent()).toBe("https://www.spid.gov.it/SpidL1");
    expect(await page.getByRole("row", { name: /fiscal_number/ }).textContent()).toContain("TINIT-RSSMRA80A01H501U");

    await page.getByRole("link", { name: "Sign out" }).click();
    await page.waitForURL(`${server.baseUrl}/t/national/oidc/logout**`);
    await page.getByRole("button", { name: "Yes, sign me out" }).click();
    await page.waitForURL(`${app}/`);
    await page.getByRole("link", { name: "Sign in with Tessera" }).waitFor();

    // Signed out of Tessera as well: the next sign-in asks for the password again, and, the
    // consent being remembered, the sign-in form's answer leads straight back to the application.
    await page.getByRole("link", { name: "Sign in with Tessera" }).click();
    await page.waitForURL(`${server.baseUrl}/t/national/login?**`);
    await enterPassword(page, "national", "mario.rossi@example.it", "Tessera-Demo-2026!");
    await page.waitForURL(`${app}/`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Hello, Mario");
    expect(problems).toEqual([]);
    await context.close();
  });
});
