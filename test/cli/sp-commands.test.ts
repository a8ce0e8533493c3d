import { createServer, type Server } from "node:http";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.ts";
import type { ServiceProviderDescription } from "../../src/federation/saml/service-provider.ts";
import { openStore } from "../../src/store/db.ts";
import { newKeyPair, SP_ENTITY, spMetadata } from "../helpers/saml.ts";

let dir: string;
let server: Server | undefined;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "tessera-cli-sp-"));
});
afterEach(async () => {
  if (server) await new Promise((resolve) => server!.close(resolve));
  server = undefined;
});

async function tessera(args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, env: { TESSERA_DATA_DIR: dir }, cwd: dir });
  return { code, stdout, stderr };
}

async function withAcme() {
  expect((await tessera(["migrate"])).code).toBe(0);
  expect((await tessera(["tenant", "create", "acme", "--name", "ACME", "--locale", "en"])).code).toBe(0);
}

describe("tessera sp", () => {
  it("adds from a file, prints the entityID, lists, updates and removes, with audit entries", async () => {
    await withAcme();
    const keys = await newKeyPair();
    writeFileSync(path.join(dir, "sp.xml"), spMetadata({ certificateBase64: keys.certificateBase64 }));
    const added = await tessera(["sp", "add", "--tenant", "acme", "--metadata", "sp.xml"]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toBe(`${SP_ENTITY}\n`);

    const listed = await tessera(["sp", "list", "--tenant", "acme", "--json"]);
    const sps = JSON.parse(listed.stdout) as ServiceProviderDescription[];
    expect(sps).toHaveLength(1);
    expect(sps[0]).toMatchObject({ entityId: SP_ENTITY, name: "Comune di Esempio", assertionConsumerServices: [{ index: 0, isDefault: true }, { index: 1, isDefault: false }] });
    expect(sps[0]!.attributeConsumingServices[1]).toEqual({ index: 1, name: "Solo codice fiscale", attributes: ["fiscalNumber"] });
    expect((await tessera(["sp", "list", "--tenant", "acme"])).stdout).toContain(`${SP_ENTITY}  acs=0,1  attributes=0:6,1:1  Comune di Esempio`);

    // New metadata for the same entity replaces the old.
    writeFileSync(path.join(dir, "sp.xml"), spMetadata({ certificateBase64: keys.certificateBase64, attributeSets: [{ index: 0, name: "Solo nome", attributes: ["name"] }] }));
    expect((await tessera(["sp", "add", "--tenant", "acme", "--metadata", "sp.xml"])).code).toBe(0);
    const again = JSON.parse((await tessera(["sp", "list", "--tenant", "acme", "--json"])).stdout) as ServiceProviderDescription[];
    expect(again.map((s) => s.attributeConsumingServices)).toEqual([[{ index: 0, name: "Solo nome", attributes: ["name"] }]]);

    expect((await tessera(["sp", "remove", "--tenant", "acme", SP_ENTITY])).stdout).toBe(`removed ${SP_ENTITY}\n`);
    expect(JSON.parse((await tessera(["sp", "list", "--tenant", "acme", "--json"])).stdout)).toEqual([]);
    const missing = await tessera(["sp", "remove", "--tenant", "acme", SP_ENTITY]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("no service provider");

    const store = openStore(`sqlite:${path.join(dir, "tessera.db")}`);
    const types = (await store.repos.audit.page("acme", 0, 100)).map((e) => e.type);
    await store.close();
    expect(types.filter((t) => t.startsWith("saml."))).toEqual(["saml.sp_registered", "saml.sp_updated", "saml.sp_removed"]);
  });

  it("fetches metadata from a URL", async () => {
    await withAcme();
    const keys = await newKeyPair();
    const xml = spMetadata({ certificateBase64: keys.certificateBase64, entityId: "https://other.example.it/sp" });
    server = createServer((_req, res) => res.writeHead(200, { "content-type": "application/samlmetadata+xml" }).end(xml));
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const added = await tessera(["sp", "add", "--tenant", "acme", "--metadata", `http://127.0.0.1:${port}/metadata`]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toBe("https://other.example.it/sp\n");
  });

  it.each([
    ["AuthnRequestsSigned missing", { authnRequestsSigned: null }, 'AuthnRequestsSigned="true"'],
    ["AuthnRequestsSigned false", { authnRequestsSigned: "false" }, 'AuthnRequestsSigned="true"'],
    ["no HTTP-POST ACS", { acs: [{ index: 0, location: "https://sp.example.it/acs", binding: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" }] }, "HTTP-POST"],
    ["two defaults", { acs: [{ index: 0, location: "https://sp.example.it/a", isDefault: true }, { index: 1, location: "https://sp.example.it/b", isDefault: true }] }, "more than one"],
    ["an ACS without index", { acs: [{ index: -1, location: "https://sp.example.it/a" }] }, "index"],
    ["an ACS over plain http elsewhere", { acs: [{ index: 0, location: "http://sp.example.it/acs" }] }, "https"],
    ["a non-SPID attribute", { attributeSets: [{ index: 0, name: "x", attributes: ["name", "shoeSize"] }] }, "shoeSize"],
    ["duplicate attribute set index", { attributeSets: [{ index: 0, name: "a", attributes: ["name"] }, { index: 0, name: "b", attributes: ["email"] }] }, "share an index"],
  ])("refuses metadata with %s, naming the problem", async (_name, change, problem) => {
    await withAcme();
    const keys = await newKeyPair();
    writeFileSync(path.join(dir, "sp.xml"), spMetadata({ certificateBase64: keys.certificateBase64, ...change }));
    const result = await tessera(["sp", "add", "--tenant", "acme", "--metadata", "sp.xml"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(problem);
    expect(JSON.parse((await tessera(["sp", "list", "--tenant", "acme", "--json"])).stdout)).toEqual([]);
  });

  it("refuses a 1024-bit signing certificate, a DTD, and a file that is not there", async () => {
    await withAcme();
    const weak = await newKeyPair(1024);
    writeFileSync(path.join(dir, "weak.xml"), spMetadata({ certificateBase64: weak.certificateBase64 }));
    expect((await tessera(["sp", "add", "--tenant", "acme", "--metadata", "weak.xml"])).stderr).toContain("fewer than 2048 bits");
    const keys = await newKeyPair();
    writeFileSync(path.join(dir, "dtd.xml"), spMetadata({ certificateBase64: keys.certificateBase64 }).replace('<?xml version="1.0"?>', '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'));
    expect((await tessera(["sp", "add", "--tenant", "acme", "--metadata", "dtd.xml"])).stderr).toContain("document type declarations");
    const missing = await tessera(["sp", "add", "--tenant", "acme", "--metadata", "nowhere.xml"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("nowhere.xml");
  });
});
