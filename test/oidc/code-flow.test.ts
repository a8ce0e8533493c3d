import { createServer, type Server } from "node:http";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import * as client from "openid-client";
import { afterEach, describe, expect, it } from "vitest";
import { EID } from "../../src/federation/oidc/claims.ts";
import { PASSWORD, member } from "../helpers/flows.ts";
import { httpBrowser } from "../helpers/http-browser.ts";
import { authorizationRequest, type OidcTestApp, oidcTestApp, REDIRECT_URI, signInThrough } from "../helpers/oidc.ts";

let t: OidcTestApp;
const servers: Server[] = [];
afterEach(async () => {
  await t?.close();
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
});

const SPID_L1 = "https://www.spid.gov.it/SpidL1";
const SPID_L2 = "https://www.spid.gov.it/SpidL2";
const LOGGED_OUT = "http://localhost:4100/logged-out";

const mario = {
  identifier: "mario.bianchi@example.it",
  email: "mario.bianchi@example.it",
  emailVerified: true,
  phone: "+393331119001",
  phoneVerified: true,
  givenName: "Mario",
  familyName: "Bianchi",
  sex: "M" as const,
  birthDate: "1985-03-12",
  birthPlace: "F205",
  countyOfBirth: "MI",
  fiscalCode: "BNCMRA85C12F205Q",
  spidCode: "TESS0000000042",
  documentType: "carta_identita",
  documentNumber: "CA11111AA",
  documentIssuer: "Comune di Milano",
  documentIssueDate: "2021-05-01",
  documentExpiryDate: "2031-05-01",
};

