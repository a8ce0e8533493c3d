import { createServer, type Server } from "node:http";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.ts";
import { openStore } from "../../src/store/db.ts";
import { newKeyPair } from "../helpers/saml.ts";

/** `tessera upstream add|list|remove` (seed 001): the SPID/CIE identity providers of a broker tenant. */
let dir: string;
let server: Server | undefined;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "tessera-cli-upstream-"));
});
afterEach(async () => {
  if (server) await new Promise((resolve) => server!.close(resolve));
  server = undefined;
});

async function tessera(args: string[], env: Record<string, string> = {}) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, env: { TESSERA_DATA_DIR: dir, ...env }, cwd: dir });
  return { code, stdout, stderr };
}

async function withCampus() {
  expect((await tessera(["migrate"])).code).toBe(0);
  expect((await tessera(["tenant", "create", "campus", "--name", "Campus", "--locale", "it", "--identifier", "codice_persona"])).code).toBe(0);
}

async function idpMetadata(entityId: string) {
  const keys = await newKeyPair(2048, "CN=idp.example.test");
  return `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${entityId}"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAuthnRequestsSigned="true"><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${keys.certificateBase64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.test/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>`;
}

describe("tessera upstream", () => {
  it("adds a SAML identity provider from a file and one from a URL, lists them, and removes one, audited", async () => {
    await withCampus();
    writeFileSync(path.join(dir, "idp.xml"), await idpMetadata("https://idp.example.test/metadata"));
    const added = await tessera(["upstream", "add", "--tenant", "campus", "--id", "spid-test", "--name", "Test IdP", "--saml-metadata", "idp.xml"]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toBe("spid-test\n");

    const metadata = await idpMetadata("https://other-idp.example.test/metadata");
    server = createServer((_req, res) => res.writeHead(200, { "content-type": "application/samlmetadata+xml" }).end(metadata));
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/metadata`;
    expect((await tessera(["upstream", "add", "--tenant", "campus", "--id", "other", "--name", "Other", "--saml-metadata", url])).code).toBe(0);

    const listed = JSON.parse((await tessera(["upstream", "list", "--tenant", "campus", "--json"])).stdout) as unknown[];
    expect(listed).toEqual([
      { id: "spid-test", protocol: "saml", scheme: "spid", name: "Test IdP", entityId: "https://idp.example.test/metadata", sso: "https://idp.example.test/sso", metadataUrl: null },
      { id: "other", protocol: "saml", scheme: "spid", name: "Other", entityId: "https://other-idp.example.test/metadata", sso: "https://idp.example.test/sso", metadataUrl: url },
    ]);
    expect((await tessera(["upstream", "remove", "--tenant", "campus", "other"])).stdout).toBe("removed other\n");
    expect((await tessera(["upstream", "list", "--tenant", "campus"])).stdout).toBe("spid-test  spid  saml  https://idp.example.test/metadata  Test IdP\n");
    const missing = await tessera(["upstream", "remove", "--tenant", "campus", "other"]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("no upstream other");

    const store = openStore(`sqlite:${path.join(dir, "tessera.db")}`);
    try {
      const audit = await store.db.selectFrom("audit_entries").select("type").where("tenant_id", "=", "campus").orderBy("seq").execute();
      expect(audit.map((a) => a.type)).toEqual(["tenant.created", "broker.upstream_added", "broker.upstream_added", "broker.upstream_removed"]);
    } finally {
      await store.close();
    }
  });

  it("refuses bad metadata, an unreachable issuer, a missing secret, both kinds at once, and a tenant that does not broker, writing nothing", async () => {
    await withCampus();
    writeFileSync(path.join(dir, "bad.xml"), `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://x.example/m"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>`);
    const bad = await tessera(["upstream", "add", "--tenant", "campus", "--id", "bad", "--name", "Bad", "--saml-metadata", "bad.xml"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("no signing certificate");

    const unreachable = await tessera(["upstream", "add", "--tenant", "campus", "--id", "cie", "--name", "CIE", "--scheme", "cie", "--oidc-issuer", "http://127.0.0.1:9/oidc", "--client-id", "c"], { TESSERA_UPSTREAM_CLIENT_SECRET: "s3cret" });
    expect(unreachable.code).not.toBe(0);
    expect(unreachable.stderr).toContain("could not be fetched");
    expect(unreachable.stderr).not.toContain("s3cret");

    const noSecret = await tessera(["upstream", "add", "--tenant", "campus", "--id", "cie", "--name", "CIE", "--oidc-issuer", "http://127.0.0.1:9/oidc", "--client-id", "c"]);
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toContain("TESSERA_UPSTREAM_CLIENT_SECRET");

    const both = await tessera(["upstream", "add", "--tenant", "campus", "--id", "x", "--name", "X", "--saml-metadata", "bad.xml", "--oidc-issuer", "http://127.0.0.1:9"]);
    expect(both.code).toBe(2);

    expect((await tessera(["tenant", "create", "shop", "--name", "Shop", "--locale", "en"])).code).toBe(0);
    writeFileSync(path.join(dir, "idp.xml"), await idpMetadata("https://idp.example.test/metadata"));
    const notBroker = await tessera(["upstream", "add", "--tenant", "shop", "--id", "spid", "--name", "SPID", "--saml-metadata", "idp.xml"]);
    expect(notBroker.code).toBe(2);
    expect(notBroker.stderr).toContain("codice persona");
    expect(JSON.parse((await tessera(["upstream", "list", "--tenant", "campus", "--json"])).stdout)).toEqual([]);
  });
});
