import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

const CHROMIUM = process.env.TESSERA_CHROMIUM ?? "/usr/bin/chromium";

/**
 * Browser tests use Debian's chromium (browsers cannot be downloaded here). They run whenever it
 * is installed; in CI a missing chromium fails the run instead of skipping the tests.
 */
export const browserAvailable = existsSync(CHROMIUM) || Boolean(process.env.CI);

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // The machine has no outside network: keep chromium from trying to reach it.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
