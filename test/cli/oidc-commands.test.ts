import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { exportJWK, generateKeyPair } from "jose";
import * as client from "openid-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.ts";
import type { ClientView } from "../../src/federation/oidc/clients.ts";
import { DEFAULT_ACTIVATION_SECONDS, RETENTION_MS, type SigningKey } from "../../src/federation/signing-keys.ts";
import { loadMasterKey } from "../../src/shared/crypto/master-key.ts";
import { createSecrets } from "../../src/shared/crypto/secrets.ts";
import { openStore } from "../../src/store/db.ts";
import { type OidcTestApp, oidcTestApp } from "../helpers/oidc.ts";

const RP = "https://rp.example/cb";

let dir: string;
let t: OidcTestApp | undefined;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "tessera-cli-oidc-"));
});
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** Runs the CLI in this process with a data dir of its own. */
async function tessera(args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { TESSERA_DATA_DIR: dir },
    cwd: dir,
  });
  return { code, stdout, stderr };
}

/** The data dir's database migrated, with the tenant `acme`. */
async function withAcme() {
  expect((await tessera(["migrate"])).code).toBe(0);
  expect((await tessera(["tenant", "create", "acme", "--name", "ACME", "--locale", "en"])).code).toBe(0);
}

async function createClient(args: string[], tenant = "acme"): Promise<{ client_id: string; client_secret?: string }> {
  const { code, stdout, stderr } = await tessera(["client", "create", "--tenant", tenant, ...args, "--json"]);
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout) as { client_id: string; client_secret?: string };
}

async function listClients(tenant = "acme"): Promise<ClientView[]> {
  const { code, stdout, stderr } = await tessera(["client", "list", "--tenant", tenant, "--json"]);
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout) as ClientView[];
}

async function listKeys(): Promise<SigningKey[]> {
  const { code, stdout, stderr } = await tessera(["keys", "list", "--tenant", "acme", "--json"]);
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout) as SigningKey[];
}

/** The tenant's audit entries, oldest first, read straight from the data dir's database. */
async function auditEntries(tenant: string) {
  const store = openStore(`sqlite:${path.join(dir, "tessera.db")}`);
  try {
    return await store.repos.audit.page(tenant, 0, 500);
  } finally {
    await store.close();
  }
}

/** A relying party's key pair, its public half in a JWK Set file in the data dir. */
async function jwksFile(name = "rp-jwks.json") {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: "rp-key-1", alg: "ES256", use: "sig" };
  writeFileSync(path.join(dir, name), JSON.stringify({ keys: [jwk] }));
  return { file: name, privateKey, privateJwk: await exportJWK(privateKey) };
}

