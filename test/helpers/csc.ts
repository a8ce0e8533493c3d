import * as client from "openid-client";
import { expect } from "vitest";
import { authoriseMembership } from "../../src/flows/professionals/decisions.ts";
import { checkRequest, requestMembership } from "../../src/flows/professionals/memberships.ts";
import { issueMembershipCertificates, prepareMembershipKeys, recordMembershipKeys } from "../../src/flows/professionals/certificates.ts";
import type { Account } from "../../src/identity/accounts.ts";
import type { Organization } from "../../src/identity/organizations.ts";
import type { KeystoreConfig } from "../../src/pki/keystore.ts";
import type { Tenant } from "../../src/tenants/tenant.ts";
import { PASSWORD } from "./flows.ts";
import { httpBrowser } from "./http-browser.ts";
import { authorizationRequest, type OidcTestApp, oidcTestApp, REDIRECT_URI, signInThrough } from "./oidc.ts";
import { organisation, professional, proTenant } from "./professionals.ts";
import { lastCodeTo } from "./enrolment.ts";

const BY = { actor: "test" };

/**
 * A professional's credential for `organization`, as the activation leaves it: requested at a
 * desk, authorised by a representative, its key made under `password`, its certificate issued.
 */
export async function credentialFor(t: Pick<OidcTestApp, "store" | "deps">, tenant: Tenant, account: Account, organization: Organization, representative: Account, tenantUrl: string, password = PASSWORD): Promise<string> {
  const request = await checkRequest(t.deps, tenant, {
    organization: organization.id,
    dni: account.identifier,
    given_name: account.givenName ?? "Ane",
    family_name: account.familyName ?? "Etxeberria",
    email: account.email ?? "ane@example.eus",
    document_expiry_date: account.documentExpiryDate ?? "2031-01-31",
  });
  const requested = await requestMembership(t.deps, tenant, request, { channel: "desk", desk: "bilbao", officer: representative.id, checks: ["document_original", "document_valid", "photo_matches"] }, BY, { consoleUrl: `${tenantUrl}/organisations` });
  await authoriseMembership(t.deps, tenant, requested.id, representative, BY, { tenantUrl });
  const { keys } = await prepareMembershipKeys(t.deps, tenant, account.id, password);
  await recordMembershipKeys(t.deps, tenant, keys);
  await issueMembershipCertificates(t.deps, tenant, tenantUrl, account, BY);
  return requested.id;
}

export const ANE_PHONE = "+34600000001";

/**
 * The pro tenant's CSC API with a signer: Ane, professional of the Ayuntamiento (her credential),
 * signed in through the tenant's provider by a CSC client (openid-client) that got an access
 * token for the API (resource `<issuer>/csc/v2`, scope `service`). `call` posts JSON to the API.
 */
export async function cscScene(options: { keyAlgorithm?: "EC-P256" | "RSA-2048" | "RSA-3072"; keystore?: KeystoreConfig } = {}) {
  const t = await oidcTestApp();
  if (options.keystore) {
    const { updatePolicy } = await import("./tenants.ts");
    await updatePolicy(t.store, "pro", (p) => {
      p.pki = { ...p.pki, keystore: options.keystore! };
    });
  }
  let tenant = await proTenant(t, t.baseUrl);
  if (options.keyAlgorithm) {
    const { updatePolicy } = await import("./tenants.ts");
    tenant = await updatePolicy(t.store, "pro", (p) => {
      p.professionals = { ...p.professionals, keyAlgorithm: options.keyAlgorithm! };
    });
  }
  const ane = await professional(t, { identifier: "12345678Z", email: "ane@example.eus", phone: ANE_PHONE, givenName: "Ane", familyName: "Etxeberria" });
  const city = await organisation(t, "Ayuntamiento de Ejemplo", "P4800100B", [ane]);
  const tenantUrl = `${t.baseUrl}/t/pro`;
  const credentialId = await credentialFor(t, tenant, ane, city, ane, tenantUrl);
  const csc = `${tenantUrl}/csc/v2`;
  const { clientId, secret } = await t.registerClient("pro", { name: "Firma de escritorio", redirectUris: [REDIRECT_URI], resources: [csc] });
  const rp = await t.relyingParty("pro", clientId, client.ClientSecretBasic(secret!));
  const request = await authorizationRequest(rp, { scope: "openid service", resource: csc });
  const back = await signInThrough(t, httpBrowser(t.baseUrl), request.url.href, { tenant: "pro", identifier: "12345678Z", password: PASSWORD, phone: ANE_PHONE });
  const tokens = await client.authorizationCodeGrant(rp, back, { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce }, { resource: csc });
  const call = async (path: string, body: Record<string, unknown> = {}, token: string | null = tokens.access_token) => {
    const response = await fetch(`${csc}/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> & { error?: string; error_description?: string } };
  };
  /** sendOTP, then authorize with the password and the code: the SAD. */
  const authorize = async (hashes: string[], extra: Record<string, unknown> = {}) => {
    expect((await call("credentials/sendOTP", { credentialID: credentialId })).status).toBe(204);
    const otp = await lastCodeTo(t, ANE_PHONE, "pro");
    const answer = await call("credentials/authorize", { credentialID: credentialId, numSignatures: hashes.length, hashes, hashAlgorithmOID: "2.16.840.1.101.3.4.2.1", authData: [{ id: "PIN", value: PASSWORD }, { id: "OTP", value: otp }], ...extra });
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    return answer.json.SAD as string;
  };
  return { t, tenant, ane, city, credentialId, csc, call, authorize, accessToken: tokens.access_token, clientId, rp };
}
