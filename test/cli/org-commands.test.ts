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

/** `tessera org add|list|representative add|remove`: the professionals' organisations. */
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "tessera-cli-org-"));
});

async function tessera(args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, env: { TESSERA_DATA_DIR: dir }, cwd: dir });
  return { code, stdout, stderr };
}

describe("tessera org", () => {
  it("registers organisations by a checked CIF, names their representatives, lists them, and says what is wrong", async () => {
    expect((await tessera(["migrate"])).code).toBe(0);
    const store = openStore(`sqlite:${path.join(dir, "tessera.db")}`);
    await ensureTenants(store, systemClock, demoTenants, { actor: "test" });
    const tenant = (await findTenant(store.repos, "pro"))!;
    const deps = { repos: store.repos, clock: systemClock, secrets: createSecrets(loadMasterKey(undefined, dir).key) };
    await createAccount(deps, tenant, { identifier: "12345678Z", state: "active", email: "ane@example.eus" }, { actor: "test" });
    await store.close();

    const added = await tessera(["org", "add", "--tenant", "pro", "--name", "Ayuntamiento de Ejemplo", "--tax-id", "p-4800100-b", "--json"]);
    expect(added.code, added.stderr).toBe(0);
    const city = JSON.parse(added.stdout) as { id: string; taxId: string; name: string; country: string };
    expect(city).toMatchObject({ taxId: "P4800100B", name: "Ayuntamiento de Ejemplo", country: "ES" });
    // A wrong control character is no CIF; the same CIF twice is one organisation.
    const wrong = await tessera(["org", "add", "--tenant", "pro", "--name", "Otra", "--tax-id", "P4800100A"]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("is not a valid CIF");
    const twice = await tessera(["org", "add", "--tenant", "pro", "--name", "Otro nombre", "--tax-id", "P4800100B"]);
    expect(twice.code).toBe(1);

    const rep = await tessera(["org", "representative", "add", "--tenant", "pro", "--org", "P4800100B", "--account", "12345678z"]);
    expect(rep.code, rep.stderr).toBe(0);
    expect(rep.stdout).toBe("12345678z: represents P4800100B\n");
    expect(JSON.parse((await tessera(["org", "list", "--tenant", "pro", "--json"])).stdout)).toEqual([expect.objectContaining({ id: city.id, taxId: "P4800100B", representatives: ["12345678Z"] })]);
    expect((await tessera(["org", "list", "--tenant", "pro"])).stdout).toBe(`${city.id}  P4800100B  Ayuntamiento de Ejemplo  (12345678Z)\n`);
    const nobody = await tessera(["org", "representative", "add", "--tenant", "pro", "--org", city.id, "--account", "87654321X"]);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toContain("no account 87654321X");

    expect((await tessera(["org", "representative", "remove", "--tenant", "pro", "--org", city.id, "--account", "12345678Z"])).code).toBe(0);
    expect((await tessera(["org", "representative", "remove", "--tenant", "pro", "--org", city.id, "--account", "12345678Z"])).code).toBe(1);
    expect((await tessera(["audit", "verify", "--tenant", "pro"])).code).toBe(0);
  });
});
