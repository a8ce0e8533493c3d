import { createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from "jose";
import * as client from "openid-client";
import { afterEach, describe, expect, it } from "vitest";
import { EID } from "../../src/federation/oidc/claims.ts";
import { PASSWORD, member } from "../helpers/flows.ts";
import { httpBrowser } from "../helpers/http-browser.ts";
import { authorizationRequest, type OidcTestApp, oidcTestApp, REDIRECT_URI, signInThrough } from "../helpers/oidc.ts";

let t: OidcTestApp;
afterEach(async () => {
  await t?.close();
});

const who = { tenant: "national", identifier: "paolo@example.it", password: PASSWORD };
const API = "https://api.example.it/registry";

async function withAccount() {
  t = await oidcTestApp();
  return (
    await member(t, "national", {
      identifier: who.identifier,
      email: who.identifier,
      emailVerified: true,
      givenName: "Paolo",
      familyName: "Verdi",
      fiscalCode: "VRDPLA70A01H501X",
      phone: "+393331117001",
      phoneVerified: true,
    })
  ).account;
}

/** A client with its own key pair: private_key_jwt and signed request objects. */
async function keyedClient(extra: Partial<Parameters<OidcTestApp["registerClient"]>[1]> = {}) {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kty: "EC", kid: "rp-key-1", alg: "ES256", use: "sig" };
  const { clientId } = await t.registerClient("national", {
    name: "Ente con chiave",
    redirectUris: [REDIRECT_URI],
    authMethod: "private_key_jwt",
    jwks: { keys: [jwk] },
    ...extra,
  });
  const rp = await t.relyingParty("national", clientId, client.PrivateKeyJwt({ key: privateKey, kid: "rp-key-1" }), { token_endpoint_auth_signing_alg: "ES256" });
  return { clientId, rp, privateKey };
}

describe("client authentication and request forms", () => {
  it("authenticates a client with private_key_jwt, and refuses an assertion signed with another key", async () => {
    const account = await withAccount();
    const { rp, clientId } = await keyedClient();
    const browser = httpBrowser(t.baseUrl);
    const request = await authorizationRequest(rp);
    const back = await signInThrough(t, browser, request.url.href, who);
    const tokens = await client.authorizationCodeGrant(rp, back, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });
    expect(tokens.claims()!.sub).toBe(account.id);

    const stranger = await generateKeyPair("ES256");
    const impostor = await t.relyingParty("national", clientId, client.PrivateKeyJwt({ key: stranger.privateKey, kid: "rp-key-1" }), { token_endpoint_auth_signing_alg: "ES256" });
    const second = await authorizationRequest(rp);
    const back2 = new URL((await browser.go(second.url.href)).url);
    await expect(client.authorizationCodeGrant(impostor, back2, { pkceCodeVerifier: second.verifier, expectedState: second.state })).rejects.toMatchObject({
      status: 401,
    });
  });

  it("takes the request as a pushed authorization request (RFC 9126), and insists on it for a client that must", async () => {
    await withAccount();
    const { rp } = await keyedClient({ requirePushedAuthorizationRequests: true });
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const pushed = await client.buildAuthorizationUrlWithPAR(rp, {
      redirect_uri: REDIRECT_URI,
      scope: "openid",
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
    });
    expect(pushed.searchParams.get("request_uri")).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    expect(pushed.searchParams.has("redirect_uri")).toBe(false);
    const browser = httpBrowser(t.baseUrl);
    const back = await signInThrough(t, browser, pushed.href, who);
    const tokens = await client.authorizationCodeGrant(rp, back, { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens.access_token).toBeTruthy();

    // Without PAR, this client is turned away.
    const direct = await authorizationRequest(rp);
    expect(new URL((await browser.go(direct.url.href)).url).searchParams.get("error")).toBe("invalid_request");
  });

  it("takes a signed request object (RFC 9101) and refuses one with a bad signature", async () => {
    await withAccount();
    const { rp, clientId, privateKey } = await keyedClient({ requireSignedRequestObject: true });
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const params = {
      redirect_uri: REDIRECT_URI,
      scope: "openid",
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
      acr_values: "https://www.spid.gov.it/SpidL1",
    };
    const signed = await client.buildAuthorizationUrlWithJAR(rp, params, { key: privateKey, kid: "rp-key-1" });
    const browser = httpBrowser(t.baseUrl);
    const back = await signInThrough(t, browser, signed.href, who);
    expect((await client.authorizationCodeGrant(rp, back, { pkceCodeVerifier: verifier, expectedState: state })).claims()!.acr).toBe("https://www.spid.gov.it/SpidL1");

    const forged = await new SignJWT({ ...params, client_id: clientId, response_type: "code" })
      .setProtectedHeader({ alg: "ES256", kid: "rp-key-1" })
      .setIssuer(clientId)
      .setAudience(`${t.baseUrl}/t/national`)
      .setIssuedAt()
      .setExpirationTime("1m")
      .sign((await generateKeyPair("ES256")).privateKey);
    const url = new URL(`${t.baseUrl}/t/national/oidc/auth`);
    url.search = new URLSearchParams({ client_id: clientId, request: forged, response_type: "code", scope: "openid" }).toString();
    // A request object that does not verify cannot vouch for its redirect_uri: an error page, no redirect.
    const refused = await browser.go(url.href);
    expect(refused.status).toBe(400);
    expect(refused.html).toContain("invalid_request_object");
  });
});