/** A relying party's web server, for back-channel logout tokens. */
async function logoutReceiver(): Promise<{ url: string; tokens: string[] }> {
  const tokens: string[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      tokens.push(new URLSearchParams(body).get("logout_token") ?? "");
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  const address = server.address();
  return { url: `http://localhost:${typeof address === "object" && address ? address.port : 0}/backchannel`, tokens };
}

describe("authorization code flow with openid-client as the relying party", () => {
  it("signs in at level 1 through the login pages, with a valid ID token, userinfo claims and rotating refresh tokens", async () => {
    t = await oidcTestApp();
    const { account } = await member(t, "national", mario);
    const { clientId, secret } = await t.registerClient("national", {
      name: "Comune Digitale",
      redirectUris: [REDIRECT_URI],
      grants: ["authorization_code", "refresh_token"],
    });
    const rp = await t.relyingParty("national", clientId, client.ClientSecretBasic(secret!));
    const request = await authorizationRequest(rp, { scope: "openid profile email", acr_values: SPID_L1, claims: JSON.stringify({ userinfo: { [`${EID}spid_code`]: null, document_details: null } }) });
    const browser = httpBrowser(t.baseUrl);

    const back = await signInThrough(t, browser, request.url.href, { tenant: "national", identifier: mario.identifier, password: PASSWORD });
    expect(back.origin + back.pathname).toBe(REDIRECT_URI);
    const tokens = await client.authorizationCodeGrant(rp, back, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });
    const idToken = tokens.claims()!;
    expect(idToken).toMatchObject({ iss: `${t.baseUrl}/t/national`, aud: clientId, sub: account.id, acr: SPID_L1, amr: ["pwd"] });
    expect(decodeProtectedHeader(tokens.id_token!)).toMatchObject({ alg: "RS256", kid: expect.any(String) });
    // Scope claims go to userinfo, not into the ID token (OIDC Core §5.4; SPID OIDC).
    expect(idToken).not.toHaveProperty("given_name");

    const userinfo = await client.fetchUserInfo(rp, tokens.access_token, account.id);
    expect(userinfo).toEqual({
      sub: account.id,
      given_name: "Mario",
      family_name: "Bianchi",
      birthdate: "1985-03-12",
      gender: "male",
      [`${EID}fiscal_number`]: "TINIT-BNCMRA85C12F205Q",
      place_of_birth: { locality: "F205", region: "MI" },
      preferred_username: "mario.bianchi@example.it",
      email: "mario.bianchi@example.it",
      email_verified: true,
      [`${EID}spid_code`]: "TESS0000000042",
      document_details: {
        type: "cartaIdentita",
        document_number: "CA11111AA",
        issuer: { name: "ComuneMilano" },
        date_of_issuance: "2021-05-01",
        date_of_expiry: "2031-05-01",
      },
    });

    // Refresh with rotation: the new token works once, the old one never again, and reusing it
    // revokes the whole grant (RFC 9700 §4.14.2).
    const refreshed = await client.refreshTokenGrant(rp, tokens.refresh_token!);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.claims()).toMatchObject({ sub: account.id, acr: SPID_L1 });
    await expect(client.refreshTokenGrant(rp, tokens.refresh_token!)).rejects.toMatchObject({ error: "invalid_grant" });
    await expect(client.refreshTokenGrant(rp, refreshed.refresh_token!)).rejects.toMatchObject({ error: "invalid_grant" });
    await expect(client.fetchUserInfo(rp, refreshed.access_token, account.id)).rejects.toMatchObject({ status: 401 });
  });

  it("signs in at level 2 with an SMS code, and signs ID tokens with ES256 for a client that asks", async () => {
    t = await oidcTestApp();
    const { account } = await member(t, "national", mario);
    const { clientId, secret } = await t.registerClient("national", { name: "Agenzia", redirectUris: [REDIRECT_URI], idTokenAlg: "ES256" });
    const rp = await t.relyingParty("national", clientId, client.ClientSecretBasic(secret!));
    const request = await authorizationRequest(rp, { acr_values: SPID_L2 });
    const browser = httpBrowser(t.baseUrl);

    const back = await signInThrough(t, browser, request.url.href, { tenant: "national", identifier: mario.identifier, password: PASSWORD, phone: mario.phone });
    const tokens = await client.authorizationCodeGrant(rp, back, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe("ES256");
    expect(tokens.claims()).toMatchObject({ sub: account.id, acr: SPID_L2 });
    expect(tokens.claims()!.amr).toEqual(expect.arrayContaining(["pwd", "sms", "mfa"]));

    // Single sign-on: a level-1 request now needs no page at all, and says what was reached.
    const again = await authorizationRequest(rp, { acr_values: SPID_L1 });
    const page = await browser.go(again.url.href);
    expect(page.status).toBe(0);
    const second = await client.authorizationCodeGrant(rp, new URL(page.url), { pkceCodeVerifier: again.verifier, expectedState: again.state, expectedNonce: again.nonce });
    expect(second.claims()).toMatchObject({ acr: SPID_L2 });
  });

  it("gives a client of the professionals' tenant a session of DNI, password and code, even when it asks for level 1", async () => {
    t = await oidcTestApp();
    const { account } = await member(t, "pro", { identifier: "87654321X", phone: "+34600000077", phoneVerified: true, givenName: "Koldo", familyName: "Urrutia" });
    const { clientId, secret } = await t.registerClient("pro", { name: "Sede electrónica", redirectUris: [REDIRECT_URI] });
    const rp = await t.relyingParty("pro", clientId, client.ClientSecretBasic(secret!));
    const request = await authorizationRequest(rp, { acr_values: SPID_L1 });
    const back = await signInThrough(t, httpBrowser(t.baseUrl), request.url.href, { tenant: "pro", identifier: "87654321x", password: PASSWORD, phone: "+34600000077" });
    const tokens = await client.authorizationCodeGrant(rp, back, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });
    // Two factors are mandatory there (seed 002): what the client gets is level 2, whatever it asked.
    expect(tokens.claims()).toMatchObject({ iss: `${t.baseUrl}/t/pro`, sub: account.id, acr: SPID_L2 });
    expect(tokens.claims()!.amr).toEqual(expect.arrayContaining(["pwd", "sms", "mfa"]));
  });

  it("steps a level-1 session up to level 2 when a client asks for it, and forces a new sign-in on prompt=login", async () => {
    t = await oidcTestApp();
    await member(t, "national", mario);
    const { clientId, secret } = await t.registerClient("national", { name: "Agenzia", redirectUris: [REDIRECT_URI] });
    const rp = await t.relyingParty("national", clientId, client.ClientSecretBasic(secret!));
    const browser = httpBrowser(t.baseUrl);
    const who = { tenant: "national", identifier: mario.identifier, password: PASSWORD, phone: mario.phone };

    const first = await authorizationRequest(rp);
    await signInThrough(t, browser, first.url.href, who);

    const stepUp = await authorizationRequest(rp, { acr_values: SPID_L2 });
    const login = await browser.go(stepUp.url.href);
    expect(new URL(login.url).pathname).toBe("/t/national/login");
    expect(new URL(login.url).searchParams.get("level")).toBe("2");
    const back = await signInThrough(t, browser, login, who);
    const tokens = await client.authorizationCodeGrant(rp, back, { pkceCodeVerifier: stepUp.verifier, expectedState: stepUp.state, expectedNonce: stepUp.nonce });
    expect(tokens.claims()!.acr).toBe(SPID_L2);

    const fresh = await authorizationRequest(rp, { prompt: "login" });
    const asked = await browser.go(fresh.url.href);
    expect(new URL(asked.url).pathname).toBe("/t/national/login");
    const before = Math.floor(Date.now() / 1000);
    const again = await signInThrough(t, browser, asked, who);
    const renewed = await client.authorizationCodeGrant(rp, again, { pkceCodeVerifier: fresh.verifier, expectedState: fresh.state, expectedNonce: fresh.nonce });
    expect(renewed.claims()!.auth_time ?? renewed.claims()!.iat).toBeGreaterThanOrEqual(before);
  });
});

