import * as client from "openid-client";
import { afterEach, describe, expect, it } from "vitest";
import { PASSWORD, member } from "../helpers/flows.ts";
import { type HttpBrowser, httpBrowser } from "../helpers/http-browser.ts";
import { authorizationRequest, type OidcTestApp, oidcTestApp, REDIRECT_URI, signInThrough } from "../helpers/oidc.ts";

let t: OidcTestApp;
afterEach(async () => t?.close());

const giulia = {
  identifier: "giulia.verdi@example.it",
  email: "giulia.verdi@example.it",
  emailVerified: true,
  givenName: "Giulia",
  familyName: "Verdi",
};
const who = { tenant: "national", identifier: giulia.identifier, password: PASSWORD };

/** The account API as the browser's own pages call it: with the session cookie. */
async function accountApi(browser: HttpBrowser, path: string) {
  const url = `${t.baseUrl}/t/national/api/account${path}`;
  const res = await fetch(url, { headers: { cookie: browser.cookieHeader(url), accept: "application/json" } });
  expect(res.status).toBe(200);
  return res.json();
}

describe("applications in the self-service panel", () => {
  it("lists the clients the holder shared data with, names them in the access history, and withdraws their access", async () => {
    t = await oidcTestApp();
    await member(t, "national", giulia);
    const { clientId, secret } = await t.registerClient("national", {
      name: "Biblioteca Civica",
      redirectUris: [REDIRECT_URI],
      grants: ["authorization_code", "refresh_token"],
    });
    const rp = await t.relyingParty("national", clientId, client.ClientSecretBasic(secret!));
    const browser = httpBrowser(t.baseUrl);
    const request = await authorizationRequest(rp, { scope: "openid profile email" });
    const back = await signInThrough(t, browser, request.url.href, who);
    const tokens = await client.authorizationCodeGrant(rp, back, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });

    expect(await accountApi(browser, "/applications")).toEqual([
      expect.objectContaining({ client_id: clientId, name: "Biblioteca Civica", claims: expect.arrayContaining(["given_name", "family_name", "email"]) }),
    ]);
    // The sign-in at Tessera and the authorization of the client, newest first.
    const history = (await accountApi(browser, "/history")) as { service: string | null }[];
    expect(history.map((h) => h.service)).toEqual(["Biblioteca Civica", null]);

    const panel = await browser.go("/t/national/account");
    expect(panel.html).toMatch(/<strong>Biblioteca Civica<\/strong>: Given name, Family name, [^<]*E-mail address ·/);
    expect(panel.html).not.toContain("Whether the e-mail address is verified");
    const done = await browser.submit(panel, new RegExp(`/applications/${clientId}/withdraw$`), {});
    expect(done.status).toBe(200);
    expect(await accountApi(browser, "/applications")).toEqual([]);

    // What the client held goes with the consent, and it must ask again.
    await expect(client.refreshTokenGrant(rp, tokens.refresh_token!)).rejects.toMatchObject({ error: "invalid_grant" });
    const again = await authorizationRequest(rp, { scope: "openid profile email" });
    const page = await browser.go(again.url.href);
    expect(new URL(page.url).pathname).toMatch(/\/authorize\/[^/]+$/);
    expect(page.html).toContain("Biblioteca Civica");
  });

  it("shows a client that received only an identifier as such, and refuses to withdraw what was never given", async () => {
    t = await oidcTestApp();
    await member(t, "national", giulia);
    const { clientId, secret } = await t.registerClient("national", { name: "Sportello", redirectUris: [REDIRECT_URI] });
    const rp = await t.relyingParty("national", clientId, client.ClientSecretBasic(secret!));
    const browser = httpBrowser(t.baseUrl);
    await signInThrough(t, browser, (await authorizationRequest(rp)).url.href, who);

    const panel = await browser.go("/t/national/account");
    expect(panel.html).toMatch(/<strong>Sportello<\/strong>: only a code that identifies you/);
    const url = `${t.baseUrl}/t/national/api/account/applications/not-a-client`;
    const res = await fetch(url, { method: "DELETE", headers: { cookie: browser.cookieHeader(url), origin: t.baseUrl, accept: "application/json" } });
    expect(res.status).toBe(404);
  });
});
