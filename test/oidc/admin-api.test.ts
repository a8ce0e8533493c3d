import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { exportJWK, generateKeyPair } from "jose";
import * as client from "openid-client";
import { afterEach, describe, expect, it } from "vitest";
import type { ClientView } from "../../src/federation/oidc/clients.ts";
import { createSecrets } from "../../src/shared/crypto/secrets.ts";
import { type TestApp, testApp } from "../helpers/app.ts";
import { member, PASSWORD } from "../helpers/flows.ts";
import { httpBrowser } from "../helpers/http-browser.ts";
import { authorizationRequest, type OidcTestApp, oidcTestApp, REDIRECT_URI, signInThrough } from "../helpers/oidc.ts";
import { fakeClock } from "../helpers/stores.ts";

const ADMIN_TOKEN = "admin-token-for-tests-0123456789abcdef";
const RP = "https://rp.example/cb";

let t: TestApp | undefined;
let server: OidcTestApp | undefined;
afterEach(async () => {
  await t?.app.close();
  await t?.store.close();
  await server?.close();
  t = server = undefined;
});

interface ErrorBody {
  error: string;
  error_description: string;
  errors?: { field: string; code: string; message: string }[];
}

/** The admin API as an operator's tool calls it, with the admin token unless told otherwise. */
function adminApi(app: TestApp, headers: Record<string, string> = { authorization: `Bearer ${ADMIN_TOKEN}` }) {
  const url = (tenant: string, id?: string) => `/admin/api/tenants/${tenant}/clients${id === undefined ? "" : `/${id}`}`;
  return {
    list: (tenant = "national") => app.app.inject({ url: url(tenant), headers }),
    get: (id: string, tenant = "national") => app.app.inject({ url: url(tenant, id), headers }),
    create: (payload: object, tenant = "national") => app.app.inject({ method: "POST", url: url(tenant), headers, payload }),
    remove: (id: string, tenant = "national") => app.app.inject({ method: "DELETE", url: url(tenant, id), headers }),
  };
}

/** What the store holds, whatever the API says. */
const storedClients = (app: TestApp, tenant = "national") => app.store.repos.oidcClients.list(tenant);
const clientAudit = (app: TestApp, clientId: string) => app.store.repos.audit.bySubject("national", clientId, ["client.created", "client.deleted"], 10);

async function publicJwks() {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  return { jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: "rp-key-1", alg: "ES256", use: "sig" }] }, privateJwk: await exportJWK(privateKey) };
}

describe("admin API access", () => {
  it("does not exist when no admin token is set", async () => {
    t = await testApp();
    const attempts: Record<string, string>[] = [{}, { authorization: `Bearer ${ADMIN_TOKEN}` }, { authorization: "Bearer " }];
    for (const headers of attempts) {
      const api = adminApi(t, headers);
      for (const res of [await api.list(), await api.get("some-client"), await api.create({ name: "X", redirect_uris: [RP] }), await api.remove("some-client")]) {
        expect(res.statusCode).toBe(404);
        expect(res.json<ErrorBody>().error).toBe("not_found");
      }
    }
    expect(await storedClients(t)).toEqual([]);
  });

  it.each([
    ["no Authorization header", {}],
    ["a wrong token", { authorization: "Bearer not-the-admin-token-0123456789abcdef" }],
    ["the token with one character more", { authorization: `Bearer ${ADMIN_TOKEN}x` }],
    ["an empty Bearer token", { authorization: "Bearer " }],
    ["the token under another scheme", { authorization: `Basic ${ADMIN_TOKEN}` }],
    ["the token bare", { authorization: ADMIN_TOKEN }],
  ])("answers 401 invalid_token to %s, before looking at tenants or bodies", async (_what, headers) => {
    t = await testApp({ adminToken: ADMIN_TOKEN });
    const api = adminApi(t, headers);
    for (const res of [await api.list(), await api.list("ghost"), await api.get("some-client"), await api.create({ name: "X", redirect_uris: [RP] }), await api.remove("some-client")]) {
      expect(res.statusCode).toBe(401);
      expect(res.headers["content-type"]).toMatch(/^application\/json/);
      expect(res.json<ErrorBody>()).toMatchObject({ error: "invalid_token", error_description: expect.any(String) });
      // RFC 6750 §3: the challenge, with the error code once a token was presented.
      expect(res.headers["www-authenticate"]).toMatch(/^Bearer realm="tessera-admin"/);
    }
    expect(await storedClients(t)).toEqual([]);
  });

  it("takes the scheme in any case, as HTTP authentication schemes are", async () => {
    t = await testApp({ adminToken: ADMIN_TOKEN });
    expect((await adminApi(t, { authorization: `bearer ${ADMIN_TOKEN}` }).list()).statusCode).toBe(200);
  });

  it("answers 404 for a tenant that does not exist", async () => {
    t = await testApp({ adminToken: ADMIN_TOKEN });
    const api = adminApi(t);
    for (const tenant of ["ghost", "Not-A-Tenant-Id"]) {
      for (const res of [await api.list(tenant), await api.get("some-client", tenant), await api.create({ name: "X", redirect_uris: [RP] }, tenant), await api.remove("some-client", tenant)]) {
        expect(res.statusCode).toBe(404);
        expect(res.json<ErrorBody>().error).toBe("not_found");
        expect(res.json<ErrorBody>().error_description).toContain(tenant);
      }
    }
  });
});

