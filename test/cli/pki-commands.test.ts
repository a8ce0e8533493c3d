import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.ts";
import { EC_ALGORITHMS, openssl } from "../helpers/pki.ts";

/** `tessera pki init|show|issue|revoke|list`: a tenant's certification authorities for operators. */
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "tessera-cli-pki-"));
});

async function tessera(args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, env: { TESSERA_DATA_DIR: dir, TESSERA_BASE_URL: "https://id.example.eus" }, cwd: dir });
  return { code, stdout, stderr };
}

async function withFirma() {
  expect((await tessera(["migrate"])).code).toBe(0);
  writeFileSync(
    path.join(dir, "firma.json"),
    JSON.stringify({ displayName: "Firma", locales: ["es"], policy: { identifier: "dni", pki: { algorithms: EC_ALGORITHMS, organization: { name: "Firma Ejemplo", identifier: "VATES-A11111111", country: "ES" } } } }),
  );
  expect((await tessera(["tenant", "create", "firma", "--from-file", "firma.json"])).code).toBe(0);
}

describe("tessera pki", () => {
  it("sets up a tenant's PKI once, issues for a CSR, lists, revokes, and says what is wrong", async () => {
    await withFirma();
    const none = await tessera(["pki", "show", "--tenant", "firma"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("tenant firma has no PKI (tessera pki init --tenant firma)");

    const init = await tessera(["pki", "init", "--tenant", "firma"]);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/^root\s+CN=Firma Ejemplo Root CA, organizationIdentifier=VATES-A11111111, O=Firma Ejemplo, C=ES\n\s+serial [0-9a-f]+\s+EC-P384 \(software\)/m);
    expect(init.stdout).toMatch(/^issuing\s+CN=Firma Ejemplo Qualified CA/m);
    const again = await tessera(["pki", "init", "--tenant", "firma"]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("the PKI of firma was set up already; nothing changed");
    expect(again.stdout).toBe(init.stdout);

    const shown = JSON.parse((await tessera(["pki", "show", "--tenant", "firma", "--json"])).stdout) as { chain: string; authorities: { role: string }[] };
    expect(shown.authorities.map((a) => a.role)).toEqual(["root", "issuing", "ocsp", "tsa"]);
    writeFileSync(path.join(dir, "chain.pem"), shown.chain);

    await openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "key.pem", "-subj", "/CN=whatever the applicant typed", "-out", "req.pem"], { cwd: dir });
    const issued = await tessera([
      "pki", "issue", "--tenant", "firma", "--csr", "req.pem", "--country", "ES", "--common-name", "ANE ETXEBERRIA", "--given-name", "Ane", "--surname", "Etxeberria",
      "--serial-number", "IDCES-12345678Z", "--organization", "Ejemplo S.L.", "--organization-id", "VATES-B12345674", "--days", "30", "--out", "leaf.pem", "--json",
    ]);
    expect(issued.code, issued.stderr).toBe(0);
    const { serial, notAfter } = JSON.parse(issued.stdout) as { serial: string; notAfter: string };
    expect(new Date(notAfter).getTime() - Date.now()).toBeLessThanOrEqual(30 * 86_400_000);
    expect((await openssl(["verify", "-CAfile", "chain.pem", "leaf.pem"], { cwd: dir })).stdout).toContain("leaf.pem: OK");
    // The CA states the subject; what the CSR said is not copied.
    const subject = (await openssl(["x509", "-in", "leaf.pem", "-noout", "-subject"], { cwd: dir })).stdout;
    expect(subject).toContain("CN = ANE ETXEBERRIA");
    expect(subject).not.toContain("whatever");
    expect((await openssl(["x509", "-in", "leaf.pem", "-noout", "-text"], { cwd: dir })).stdout).toContain("URI:https://id.example.eus/t/firma/pki/ocsp");

    // A CSR whose signature does not match its key proves nothing: refused.
    const der = Buffer.from(readFileSync(path.join(dir, "req.pem"), "latin1").replace(/-----[^-]+-----|\s/g, ""), "base64");
    der[der.length - 5]! ^= 0x01;
    writeFileSync(path.join(dir, "forged.der"), der);
    const forged = await tessera(["pki", "issue", "--tenant", "firma", "--csr", "forged.der", "--country", "ES", "--common-name", "X"]);
    expect(forged.code).toBe(2);
    expect(forged.stderr).toContain("the request's signature does not verify with its own key");
    const badSerial = await tessera(["pki", "issue", "--tenant", "firma", "--csr", "req.pem", "--country", "ES", "--common-name", "X", "--serial-number", "12345678Z"]);
    expect(badSerial.code).toBe(1);
    expect(badSerial.stderr).toContain("subject.serialNumber");

    const listed = JSON.parse((await tessera(["pki", "list", "--tenant", "firma", "--json"])).stdout) as { serial: string; status: string; profile: string }[];
    expect(listed.filter((c) => !c.profile.startsWith("authority:"))).toEqual([expect.objectContaining({ serial, status: "valid", profile: "qualified-signing" })]);

    const revoked = await tessera(["pki", "revoke", "--tenant", "firma", "--serial", serial.toUpperCase(), "--reason", "keyCompromise"]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toMatch(new RegExp(`^revoked ${serial} \\(keyCompromise\\) at `));
    expect((await tessera(["pki", "list", "--tenant", "firma"])).stdout).toContain(`${serial}  qualified-signing  revoked (keyCompromise)`);
    const twice = await tessera(["pki", "revoke", "--tenant", "firma", "--serial", serial]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain("was revoked on");
    expect((await tessera(["pki", "revoke", "--tenant", "firma", "--serial", serial, "--reason", "because"])).code).toBe(2);
    expect((await tessera(["pki", "revoke", "--tenant", "firma", "--serial", "zz"])).stderr).toContain("not a serial number");

    const audit = await tessera(["audit", "verify", "--tenant", "firma"]);
    expect(audit.code).toBe(0);
  });
});
