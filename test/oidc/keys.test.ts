import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import * as client from "openid-client";
import { afterEach, describe, expect, it, vi } from "vitest";
import { listSigningKeys, rotateSigningKeys } from "../../src/federation/signing-keys.ts";
import { findTenant } from "../../src/tenants/service.ts";
import { member, PASSWORD } from "../helpers/flows.ts";
import { httpBrowser } from "../helpers/http-browser.ts";
import { authorizationRequest, type OidcTestApp, oidcTestApp, REDIRECT_URI, signInThrough } from "../helpers/oidc.ts";

let t: OidcTestApp;
afterEach(async () => {
  vi.useRealTimers();
  await t?.close();
});

describe("signing key rotation", () => {
  it("publishes new keys first, signs with them once active, and keeps the old ones published while their tokens live", async () => {
    t = await oidcTestApp();
    await member(t, "national", { identifier: "chiave@example.it", email: "chiave@example.it", emailVerified: true });
    const { clientId, secret } = await t.registerClient("national", { name: "Firma", redirectUris: [REDIRECT_URI], idTokenAlg: "ES256" });
    const rp = await t.relyingParty("national", clientId, client.ClientSecretBasic(secret!));
    const browser = httpBrowser(t.baseUrl);
    const signIn = async () => {
      const request = await authorizationRequest(rp);
      const back = await signInThrough(t, browser, request.url.href, { tenant: "national", identifier: "chiave@example.it", password: PASSWORD });
      return (await client.authorizationCodeGrant(rp, back, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce })).id_token!;
    };
    const jwks = async () => (await (await fetch(`${t.baseUrl}/t/national/oidc/jwks`)).json()) as { keys: { kid: string; alg: string }[] };

    const before = await signIn();
    const oldKid = decodeProtectedHeader(before).kid!;
    const tenant = (await findTenant(t.store.repos, "national"))!;
    vi.useFakeTimers({ toFake: ["Date"] });
    const added = await rotateSigningKeys(t.deps, tenant, { actor: "test" }, { activateInSeconds: 120 });
    const newKid = added.find((k) => k.alg === "ES256")!.kid;

    // Within the refresh period a node may still serve the old set; after it, the new keys are
    // published but do not sign yet.
    vi.setSystemTime(Date.now() + 31_000);
    expect((await jwks()).keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, newKid]));
    expect(decodeProtectedHeader(await signIn()).kid).toBe(oldKid);

    vi.setSystemTime(Date.now() + 120_000);
    const after = await signIn();
    expect(decodeProtectedHeader(after).kid).toBe(newKid);
    const published = createLocalJWKSet(await jwks());
    // Tokens from before the rotation still check out against what is published.
    await expect(jwtVerify(before, published, { currentDate: new Date(Date.now() - 151_000) })).resolves.toBeDefined();
    await expect(jwtVerify(after, published)).resolves.toBeDefined();
    expect((await listSigningKeys(t.deps, tenant)).filter((k) => k.state === "retiring").map((k) => k.kid)).toContain(oldKid);

    // A day later the old keys are gone from the set.
    vi.setSystemTime(Date.now() + 24 * 3_600_000 + 60_000);
    expect((await jwks()).keys.map((k) => k.kid)).not.toContain(oldKid);
  });
});