describe("logout", () => {
  it("ends the sessions on RP-initiated logout and tells every client by back-channel logout", async () => {
    t = await oidcTestApp();
    const { account } = await member(t, "national", mario);
    const receiver = await logoutReceiver();
    const { clientId, secret } = await t.registerClient("national", {
      name: "Comune Digitale",
      redirectUris: [REDIRECT_URI],
      postLogoutRedirectUris: [LOGGED_OUT],
      backchannelLogoutUri: receiver.url,
    });
    const rp = await t.relyingParty("national", clientId, client.ClientSecretBasic(secret!));
    const browser = httpBrowser(t.baseUrl);
    const request = await authorizationRequest(rp);
    const back = await signInThrough(t, browser, request.url.href, { tenant: "national", identifier: mario.identifier, password: PASSWORD });
    const tokens = await client.authorizationCodeGrant(rp, back, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });

    const end = client.buildEndSessionUrl(rp, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: LOGGED_OUT, state: "bye" });
    const confirm = await browser.go(end.href);
    expect(confirm.status).toBe(200);
    expect(confirm.html).toContain("Comune Digitale");
    const done = await browser.submit(confirm, /\/oidc\/logout\/confirm$/, { logout: "yes" });
    expect(done.url).toBe(`${LOGGED_OUT}?state=bye`);

    // The relying party was told, with a logout token it can check against the tenant's keys.
    expect(receiver.tokens).toHaveLength(1);
    const { payload } = await jwtVerify(receiver.tokens[0]!, createRemoteJWKSet(new URL(`${t.baseUrl}/t/national/oidc/jwks`)), {
      issuer: `${t.baseUrl}/t/national`,
      audience: clientId,
    });
    expect(payload).toMatchObject({ sub: account.id, sid: tokens.claims()!.sid, events: { "http://schemas.openid.net/event/backchannel-logout": {} } });
    expect(payload).not.toHaveProperty("nonce");

    // Signed out of Tessera too: the next authorization asks for the password again.
    const next = await authorizationRequest(rp);
    expect(new URL((await browser.go(next.url.href)).url).pathname).toBe("/t/national/login");
    await expect(client.refreshTokenGrant(rp, tokens.refresh_token ?? "none")).rejects.toBeDefined();
  });

  it("tells the relying parties by back-channel logout when the user signs out of Tessera itself", async () => {
    t = await oidcTestApp();
    await member(t, "national", mario);
    const receiver = await logoutReceiver();
    const { clientId, secret } = await t.registerClient("national", { name: "Comune Digitale", redirectUris: [REDIRECT_URI], backchannelLogoutUri: receiver.url });
    const rp = await t.relyingParty("national", clientId, client.ClientSecretBasic(secret!));
    const browser = httpBrowser(t.baseUrl);
    const request = await authorizationRequest(rp);
    await signInThrough(t, browser, request.url.href, { tenant: "national", identifier: mario.identifier, password: PASSWORD });

    const panel = await browser.go("/t/national/account");
    const out = await browser.submit(panel, /\/t\/national\/logout$/, {});
    expect(new URL(out.url).pathname).toBe("/t/national/login");
    expect(receiver.tokens).toHaveLength(1);
    expect([...browser.cookies.values()].map((c) => c.name)).not.toContain("_session");
    const next = await authorizationRequest(rp);
    expect(new URL((await browser.go(next.url.href)).url).pathname).toBe("/t/national/login");
  });
});
