import * as client from "openid-client";
import { afterEach, describe, expect, it, vi } from "vitest";
import { PASSWORD, member } from "../helpers/flows.ts";
import { httpBrowser } from "../helpers/http-browser.ts";
import { authorizationRequest, type OidcTestApp, oidcTestApp, REDIRECT_URI, signInThrough } from "../helpers/oidc.ts";

let t: OidcTestApp;
afterEach(async () => {
  vi.useRealTimers();
  await t?.close();
});

const who = { tenant: "national", identifier: "lucia@example.it", password: PASSWORD };

/** A tenant with one account and one confidential client, and a browser. */
async function setup(clientInput: Partial<Parameters<OidcTestApp["registerClient"]>[1]> = {}) {
  t = await oidcTestApp();
  const { account } = await member(t, "national", { identifier: who.identifier, email: who.identifier, emailVerified: true, givenName: "Lucia" });
  const { clientId, secret } = await t.registerClient("national", { name: "Servizio", redirectUris: [REDIRECT_URI], ...clientInput });
  const rp = await t.relyingParty("national", clientId, client.ClientSecretBasic(secret!));
  return { account, clientId, secret: secret!, rp, browser: httpBrowser(t.baseUrl) };
}

/** The error a relying party receives at its redirect URI. */
const errorAt = (url: string) => {
  const u = new URL(url);
  expect(u.origin + u.pathname).toBe(REDIRECT_URI);
  return { error: u.searchParams.get("error"), description: u.searchParams.get("error_description") ?? "", state: u.searchParams.get("state") };
};

describe("authorization request errors", () => {
  it("shows an error page, and never redirects, for a redirect_uri the client did not register", async () => {
    const { rp, browser } = await setup();
    const request = await authorizationRequest(rp, { redirect_uri: "https://evil.example/callback" });
    const page = await browser.go(request.url.href);
    expect(page.status).toBe(400);
    expect(page.url.startsWith(t.baseUrl)).toBe(true);
    expect(page.html).toContain("redirect_uri");
    expect(page.html).toContain("Tessera ID");
    expect(page.html).not.toContain("evil.example/callback?");
  });

  it("requires PKCE with S256", async () => {
    const { rp, browser } = await setup();
    const request = await authorizationRequest(rp);
    const withoutPkce = new URL(request.url);
    withoutPkce.searchParams.delete("code_challenge");
    withoutPkce.searchParams.delete("code_challenge_method");
    expect(errorAt((await browser.go(withoutPkce.href)).url)).toMatchObject({ error: "invalid_request", description: expect.stringMatching(/PKCE/), state: request.state });

    const plain = new URL(request.url);
    plain.searchParams.set("code_challenge_method", "plain");
    expect(errorAt((await browser.go(plain.href)).url)).toMatchObject({ error: "invalid_request" });
  });

  it("ends a request for a level that cannot be met with access_denied, before anyone signs in", async () => {
    const { rp, browser } = await setup({ levels: [1] });
    for (const acr of ["https://www.spid.gov.it/SpidL3", "https://www.spid.gov.it/SpidL2"]) {
      const request = await authorizationRequest(rp, { acr_values: acr });
      const page = await browser.go(request.url.href);
      expect(errorAt(page.url)).toMatchObject({ error: "access_denied", state: request.state });
    }
    expect(browser.cookies.size).toBe(0);
  });

  it("returns access_denied when the holder refuses consent, and remembers nothing", async () => {
    const { rp, browser, account } = await setup();
    const request = await authorizationRequest(rp, { scope: "openid profile" });
    const back = await signInThrough(t, browser, request.url.href, who, { consent: "deny" });
    expect(errorAt(back.href)).toMatchObject({ error: "access_denied", state: request.state });
    expect(await t.store.repos.clientConsents.ofAccount("national", account.id)).toEqual([]);
    // Asked again next time.
    const again = await authorizationRequest(rp, { scope: "openid profile" });
    const page = await browser.go(again.url.href);
    expect(page.html).toContain("Servizio asks for your data");
  });

  it("answers prompt=none without a session with login_required", async () => {
    const { rp, browser } = await setup();
    const request = await authorizationRequest(rp, { prompt: "none" });
    expect(errorAt((await browser.go(request.url.href)).url)).toMatchObject({ error: "login_required" });
  });

  it("lets the holder give up at the sign-in page, which the client learns as access_denied", async () => {
    const { rp, browser } = await setup();
    const request = await authorizationRequest(rp);
    const login = await browser.go(request.url.href);
    const back = await browser.submit(login, /\/abort$/, {});
    expect(errorAt(back.url)).toMatchObject({ error: "access_denied", state: request.state });
  });
});

