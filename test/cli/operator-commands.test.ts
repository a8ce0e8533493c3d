import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.ts";
import { createAccount } from "../../src/identity/accounts.ts";
import { createSecrets } from "../../src/shared/crypto/secrets.ts";
import { loadMasterKey } from "../../src/shared/crypto/master-key.ts";
import { systemClock } from "../../src/shared/clock.ts";
import { openStore } from "../../src/store/db.ts";
import { demoTenants } from "../../src/tenants/demo.ts";
import { ensureTenants, findTenant } from "../../src/tenants/service.ts";

/** `tessera operator add|list|remove`: the staff who verify identities. */
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "tessera-cli-operator-"));
});

async function tessera(args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, env: { TESSERA_DATA_DIR: dir }, cwd: dir });
  return { code, stdout, stderr };
}

describe("tessera operator", () => {
  it("gives an account a role at a point, lists the staff, takes a role away, and says what is wrong", async () => {
    expect((await tessera(["migrate"])).code).toBe(0);
    const store = openStore(`sqlite:${path.join(dir, "tessera.db")}`);
    await ensureTenants(store, systemClock, demoTenants, { actor: "test" });
    const tenant = (await findTenant(store.repos, "national"))!;
    const deps = { repos: store.repos, clock: systemClock, secrets: createSecrets(loadMasterKey(undefined, dir).key) };
    await createAccount(deps, tenant, { identifier: "laura@example.it", state: "active", email: "laura@example.it" }, { actor: "test" });
    await createAccount(deps, tenant, { identifier: "nuovo@example.it", state: "awaiting_proofing", email: "nuovo@example.it" }, { actor: "test" });
    await store.close();

    const added = await tessera(["operator", "add", "--tenant", "national", "--account", "laura@example.it", "--role", "registration_officer", "--point", "roma-corso"]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toBe("laura@example.it: registration_officer at roma-corso\n");
    expect((await tessera(["operator", "add", "--tenant", "national", "--account", "laura@example.it", "--role", "supervisor"])).code).toBe(0);
    expect(JSON.parse((await tessera(["operator", "list", "--tenant", "national", "--json"])).stdout)).toEqual([
      { account: "laura@example.it", role: "registration_officer", point: "roma-corso" },
      { account: "laura@example.it", role: "supervisor", point: null },
    ]);

    const noPoint = await tessera(["operator", "add", "--tenant", "national", "--account", "laura@example.it", "--role", "registration_officer", "--point", "torino"]);
    expect(noPoint.code).toBe(1);
    expect(noPoint.stderr).toContain("roma-corso, milano-duomo, napoli-toledo");
    const inactive = await tessera(["operator", "add", "--tenant", "national", "--account", "nuovo@example.it", "--role", "supervisor"]);
    expect(inactive.code).toBe(1);
    expect(inactive.stderr).toContain("only an active account can be an operator");
    expect((await tessera(["operator", "add", "--tenant", "national", "--account", "laura@example.it", "--role", "boss"])).code).toBe(2);

    expect((await tessera(["operator", "remove", "--tenant", "national", "--account", "laura@example.it", "--role", "supervisor"])).stdout).toBe("removed supervisor from laura@example.it\n");
    expect((await tessera(["operator", "list", "--tenant", "national"])).stdout).toBe("laura@example.it  registration_officer  roma-corso\n");
    expect((await tessera(["operator", "remove", "--tenant", "national", "--account", "laura@example.it", "--role", "supervisor"])).code).toBe(1);
    expect((await tessera(["audit", "verify", "--tenant", "national"])).code).toBe(0);
  });
});
