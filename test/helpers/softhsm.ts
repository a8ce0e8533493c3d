import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export const SOFTHSM_MODULE = process.env.TESSERA_SOFTHSM_MODULE ?? "/usr/lib/softhsm/libsofthsm2.so";

/**
 * PKCS#11 tests run against Debian's SoftHSM2 whenever it is installed; in CI a missing SoftHSM2
 * fails the run instead of skipping them.
 */
export const softhsmAvailable = existsSync(SOFTHSM_MODULE) || Boolean(process.env.CI);

let configured: string | undefined;

/**
 * A new SoftHSM2 token with this label and user PIN, in a token directory of this test process.
 * SoftHSM reads SOFTHSM2_CONF and finds its tokens when the library is initialised (once per
 * process): make every token a test file needs before its first PKCS#11 call.
 */
export function softhsmToken(label: string, pin = "246810"): { module: string; tokenLabel: string; pin: string } {
  if (!configured) {
    const dir = mkdtempSync(path.join(tmpdir(), "tessera-softhsm-"));
    configured = path.join(dir, "softhsm2.conf");
    execFileSync("mkdir", ["-p", path.join(dir, "tokens")]);
    writeFileSync(configured, `directories.tokendir = ${path.join(dir, "tokens")}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
    process.env.SOFTHSM2_CONF = configured;
  }
  execFileSync("softhsm2-util", ["--init-token", "--free", "--label", label, "--so-pin", "13579111", "--pin", pin], { env: { ...process.env, SOFTHSM2_CONF: configured }, stdio: "ignore" });
  return { module: SOFTHSM_MODULE, tokenLabel: label, pin };
}
