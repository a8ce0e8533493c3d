import { createHash } from "node:crypto";
import * as client from "openid-client";
import { afterEach, describe, expect, it } from "vitest";
import { ANE_PHONE, cscScene } from "../helpers/csc.ts";
import { lastCodeTo } from "../helpers/enrolment.ts";
import { PASSWORD } from "../helpers/flows.ts";
import { httpBrowser } from "../helpers/http-browser.ts";
import { authorizationRequest } from "../helpers/oidc.ts";

let scene: Awaited<ReturnType<typeof cscScene>> | undefined;
afterEach(async () => {
  await scene?.t.close();
  scene = undefined;
});

const SHA256 = "2.16.840.1.101.3.4.2.1";
const ECDSA_SHA256 = "1.2.840.10045.4.3.2";

describe("the CSC API v2: the credential scope", () => {
  it("binds an access token to a credential and its hashes through authorization_details, authorised on the tenant's pages with the password and a code", async () => {
    scene = await cscScene();
    const { t, credentialId, csc, rp, call } = scene;
    const hash = createHash("sha256").update("Contrato de arrendamiento").digest("base64");
    const details = [{ type: "credential", credentialID: credentialId, numSignatures: 1, hashAlgorithmOID: SHA256, documentDigests: [{ hash, label: "Contrato de arrendamiento" }] }];
    const request = await authorizationRequest(rp, { scope: "openid credential", resource: csc, authorization_details: JSON.stringify(details) });
    const browser = httpBrowser(t.baseUrl);
    let page = await browser.go(request.url.href);
    page = await browser.submit(page, /\/login$/, { identifier: "12345678Z", password: PASSWORD });
    const send = browser.forms(page).find((f) => f.fields.method === "sms" && f.fields.send === "on")!;
    page = await browser.go(send.action, { form: send.fields });
    const enter = browser.forms(page).find((f) => f.fields.method === "sms" && f.fields.send === undefined)!;
    page = await browser.go(enter.action, { form: { ...enter.fields, code: await lastCodeTo(t, ANE_PHONE, "pro") } });

    // The signature to authorise, in words: what, with which certificate; the code goes on request.
    expect(page.html).toContain("Contrato de arrendamiento");
    expect(page.html).toContain("Ayuntamiento de Ejemplo");
    const sendCode = browser.forms(page).find((f) => f.action.endsWith("/signing-code"))!;
    page = await browser.go(sendCode.action, { form: sendCode.fields });
    const wrong = await browser.submit(page, /\/consent$/, { password: "Not-The-Password-1", code: await lastCodeTo(t, ANE_PHONE, "pro") });
    expect(wrong.status).toBe(400);
    expect(wrong.html).toContain("That is not your password.");
    await new Promise((r) => setTimeout(r, 1100)); // the wait a wrong password earns
    const back = await browser.submit(wrong, /\/consent$/, { password: PASSWORD, code: await lastCodeTo(t, ANE_PHONE, "pro") });
    expect(back.status, back.html.slice(back.html.indexOf("<main"), back.html.indexOf("<main") + 800)).toBe(0);
    const tokens = await client.authorizationCodeGrant(rp, new URL(back.url), { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce }, { resource: csc });
    expect(tokens.authorization_details).toEqual([expect.objectContaining({ type: "credential", credentialID: credentialId, numSignatures: 1 })]);

    // The token signs that hash, once, without a SAD; nothing else.
    const signHash = (hashes: string[]) => call("signatures/signHash", { credentialID: credentialId, hashes, hashAlgorithmOID: SHA256, signAlgo: ECDSA_SHA256 }, tokens.access_token);
    const other = createHash("sha256").update("otro").digest("base64");
    expect((await signHash([other])).status).toBe(400);
    const signed = await signHash([hash]);
    expect(signed.status, JSON.stringify(signed.json)).toBe(200);
    expect((await signHash([hash])).json.error_description).toContain("used up");
    // A credential token is not a service token: it lists nothing.
    expect((await call("credentials/list", {}, tokens.access_token)).status).toBe(403);
  });

  it("refuses authorization_details that name no hash or another's credential", async () => {
    scene = await cscScene();
    const { csc, rp, t } = scene;
    for (const detail of [{ type: "credential", credentialID: scene.credentialId, numSignatures: 1 }, { type: "credential", numSignatures: 1, documentDigests: [{ hash: "AAAA" }] }]) {
      const request = await authorizationRequest(rp, { scope: "openid credential", resource: csc, authorization_details: JSON.stringify([detail]) });
      const page = await httpBrowser(t.baseUrl).go(request.url.href);
      // The client is told, at its redirect URI, with the RAR error.
      expect(page.status).toBe(0);
      expect(new URL(page.url).searchParams.get("error")).toBe("invalid_authorization_details");
    }
  });
});
