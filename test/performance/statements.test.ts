import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { member, PASSWORD } from "../helpers/flows.ts";
import { httpBrowser } from "../helpers/http-browser.ts";
import { authorizationRequest, type OidcTestApp, oidcTestApp, REDIRECT_URI, signInThrough } from "../helpers/oidc.ts";
import { newKeyPair, nodeSamlSp, postedForm, registerSp, spMetadata } from "../helpers/saml.ts";

/**
 * Issue 19: the SQL statements each hot path runs, counted. Every statement is a round trip to
 * PostgreSQL (and a wake-up of its backend on the same cores), so their number is what the
 * benchmarks' per-request cost follows; counting them, not timing them, does not flake. The
 * budgets are today's counts: a change that adds a statement to one of these paths fails here,
 * and has to say why in the budget it raises.
 */
let recording: string[] | undefined;
let t: OidcTestApp;

beforeAll(async () => {
  t = await oidcTestApp(undefined, { onQuery: (sql) => recording?.push(sql) });
  await member(t, "national", { identifier: "mario@example.it", email: "mario@example.it", emailVerified: true });
  // Whose wrong passwords delay nobody else's sign-ins here.
  await member(t, "national", { identifier: "luigi@example.it", email: "luigi@example.it", emailVerified: true });
});
afterAll(async () => t?.close());

async function statementsOf(run: () => Promise<unknown>): Promise<string[]> {
  recording = [];
  try {
    await run();
    return recording;
  } finally {
    recording = undefined;
  }
}

const form = (body: Record<string, string>) => ({
  method: "POST",
  redirect: "manual" as const,
  headers: { origin: t.baseUrl, "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(body).toString(),
});

describe("statements per request on the hot paths (SQLite)", () => {
  it("a password sign-in: 16, each read once, the counters booked and given back in 4, the last use not rewritten within the hour", async () => {
    const signIn = async () => {
      const res = await fetch(`${t.baseUrl}/t/national/login`, form({ identifier: "mario@example.it", password: PASSWORD, level: "1" }));
      expect(res.status).toBe(303);
    };
    await signIn();
    const statements = await statementsOf(signIn);
    expect(statements.length).toBeLessThanOrEqual(16);
    // Read once each outside the transaction and once under it, never more.
    expect(statements.filter((s) => s.startsWith('select "accounts".*')).length).toBe(2);
    expect(statements.filter((s) => s.startsWith('select * from "accounts"'))).toEqual([]);
    expect(statements.filter((s) => s.startsWith('select * from "throttles"')).length).toBe(1);
    expect(statements.filter((s) => s.includes('"throttles"')).length).toBe(4);
    expect(statements.filter((s) => s.startsWith('update "accounts"'))).toEqual([]);
    expect(statements.filter((s) => s.includes("audit_heads")).length).toBe(1);
  });

  it("an unknown identifier runs the same statements as a wrong password", async () => {
    const attempt = (identifier: string) => statementsOf(() => fetch(`${t.baseUrl}/t/national/login`, form({ identifier, password: "Sbagliata-2026!", level: "1" })));
    expect(await attempt("nessuno@example.it")).toEqual(await attempt("luigi@example.it"));
  });

  it("client_credentials: 2 (the tenant, the client) and the token it stores", async () => {
    const { clientId, secret } = await t.registerClient("national", { name: "API", grants: ["client_credentials"] });
    const token = async () => {
      const res = await fetch(`${t.baseUrl}/t/national/oidc/token`, {
        method: "POST",
        headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString("base64")}`, "content-type": "application/x-www-form-urlencoded" },
        body: "grant_type=client_credentials",
      });
      expect(res.status).toBe(200);
    };
    await token();
    expect((await statementsOf(token)).length).toBeLessThanOrEqual(3);
  });

  it("SAML SSO for a signed-in user: 10, the request recorded with its answer in one write, the account read with the session", async () => {
    const keys = await newKeyPair();
    await registerSp(t, "national", spMetadata({ certificateBase64: keys.certificateBase64 }));
    const sp = await nodeSamlSp(t.baseUrl, "national", keys);
    const browser = httpBrowser(t.baseUrl);
    let page = await browser.go(await sp.getAuthorizeUrlAsync("relay", undefined, {}));
    page = await browser.submit(page, /\/login$/, { identifier: "mario@example.it", password: PASSWORD });
    if (page.html.includes('name="decision"')) page = await browser.submit(page, /consent/, { decision: "allow" });
    expect(postedForm(page.html).fields.SAMLResponse).toBeTruthy();
    const url = await sp.getAuthorizeUrlAsync("relay", undefined, {});
    const statements = await statementsOf(async () => expect(postedForm((await browser.go(url)).html).fields.SAMLResponse).toBeTruthy());
    expect(statements.length).toBeLessThanOrEqual(10);
    expect(statements.filter((s) => s.includes('"saml_requests"'))).toEqual([expect.stringMatching(/^insert into "saml_requests"/)]);
    expect(statements.filter((s) => s.includes('from "accounts"')).length).toBe(0);
  });

  it("the OpenID Connect code flow and userinfo", async () => {
    const web = await t.registerClient("national", { name: "Web", redirectUris: [REDIRECT_URI] });
    const rp = await t.relyingParty("national", web.clientId, client.ClientSecretBasic(web.secret!));
    const first = await authorizationRequest(rp);
    await signInThrough(t, httpBrowser(t.baseUrl), first.url.href, { tenant: "national", identifier: "mario@example.it", password: PASSWORD });
    const request = await authorizationRequest(rp);
    let back: URL | undefined;
    const browserSide = await statementsOf(async () => {
      back = await signInThrough(t, httpBrowser(t.baseUrl), request.url.href, { tenant: "national", identifier: "mario@example.it", password: PASSWORD });
    });
    expect(browserSide.length).toBeLessThanOrEqual(46);
    let tokens: client.TokenEndpointResponse | undefined;
    const tokenSide = await statementsOf(async () => {
      tokens = await client.authorizationCodeGrant(rp, back!, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });
    });
    expect(tokenSide.length).toBeLessThanOrEqual(8);
    const userinfo = await statementsOf(async () => {
      const res = await fetch(`${t.baseUrl}/t/national/oidc/userinfo`, { headers: { authorization: `Bearer ${tokens!.access_token}` } });
      expect(res.status).toBe(200);
    });
    // The tenant, then oidc-provider's: the token, its session, the client, the account, the grant.
    // The bearer token is not looked up as a Tessera session.
    expect(userinfo.length).toBeLessThanOrEqual(6);
    expect(userinfo.filter((s) => s.includes('from "sessions"'))).toEqual([]);
  });
});