describe("machine clients and tokens", () => {
  it("issues client-credentials tokens as JWTs (RFC 9068) that an API checks against the tenant's keys", async () => {
    t = await oidcTestApp();
    const { clientId, secret } = await t.registerClient("national", { name: "Batch", grants: ["client_credentials"], resources: [API] });
    const rp = await t.relyingParty("national", clientId, client.ClientSecretBasic(secret!));
    const tokens = await client.clientCredentialsGrant(rp);
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${t.baseUrl}/t/national/oidc/jwks`)), {
      issuer: `${t.baseUrl}/t/national`,
      audience: API,
      typ: "at+jwt",
    });
    expect(protectedHeader.alg).toBe("ES256");
    expect(payload).toMatchObject({ client_id: clientId });
    // Another API is not this client's.
    await expect(client.clientCredentialsGrant(rp, { resource: "https://api.example.it/other" })).rejects.toMatchObject({ error: "invalid_target" });
  });

  it("introspects and revokes tokens for the client they were issued to", async () => {
    const account = await withAccount();
    const { clientId, secret } = await t.registerClient("national", { name: "Portale", redirectUris: [REDIRECT_URI], grants: ["authorization_code", "refresh_token"] });
    const rp = await t.relyingParty("national", clientId, client.ClientSecretBasic(secret!));
    const browser = httpBrowser(t.baseUrl);
    const request = await authorizationRequest(rp);
    const back = await signInThrough(t, browser, request.url.href, who);
    const tokens = await client.authorizationCodeGrant(rp, back, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });

    expect(await client.tokenIntrospection(rp, tokens.access_token)).toMatchObject({ active: true, sub: account.id, client_id: clientId });
    expect(await client.tokenIntrospection(rp, tokens.refresh_token!)).toMatchObject({ active: true, sub: account.id, client_id: clientId });
    await client.tokenRevocation(rp, tokens.refresh_token!);
    expect(await client.tokenIntrospection(rp, tokens.refresh_token!)).toEqual({ active: false });
    expect(await client.tokenIntrospection(rp, "not-a-token")).toEqual({ active: false });
  });
});

describe("subjects and claims", () => {
  it("gives pairwise clients a subject of their own, stable across sign-ins", async () => {
    const account = await withAccount();
    const a = await t.registerClient("national", { name: "A", redirectUris: [REDIRECT_URI], subjectType: "pairwise" });
    const b = await t.registerClient("national", { name: "B", redirectUris: ["https://other.example.it/cb"], subjectType: "pairwise" });
    const browser = httpBrowser(t.baseUrl);
    const subjectFor = async (clientId: string, secret: string, redirect: string) => {
      const rp = await t.relyingParty("national", clientId, client.ClientSecretBasic(secret));
      const request = await authorizationRequest(rp, { redirect_uri: redirect });
      let page = await browser.go(request.url.href);
      if (page.status !== 0 || !page.url.startsWith(redirect)) page = { ...page, url: (await signInThrough(t, browser, page, who)).href };
      const back = new URL(page.url);
      return back.searchParams.get("code") ? (await client.authorizationCodeGrant(rp, back, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce })).claims()!.sub : undefined;
    };
    const subA = await subjectFor(a.clientId, a.secret!, REDIRECT_URI);
    expect(subA).toBeDefined();
    expect(subA).not.toBe(account.id);
    expect(await subjectFor(a.clientId, a.secret!, REDIRECT_URI)).toBe(subA);
    const otherRedirect = new URL("https://other.example.it/cb");
    const rpB = await t.relyingParty("national", b.clientId, client.ClientSecretBasic(b.secret!));
    const requestB = await authorizationRequest(rpB, { redirect_uri: otherRedirect.href });
    const backB = new URL((await signInThrough(t, browser, requestB.url.href, who)).href);
    const subB = (await client.authorizationCodeGrant(rpB, backB, { pkceCodeVerifier: requestB.verifier, expectedState: requestB.state, expectedNonce: requestB.nonce }, { redirect_uri: otherRedirect.href })).claims()!.sub;
    expect(subB).not.toBe(subA);
    expect(subB).not.toBe(account.id);
  });

  it("releases only the claims a client may receive, and refuses scopes it may not ask for", async () => {
    const account = await withAccount();
    const { clientId, secret } = await t.registerClient("national", {
      name: "Solo nome",
      redirectUris: [REDIRECT_URI],
      scopes: ["openid", "profile"],
      claims: ["given_name", "family_name"],
    });
    const rp = await t.relyingParty("national", clientId, client.ClientSecretBasic(secret!));
    const browser = httpBrowser(t.baseUrl);
    const request = await authorizationRequest(rp, { scope: "openid profile", claims: JSON.stringify({ userinfo: { [`${EID}fiscal_number`]: { essential: true }, phone_number: null } }) });
    const consent = await browser.go(request.url.href);
    const login = consent;
    const back = await signInThrough(t, browser, login, who);
    const tokens = await client.authorizationCodeGrant(rp, back, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });
    expect(await client.fetchUserInfo(rp, tokens.access_token, account.id)).toEqual({ sub: account.id, given_name: "Paolo", family_name: "Verdi" });

    const tooMuch = await authorizationRequest(rp, { scope: "openid phone" });
    expect(new URL((await browser.go(tooMuch.url.href)).url).searchParams.get("error")).toBe("invalid_scope");
  });

  it("lists on the consent screen only what the client may receive", async () => {
    await withAccount();
    const { clientId, secret } = await t.registerClient("national", { name: "Anagrafe", redirectUris: [REDIRECT_URI], claims: ["given_name", "family_name", `${EID}fiscal_number`] });
    const rp = await t.relyingParty("national", clientId, client.ClientSecretBasic(secret!));
    const browser = httpBrowser(t.baseUrl);
    const request = await authorizationRequest(rp, { scope: "openid profile email" });
    const login = await browser.go(request.url.href);
    const consent = await browser.submit(login, /\/login$/, { identifier: who.identifier, password: who.password });
    expect(consent.html).toContain("Anagrafe asks for your data");
    for (const label of ["Given name", "Family name", "Codice fiscale"]) expect(consent.html).toContain(`<li>${label}</li>`);
    for (const label of ["Date of birth", "E-mail address", "Place of birth"]) expect(consent.html).not.toContain(`<li>${label}</li>`);
  });
});