describe("token request errors", () => {
  it("refuses a wrong client secret, and another client's code", async () => {
    const { rp, browser, clientId } = await setup();
    const request = await authorizationRequest(rp);
    const back = await signInThrough(t, browser, request.url.href, who);
    const wrong = await t.relyingParty("national", clientId, client.ClientSecretBasic("not-the-secret"));
    // Answered as RFC 6749 §5.2 says: 401 with a Basic challenge naming invalid_client.
    await expect(client.authorizationCodeGrant(wrong, back, { pkceCodeVerifier: request.verifier, expectedState: request.state })).rejects.toMatchObject({
      status: 401,
      cause: [expect.objectContaining({ scheme: "basic", parameters: expect.objectContaining({ error: "invalid_client" }) })],
    });
    const other = await t.registerClient("national", { name: "Altro", redirectUris: [REDIRECT_URI] });
    const otherRp = await t.relyingParty("national", other.clientId, client.ClientSecretBasic(other.secret!));
    await expect(client.authorizationCodeGrant(otherRp, back, { pkceCodeVerifier: request.verifier, expectedState: request.state })).rejects.toMatchObject({
      error: "invalid_grant",
    });
  });

  it("refuses a wrong PKCE verifier", async () => {
    const { rp, browser } = await setup();
    const request = await authorizationRequest(rp);
    const back = await signInThrough(t, browser, request.url.href, who);
    await expect(client.authorizationCodeGrant(rp, back, { pkceCodeVerifier: client.randomPKCECodeVerifier(), expectedState: request.state })).rejects.toMatchObject({
      error: "invalid_grant",
    });
  });

  it("refuses a code used twice, and revokes what the first use got", async () => {
    const { rp, browser, account } = await setup({ grants: ["authorization_code", "refresh_token"] });
    const request = await authorizationRequest(rp);
    const back = await signInThrough(t, browser, request.url.href, who);
    const tokens = await client.authorizationCodeGrant(rp, back, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });
    await expect(client.authorizationCodeGrant(rp, back, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce })).rejects.toMatchObject({
      error: "invalid_grant",
    });
    await expect(client.fetchUserInfo(rp, tokens.access_token, account.id)).rejects.toMatchObject({ status: 401 });
    await expect(client.refreshTokenGrant(rp, tokens.refresh_token!)).rejects.toMatchObject({ error: "invalid_grant" });
  });

  it("refuses a code redeemed twice at the same moment, once", async () => {
    const { rp, browser } = await setup();
    const request = await authorizationRequest(rp);
    const back = await signInThrough(t, browser, request.url.href, who);
    const attempts = await Promise.allSettled(
      [0, 1, 2].map(() => client.authorizationCodeGrant(rp, back, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce })),
    );
    expect(attempts.filter((a) => a.status === "fulfilled").length).toBeLessThanOrEqual(1);
  });

  it("refuses a code after its minute has passed", async () => {
    const { rp, browser } = await setup();
    const request = await authorizationRequest(rp);
    const back = await signInThrough(t, browser, request.url.href, who);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 61_000);
    await expect(client.authorizationCodeGrant(rp, back, { pkceCodeVerifier: request.verifier, expectedState: request.state })).rejects.toMatchObject({
      error: "invalid_grant",
    });
  });
});