describe("tessera client create", () => {
  beforeEach(withAcme);

  it("registers a secret-based client and prints its id and secret as JSON, the secret only this once", async () => {
    const { code, stdout } = await tessera(["client", "create", "--tenant", "acme", "--name", "Portale", "--redirect-uri", RP, "--json"]);
    expect(code).toBe(0);
    const printed = JSON.parse(stdout) as Record<string, string>;
    expect(Object.keys(printed).sort()).toEqual(["client_id", "client_secret"]);
    expect(printed.client_id).toMatch(/^[\w-]{16,}$/);
    expect(printed.client_secret).toMatch(/^[\w-]{32,}$/);

    const shown = await tessera(["client", "show", "--tenant", "acme", printed.client_id!]);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      client_id: printed.client_id,
      name: "Portale",
      redirect_uris: [RP],
      grants: ["authorization_code"],
      auth_method: "client_secret_basic",
    });
    expect(shown.stdout).not.toContain(printed.client_secret);
  });

  it("prints the id and the secret without --json too", async () => {
    const { code, stdout } = await tessera(["client", "create", "--tenant", "acme", "--name", "Portale", "--redirect-uri", RP]);
    expect(code).toBe(0);
    const [client] = await listClients();
    expect(stdout).toContain(client!.client_id);
    expect(stdout).toMatch(/secret.*: [\w-]{32,}\n/);
  });

  it("registers a private_key_jwt client with the public keys of a JWKS file, and prints no secret", async () => {
    const { file } = await jwksFile();
    const printed = await createClient(["--name", "Firmato", "--redirect-uri", RP, "--auth-method", "private_key_jwt", "--jwks", file]);
    expect(Object.keys(printed)).toEqual(["client_id"]);
    const shown = await tessera(["client", "show", "--tenant", "acme", printed.client_id]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ client_id: printed.client_id, auth_method: "private_key_jwt" });
  });

  it.each([
    ["an http redirect URI to another host", ["--redirect-uri", "http://rp.example/cb"], /redirectUris.*https/],
    ["a javascript: redirect URI", ["--redirect-uri", "javascript:alert(1)"], /redirectUris.*https/],
    ["a redirect URI with a fragment", ["--redirect-uri", "https://rp.example/cb#top"], /redirectUris.*fragment/],
    ["a redirect URI that is no URL", ["--redirect-uri", "rp.example/cb"], /redirectUris.*absolute/],
    ["a back-channel logout URI that is no URL", ["--redirect-uri", RP, "--backchannel-logout-uri", "nope"], /backchannelLogoutUri.*absolute/],
    ["a JWKS file that does not exist", ["--redirect-uri", RP, "--auth-method", "private_key_jwt", "--jwks", "missing.json"], /--jwks.*missing\.json/],
    ["the code flow without a redirect URI", [], /redirect URI/],
    ["private_key_jwt without --jwks", ["--redirect-uri", RP, "--auth-method", "private_key_jwt"], /jwks.*public keys/],
    ["client_credentials for a client that does not authenticate", ["--grant", "client_credentials", "--auth-method", "none"], /client_credentials/],
    ["an unknown grant", ["--redirect-uri", RP, "--grant", "password"], /password/],
  ])("refuses %s with exit 2, a reason, and nothing created", async (_what, args, reason) => {
    await createClient(["--name", "Already there", "--redirect-uri", RP]);
    const before = await listClients();

    const { code, stdout, stderr } = await tessera(["client", "create", "--tenant", "acme", "--name", "Nuovo", ...args, "--json"]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toMatch(reason);
    expect(await listClients()).toEqual(before);
    expect((await auditEntries("acme")).filter((e) => e.type === "client.created")).toHaveLength(1);
  });

  it("refuses a JWKS file that holds a private key", async () => {
    const { privateJwk } = await jwksFile();
    writeFileSync(path.join(dir, "private.json"), JSON.stringify({ keys: [privateJwk] }));
    const { code, stderr } = await tessera(["client", "create", "--tenant", "acme", "--name", "Leaky", "--redirect-uri", RP, "--auth-method", "private_key_jwt", "--jwks", "private.json"]);
    expect(code).toBe(2);
    expect(stderr).toContain("public keys only");
    expect(await listClients()).toEqual([]);
  });
});

describe("tessera client list, show and delete", () => {
  beforeEach(withAcme);

  it("lists the tenant's clients, as JSON and as text, never with their secrets", async () => {
    const portal = await createClient(["--name", "Portale", "--redirect-uri", RP]);
    const batch = await createClient(["--name", "Batch", "--grant", "client_credentials"]);
    const { file } = await jwksFile();
    const signed = await createClient(["--name", "Firmato", "--redirect-uri", RP, "--auth-method", "private_key_jwt", "--jwks", file]);

    const { stdout: json } = await tessera(["client", "list", "--tenant", "acme", "--json"]);
    const listed = JSON.parse(json) as ClientView[];
    expect(listed.map((c) => c.client_id).sort()).toEqual([portal.client_id, batch.client_id, signed.client_id].sort());
    expect(listed.find((c) => c.client_id === batch.client_id)).toMatchObject({ name: "Batch", grants: ["client_credentials"], auth_method: "client_secret_basic" });
    const { stdout: text } = await tessera(["client", "list", "--tenant", "acme"]);
    for (const c of [portal, batch, signed]) expect(text).toContain(c.client_id);
    expect(text).toContain("Portale");

    for (const output of [json, text]) {
      expect(output).not.toContain(portal.client_secret);
      expect(output).not.toContain(batch.client_secret);
    }
    for (const c of listed) expect(Object.keys(c).filter((k) => /secret/.test(k))).toEqual([]);
    // Another tenant's list is its own.
    expect((await tessera(["tenant", "create", "other", "--name", "Other", "--locale", "en"])).code).toBe(0);
    expect(await listClients("other")).toEqual([]);
  });

  it("shows a client, deletes it, and then no longer finds it", async () => {
    const { client_id } = await createClient(["--name", "Portale", "--redirect-uri", RP, "--scope", "openid", "profile", "--level", "2", "--id-token-alg", "ES256", "--pairwise"]);
    const shown = await tessera(["client", "show", "--tenant", "acme", client_id]);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ client_id, scopes: ["openid", "profile"], levels: [2], id_token_alg: "ES256", subject_type: "pairwise" });

    const deleted = await tessera(["client", "delete", "--tenant", "acme", client_id]);
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toContain(client_id);
    expect(await listClients()).toEqual([]);

    for (const command of ["show", "delete"]) {
      const again = await tessera(["client", command, "--tenant", "acme", client_id]);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain(`no client ${client_id}`);
    }
  });

  it("does not show or delete a client through another tenant", async () => {
    const { client_id } = await createClient(["--name", "Portale", "--redirect-uri", RP]);
    expect((await tessera(["tenant", "create", "other", "--name", "Other", "--locale", "en"])).code).toBe(0);
    expect((await tessera(["client", "show", "--tenant", "other", client_id])).code).toBe(1);
    expect((await tessera(["client", "delete", "--tenant", "other", client_id])).code).toBe(1);
    expect((await listClients()).map((c) => c.client_id)).toEqual([client_id]);
  });

  it("audits creation and deletion with the actor cli, in an intact chain", async () => {
    const { client_id } = await createClient(["--name", "Portale", "--redirect-uri", RP]);
    expect((await tessera(["client", "delete", "--tenant", "acme", client_id])).code).toBe(0);
    const entries = (await auditEntries("acme")).filter((e) => e.subject === client_id);
    expect(entries.map((e) => [e.type, e.actor])).toEqual([
      ["client.created", "cli"],
      ["client.deleted", "cli"],
    ]);
    expect(JSON.parse(entries[0]!.data)).toEqual({ name: "Portale" });
    expect((await tessera(["audit", "verify", "--tenant", "acme"])).code).toBe(0);
  });
});

