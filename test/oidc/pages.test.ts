import * as client from "openid-client";
import { afterEach, describe, expect, it } from "vitest";
import { httpBrowser } from "../helpers/http-browser.ts";
import { authorizationRequest, type OidcTestApp, oidcTestApp, REDIRECT_URI } from "../helpers/oidc.ts";

let t: OidcTestApp;
afterEach(async () => t?.close());

const formAction = async (url: string) => {
  const res = await fetch(url, { headers: { accept: "text/html" } });
  return /form-action ([^;]*)/.exec(res.headers.get("content-security-policy") ?? "")?.[1];
};

/**
 * Browsers apply the Content-Security-Policy's form-action to the redirects after a form's
 * submission: the pages of a sign-in for a relying party let their forms lead to its redirect
 * URI's origin (test/browser/oidc-example.test.ts shows chromium following them), and no other.
 */
describe("form-action on the pages of a sign-in for a relying party", () => {
  it("names the client's origin on its sign-in page, and nothing more anywhere else", async () => {
    t = await oidcTestApp();
    const { clientId, secret } = await t.registerClient("national", { name: "Comune", redirectUris: [REDIRECT_URI] });
    const rp = await t.relyingParty("national", clientId, client.ClientSecretBasic(secret!));
    const login = await httpBrowser(t.baseUrl).go((await authorizationRequest(rp)).url.href);
    expect(new URL(login.url).pathname).toBe("/t/national/login");

    expect(await formAction(login.url)).toBe(`'self' ${new URL(REDIRECT_URI).origin}`);
    expect(await formAction(`${t.baseUrl}/t/national/login`)).toBe("'self'");
    expect(await formAction(`${t.baseUrl}/t/national/login?return_to=${encodeURIComponent("/t/national/authorize/no-such-interaction")}`)).toBe("'self'");
    expect(await formAction(`${t.baseUrl}/t/national/`)).toBe("'self'");
  });
});