describe("admin API: registering clients", () => {
  it("registers a secret-based client: 201 with its client_id and client_secret, audited as admin-api", async () => {
    t = await testApp({ adminToken: ADMIN_TOKEN });
    const res = await adminApi(t).create({ name: "Portale", redirect_uris: [RP], grants: ["authorization_code", "refresh_token"], scopes: ["openid", "profile"] });
    expect(res.statusCode).toBe(201);
    const body = res.json<ClientView & { client_secret: string }>();
    expect(body).toMatchObject({
      client_id: expect.stringMatching(/^[\w-]{16,}$/),
      client_secret: expect.stringMatching(/^[\w-]{32,}$/),
      name: "Portale",
      redirect_uris: [RP],
      grants: ["authorization_code", "refresh_token"],
      auth_method: "client_secret_basic",
      scopes: ["openid", "profile"],
    });
    expect((await storedClients(t)).map((c) => c.client_id)).toEqual([body.client_id]);

    const [entry] = await clientAudit(t, body.client_id);
    expect(entry).toMatchObject({ type: "client.created", actor: "admin-api", ip: "127.0.0.1", request_id: res.headers["x-request-id"] });
    expect(JSON.parse(entry!.data)).toEqual({ name: "Portale" });
  });

  it("registers a private_key_jwt client with its public keys, and gives it no secret", async () => {
    t = await testApp({ adminToken: ADMIN_TOKEN });
    const { jwks } = await publicJwks();
    const res = await adminApi(t).create({ name: "Firmato", redirect_uris: [RP], auth_method: "private_key_jwt", jwks });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ auth_method: "private_key_jwt" });
    expect(res.json()).not.toHaveProperty("client_secret");
  });

  it.each([
    ["an unknown field", { name: "X", redirect_uris: [RP], colour: "red" }, "invalid_request", /colour/],
    ["a camelCase field name", { name: "X", redirectUris: [RP] }, "invalid_request", /redirectUris/],
    ["no name", { redirect_uris: [RP] }, "invalid_request", /name/],
    ["a blank name", { name: "   ", redirect_uris: [RP] }, "invalid_client_metadata", /name/],
    ["a grant Tessera does not offer", { name: "X", redirect_uris: [RP], grants: ["password"] }, "invalid_request", /grants/],
    ["an http redirect URI to another host", { name: "X", redirect_uris: ["http://rp.example/cb"] }, "invalid_client_metadata", /https/],
    ["a javascript: redirect URI", { name: "X", redirect_uris: ["javascript:alert(1)"] }, "invalid_client_metadata", /https/],
    ["a redirect URI with a fragment", { name: "X", redirect_uris: ["https://rp.example/cb#top"] }, "invalid_client_metadata", /redirect_uris\.0: .*fragment/],
    ["a redirect URI that is no URL", { name: "X", redirect_uris: ["rp.example/cb"] }, "invalid_client_metadata", /redirect_uris\.0: .*absolute/],
    ["a back-channel logout URI that is no URL", { name: "X", redirect_uris: [RP], backchannel_logout_uri: "nope" }, "invalid_client_metadata", /backchannel_logout_uri: .*absolute/],
    ["the code flow without a redirect URI", { name: "X" }, "invalid_client_metadata", /redirect URI/],
    ["private_key_jwt without keys", { name: "X", redirect_uris: [RP], auth_method: "private_key_jwt" }, "invalid_client_metadata", /public keys/],
  ])("refuses %s with 400, saying why, and registers nothing", async (_what, body, error, reason) => {
    t = await testApp({ adminToken: ADMIN_TOKEN });
    const res = await adminApi(t).create(body);
    expect(res.statusCode).toBe(400);
    const answer = res.json<ErrorBody>();
    expect(answer.error).toBe(error);
    expect(answer.errors?.length).toBeGreaterThan(0);
    expect(answer.errors!.map((e) => `${e.field}: ${e.message}`).join("; ")).toMatch(reason);
    expect(await storedClients(t)).toEqual([]);
    expect(await t.store.repos.audit.page("national", 0, 500)).not.toContainEqual(expect.objectContaining({ type: "client.created" }));
  });

  it("refuses keys with a private part", async () => {
    t = await testApp({ adminToken: ADMIN_TOKEN });
    const { privateJwk } = await publicJwks();
    const res = await adminApi(t).create({ name: "Leaky", redirect_uris: [RP], auth_method: "private_key_jwt", jwks: { keys: [privateJwk] } });
    expect(res.statusCode).toBe(400);
    expect(JSON.stringify(res.json())).toContain("public keys only");
    expect(await storedClients(t)).toEqual([]);
  });
});