describe("tessera client and keys on an unknown tenant", () => {
  beforeEach(withAcme);

  it.each([
    ["client", "create", "--name", "X", "--redirect-uri", RP],
    ["client", "list"],
    ["client", "show", "some-client"],
    ["client", "delete", "some-client"],
    ["keys", "list"],
    ["keys", "rotate"],
  ])("%s %s exits 1 naming the tenant", async (...command) => {
    const [group, verb, ...rest] = command;
    const { code, stdout, stderr } = await tessera([group, verb, "--tenant", "ghost", ...rest]);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toContain("ghost");
    expect(await auditEntries("ghost")).toEqual([]);
  });
});

describe("tessera keys", () => {
  beforeEach(async () => {
    await withAcme();
    // A tenant's provider makes its first keys when it is first used: here, by a registration.
    await createClient(["--name", "Portale", "--redirect-uri", RP]);
  });

  it("lists the tenant's RS256 and ES256 keys, signing now", async () => {
    const keys = await listKeys();
    expect(keys.map((k) => k.alg).sort()).toEqual(["ES256", "RS256"]);
    for (const k of keys) expect(k).toMatchObject({ state: "active", retiresAt: null, expiresAt: null });

    const { code, stdout } = await tessera(["keys", "list", "--tenant", "acme"]);
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    for (const k of keys) expect(lines.find((l) => l.includes(k.kid))).toContain(k.alg);
  });

  it("rotates: adds a key of each algorithm signing after the default delay; the old ones stay listed until then and after", async () => {
    const old = await listKeys();
    const before = Date.now();
    const rotated = await tessera(["keys", "rotate", "--tenant", "acme", "--json"]);
    const after = Date.now();
    expect(rotated.code).toBe(0);
    const added = JSON.parse(rotated.stdout) as SigningKey[];
    expect(added.map((k) => k.alg).sort()).toEqual(["ES256", "RS256"]);
    const activatesAt = added[0]!.activatesAt;
    expect(activatesAt).toBeGreaterThanOrEqual(before + DEFAULT_ACTIVATION_SECONDS * 1000);
    expect(activatesAt).toBeLessThanOrEqual(after + DEFAULT_ACTIVATION_SECONDS * 1000);
    for (const k of added) expect(k).toMatchObject({ state: "upcoming", activatesAt, retiresAt: null });

    const keys = await listKeys();
    expect(keys).toHaveLength(4);
    expect(keys.map((k) => k.kid)).toEqual(expect.arrayContaining([...old, ...added].map((k) => k.kid)));
    // The old keys sign until the new ones start, and stay published while what they signed lives.
    for (const k of keys.filter((k) => old.some((o) => o.kid === k.kid))) {
      expect(k).toMatchObject({ state: "active", retiresAt: activatesAt, expiresAt: activatesAt + RETENTION_MS });
    }

    const audit = (await auditEntries("acme")).filter((e) => e.type === "signing_keys.rotated");
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actor).toBe("cli");
    expect(JSON.parse(audit[0]!.data)).toMatchObject({ added: expect.arrayContaining(added.map((k) => k.kid)), retiring: expect.arrayContaining(old.map((k) => k.kid)) });
  });

  it("with --activate-in, shows the new keys signing from that much later", async () => {
    const before = Date.now();
    const { code, stdout } = await tessera(["keys", "rotate", "--tenant", "acme", "--activate-in", "3600"]);
    const after = Date.now();
    expect(code).toBe(0);
    const added = (await listKeys()).filter((k) => k.state === "upcoming");
    expect(added).toHaveLength(2);
    for (const k of added) {
      expect(k.activatesAt).toBeGreaterThanOrEqual(before + 3_600_000);
      expect(k.activatesAt).toBeLessThanOrEqual(after + 3_600_000);
      // The text output shows when each new key starts signing.
      expect(stdout.split("\n").find((l) => l.includes(k.kid))).toContain(new Date(k.activatesAt).toISOString());
    }
  });

  it("with --activate-in 0, signs with the new keys at once and retires the old ones", async () => {
    const old = await listKeys();
    const rotated = await tessera(["keys", "rotate", "--tenant", "acme", "--activate-in", "0", "--json"]);
    expect(rotated.code).toBe(0);
    const added = JSON.parse(rotated.stdout) as SigningKey[];
    const keys = await listKeys();
    for (const k of keys) {
      expect(k.state).toBe(added.some((a) => a.kid === k.kid) ? "active" : "retiring");
    }
    expect(keys.filter((k) => k.state === "retiring").map((k) => k.kid).sort()).toEqual(old.map((k) => k.kid).sort());
  });

  it.each(["soon", "1.5", "-60"])("refuses --activate-in %s as bad usage and adds no keys", async (value) => {
    const { code, stderr } = await tessera(["keys", "rotate", "--tenant", "acme", `--activate-in=${value}`]);
    expect(code).toBe(2);
    expect(stderr).toContain("--activate-in");
    expect(await listKeys()).toHaveLength(2);
  });
});

describe("tessera keys rotate on a tenant that has no keys yet", () => {
  beforeEach(withAcme);

  it("makes its first keys, signing at once rather than after the delay", async () => {
    const { code, stderr } = await tessera(["keys", "rotate", "--tenant", "acme"]);
    expect(code, stderr).toBe(0);
    const keys = await listKeys();
    expect(keys.map((k) => [k.alg, k.state]).sort()).toEqual([["ES256", "active"], ["RS256", "active"]]);
  });
});

describe("a client registered on the command line, on a server running on the same database", () => {
  /** A refused client_secret_basic authentication, as openid-client reports it: a 401 with a Basic challenge. */
  const INVALID_CLIENT = { status: 401, cause: [{ parameters: { error: "invalid_client" } }] };

  /** The app on the data dir's database, with the master key the CLI uses; the demo tenants. */
  async function serverOnDataDir() {
    t = await oidcTestApp({ databaseUrl: `sqlite:${path.join(dir, "tessera.db")}`, secrets: createSecrets(loadMasterKey(undefined, dir).key) });
    return t;
  }

  it("gets client-credentials tokens with its secret, and not once deleted", async () => {
    const app = await serverOnDataDir();
    const { client_id, client_secret } = await createClient(["--name", "Batch", "--grant", "client_credentials"], "national");
    const rp = await app.relyingParty("national", client_id, client.ClientSecretBasic(client_secret));

    const tokens = await client.clientCredentialsGrant(rp);
    expect(tokens.access_token).toBeTruthy();
    expect(await client.tokenIntrospection(rp, tokens.access_token)).toMatchObject({ active: true, client_id });
    const wrongSecret = await app.relyingParty("national", client_id, client.ClientSecretBasic(`${client_secret!}x`));
    await expect(client.clientCredentialsGrant(wrongSecret)).rejects.toMatchObject(INVALID_CLIENT);

    expect((await tessera(["client", "delete", "--tenant", "national", client_id])).code).toBe(0);
    await expect(client.clientCredentialsGrant(rp)).rejects.toMatchObject(INVALID_CLIENT);
  });

  it("authenticates a private_key_jwt client with the keys from its JWKS file", async () => {
    const app = await serverOnDataDir();
    const { file, privateKey } = await jwksFile();
    const { client_id } = await createClient(["--name", "Firmato", "--grant", "client_credentials", "--auth-method", "private_key_jwt", "--jwks", file], "national");
    const rp = await app.relyingParty("national", client_id, client.PrivateKeyJwt({ key: privateKey, kid: "rp-key-1" }), { token_endpoint_auth_signing_alg: "ES256" });
    expect((await client.clientCredentialsGrant(rp)).access_token).toBeTruthy();

    const stranger = await generateKeyPair("ES256");
    const impostor = await app.relyingParty("national", client_id, client.PrivateKeyJwt({ key: stranger.privateKey, kid: "rp-key-1" }), { token_endpoint_auth_signing_alg: "ES256" });
    await expect(client.clientCredentialsGrant(impostor)).rejects.toMatchObject({ error: "invalid_client" });
  });
});