describe("admin API: reading and deleting clients", () => {
  async function twoClients(app: TestApp) {
    const api = adminApi(app);
    const portal = (await api.create({ name: "Portale", redirect_uris: [RP] })).json<ClientView & { client_secret: string }>();
    const batch = (await api.create({ name: "Batch", grants: ["client_credentials"] })).json<ClientView & { client_secret: string }>();
    return { portal, batch };
  }

  it("lists a tenant's clients and shows one, never with a secret", async () => {
    t = await testApp({ adminToken: ADMIN_TOKEN });
    const { portal, batch } = await twoClients(t);
    const api = adminApi(t);

    const list = await api.list();
    expect(list.statusCode).toBe(200);
    const listed = list.json<ClientView[]>();
    expect(listed.map((c) => c.client_id).sort()).toEqual([portal.client_id, batch.client_id].sort());
    expect(listed.find((c) => c.client_id === batch.client_id)).toMatchObject({ name: "Batch", grants: ["client_credentials"] });

    const one = await api.get(portal.client_id);
    expect(one.statusCode).toBe(200);
    const { client_secret: _secret, ...view } = portal;
    expect(one.json()).toEqual(view);

    for (const res of [list, one]) {
      expect(res.body).not.toContain(portal.client_secret);
      expect(res.body).not.toContain(batch.client_secret);
      expect(res.body).not.toContain('"client_secret"');
    }
  });

  it("keeps each tenant's clients to itself", async () => {
    t = await testApp({ adminToken: ADMIN_TOKEN });
    const { portal } = await twoClients(t);
    const api = adminApi(t);
    expect((await api.list("pro")).json()).toEqual([]);
    expect((await api.get(portal.client_id, "pro")).statusCode).toBe(404);
    expect((await api.remove(portal.client_id, "pro")).statusCode).toBe(404);
    expect((await api.get(portal.client_id)).statusCode).toBe(200);
  });

  it("deletes a client: 204, then 404 for it; audited as admin-api", async () => {
    t = await testApp({ adminToken: ADMIN_TOKEN });
    const { portal, batch } = await twoClients(t);
    const api = adminApi(t);

    const deleted = await api.remove(portal.client_id);
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe("");
    for (const res of [await api.get(portal.client_id), await api.remove(portal.client_id)]) {
      expect(res.statusCode).toBe(404);
      expect(res.json<ErrorBody>()).toMatchObject({ error: "not_found", error_description: expect.stringContaining(portal.client_id) });
    }
    expect((await api.list()).json<ClientView[]>().map((c) => c.client_id)).toEqual([batch.client_id]);

    const audit = await clientAudit(t, portal.client_id);
    expect(audit.map((e) => [e.type, e.actor])).toEqual([
      ["client.deleted", "admin-api"],
      ["client.created", "admin-api"],
    ]);
    expect(audit[0]!.request_id).toBe(deleted.headers["x-request-id"]);
  });
});

describe("a client registered through the admin API", () => {
  it("signs a user in with the authorization code flow, and stops working once deleted", async () => {
    // Two nodes of one database: one serves OpenID Connect, the other the admin API, its clock
    // at the real time (the signing keys made by whichever first needs them must sign now).
    const databaseUrl = `sqlite:${path.join(mkdtempSync(path.join(tmpdir(), "tessera-admin-api-")), "tessera.db")}`;
    const secrets = createSecrets(randomBytes(32));
    server = await oidcTestApp({ databaseUrl, secrets });
    t = await testApp({ adminToken: ADMIN_TOKEN }, { databaseUrl, secrets, clock: fakeClock(Date.now()) });
    const { account } = await member(server, "national", { identifier: "admin.api@example.it", email: "admin.api@example.it", emailVerified: true, givenName: "Ada" });

    const created = await adminApi(t).create({ name: "Portale", redirect_uris: [REDIRECT_URI], grants: ["authorization_code", "refresh_token"], scopes: ["openid", "profile"] });
    expect(created.statusCode).toBe(201);
    const { client_id: clientId, client_secret: secret } = created.json<{ client_id: string; client_secret: string }>();

    const rp = await server.relyingParty("national", clientId, client.ClientSecretBasic(secret));
    const request = await authorizationRequest(rp, { scope: "openid profile" });
    const back = await signInThrough(server, httpBrowser(server.baseUrl), request.url.href, { tenant: "national", identifier: "admin.api@example.it", password: PASSWORD });
    expect(back.origin + back.pathname).toBe(REDIRECT_URI);
    const tokens = await client.authorizationCodeGrant(rp, back, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });
    expect(tokens.claims()).toMatchObject({ iss: `${server.baseUrl}/t/national`, aud: clientId, sub: account.id });
    expect(await client.fetchUserInfo(rp, tokens.access_token, account.id)).toMatchObject({ sub: account.id, given_name: "Ada" });

    expect((await adminApi(t).remove(clientId)).statusCode).toBe(204);
    await expect(client.refreshTokenGrant(rp, tokens.refresh_token!)).rejects.toMatchObject({ status: 401 });
  });
});
