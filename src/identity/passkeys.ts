import {
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from "@simplewebauthn/server";
import { recordAuditBy } from "../audit/service.ts";
import { newId } from "../shared/ids.ts";
import type { Tenant } from "../tenants/tenant.ts";
import { type Account, accountFromRow } from "./accounts.ts";
import type { Actor, IdentityDeps } from "./deps.ts";
import type { Method } from "./levels.ts";

/**
 * Passkeys (WebAuthn Level 3) as a second factor, and as a first factor where the tenant allows
 * it. Challenges are stored, not kept in memory, so the ceremony may end on another node; each is
 * used once and lives five minutes. No attestation is asked for: the origin and signature checks
 * prove possession of the key, which is what a factor needs.
 */
export interface RelyingParty {
  /** The registrable domain (the base URL's host name). */
  id: string;
  name: string;
  /** The base URL's origin, which browsers put in clientDataJSON. */
  origin: string;
}

const CHALLENGE_TTL_MS = 5 * 60_000;

/** The tenant as a relying party, from its public URL: the host name is the RP ID. */
export function relyingPartyOf(tenant: Tenant, tenantUrl: string): RelyingParty {
  const url = new URL(tenantUrl);
  return { id: url.hostname, name: tenant.displayName, origin: url.origin };
}

export interface PasskeySummary {
  id: string;
  name: string | null;
  createdAt: number;
  lastUsedAt: number | null;
  synced: boolean;
}

export async function listPasskeys(deps: IdentityDeps, account: Account): Promise<PasskeySummary[]> {
  return (await deps.repos.factors.passkeys(account.id)).map((p) => ({
    id: p.id,
    name: p.name,
    createdAt: p.created_at,
    lastUsedAt: p.last_used_at,
    synced: p.backed_up === 1,
  }));
}

export async function beginPasskeyRegistration(
  deps: IdentityDeps,
  tenant: Tenant,
  account: Account,
  rp: RelyingParty,
): Promise<{ ceremonyId: string; options: PublicKeyCredentialCreationOptionsJSON }> {
  const existing = await deps.repos.factors.passkeys(account.id);
  const options = await generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: account.identifier,
    userDisplayName: [account.givenName, account.familyName].filter(Boolean).join(" ") || account.identifier,
    // The user handle: opaque, stable, no personal data (WebAuthn §14.6.1).
    userID: Buffer.from(account.id, "base64url"),
    attestationType: "none",
    excludeCredentials: existing.map((p) => ({ id: p.id, transports: JSON.parse(p.transports) as AuthenticatorTransport[] })),
    authenticatorSelection: { residentKey: "required", userVerification: "required" },
  });
  const ceremonyId = await storeChallenge(deps, tenant, account.id, "register", options.challenge);
  return { ceremonyId, options };
}

export type RegistrationOutcome = { ok: true; passkeyId: string } | { ok: false; reason: "passkey.failed" };

export async function finishPasskeyRegistration(
  deps: IdentityDeps,
  tenant: Tenant,
  account: Account,
  rp: RelyingParty,
  input: { ceremonyId: string; response: RegistrationResponseJSON; name?: string | undefined },
  by: Actor,
): Promise<RegistrationOutcome> {
  const challenge = await takeChallenge(deps, tenant, input.ceremonyId, "register");
  if (!challenge || challenge.account_id !== account.id) return { ok: false, reason: "passkey.failed" };
  const verification = await verifyRegistrationResponse({
    response: input.response,
    expectedChallenge: challenge.challenge,
    expectedOrigin: rp.origin,
    expectedRPID: rp.id,
    requireUserVerification: true,
  }).catch(() => undefined);
  if (!verification?.verified) return { ok: false, reason: "passkey.failed" };
  const { credential, credentialDeviceType, credentialBackedUp, aaguid } = verification.registrationInfo;
  const inserted = await deps.repos.factors.insertPasskey({
    id: credential.id,
    account_id: account.id,
    public_key: Buffer.from(credential.publicKey).toString("base64url"),
    counter: credential.counter,
    transports: JSON.stringify(credential.transports ?? []),
    device_type: credentialDeviceType,
    backed_up: credentialBackedUp ? 1 : 0,
    aaguid,
    name: input.name?.slice(0, 64) ?? null,
    created_at: deps.clock.now(),
    last_used_at: null,
  });
  if (!inserted) return { ok: false, reason: "passkey.failed" };
  await recordAuditBy(deps.repos, deps.clock, by, {
    tenantId: tenant.id,
    type: "factor.added",
    subject: account.id,
    data: { factor: "passkey", passkeyId: credential.id, synced: credentialBackedUp },
  });
  return { ok: true, passkeyId: credential.id };
}

/**
 * Starts a sign-in with a passkey: for a known account (second factor) its passkeys are offered;
 * without one (first factor) the browser offers the passkeys it holds for this site.
 */
export async function beginPasskeyAuthentication(
  deps: IdentityDeps,
  tenant: Tenant,
  account: Account | null,
  rp: RelyingParty,
): Promise<{ ceremonyId: string; options: PublicKeyCredentialRequestOptionsJSON }> {
  const allow = account ? await deps.repos.factors.passkeys(account.id) : [];
  const options = await generateAuthenticationOptions({
    rpID: rp.id,
    userVerification: "required",
    allowCredentials: allow.map((p) => ({ id: p.id, transports: JSON.parse(p.transports) as AuthenticatorTransport[] })),
  });
  const ceremonyId = await storeChallenge(deps, tenant, account?.id ?? null, "authenticate", options.challenge);
  return { ceremonyId, options };
}

export type AuthenticationOutcome =
  | { ok: true; account: Account; method: Extract<Method, "passkey" | "passkey_synced"> }
  | { ok: false; reason: "passkey.failed" | "passkey.unknown" };

export async function finishPasskeyAuthentication(
  deps: IdentityDeps,
  tenant: Tenant,
  rp: RelyingParty,
  input: { ceremonyId: string; response: AuthenticationResponseJSON },
): Promise<AuthenticationOutcome> {
  const challenge = await takeChallenge(deps, tenant, input.ceremonyId, "authenticate");
  if (!challenge) return { ok: false, reason: "passkey.failed" };
  const passkey = await deps.repos.factors.passkey(input.response.id);
  if (!passkey) return { ok: false, reason: "passkey.unknown" };
  // A ceremony begun for one account cannot be finished with another account's key.
  if (challenge.account_id !== null && challenge.account_id !== passkey.account_id) return { ok: false, reason: "passkey.failed" };
  const accountRow = await deps.repos.accounts.find(tenant.id, passkey.account_id);
  if (!accountRow) return { ok: false, reason: "passkey.unknown" };

  const verification = await verifyAuthenticationResponse({
    response: input.response,
    expectedChallenge: challenge.challenge,
    expectedOrigin: rp.origin,
    expectedRPID: rp.id,
    requireUserVerification: true,
    credential: {
      id: passkey.id,
      publicKey: Buffer.from(passkey.public_key, "base64url"),
      counter: passkey.counter,
      transports: JSON.parse(passkey.transports) as AuthenticatorTransport[],
    },
  }).catch(() => undefined);
  if (!verification?.verified) return { ok: false, reason: "passkey.failed" };
  if (!(await deps.repos.factors.usePasskey(passkey.id, verification.authenticationInfo.newCounter, deps.clock.now()))) {
    return { ok: false, reason: "passkey.failed" };
  }
  return {
    ok: true,
    account: accountFromRow(accountRow),
    method: verification.authenticationInfo.credentialBackedUp ? "passkey_synced" : "passkey",
  };
}

export async function removePasskey(deps: IdentityDeps, tenant: Tenant, account: Account, passkeyId: string, by: Actor): Promise<boolean> {
  const removed = (await deps.repos.factors.deletePasskey(account.id, passkeyId)) > 0;
  if (removed) {
    await recordAuditBy(deps.repos, deps.clock, by, {
      tenantId: tenant.id,
      type: "factor.removed",
      subject: account.id,
      data: { factor: "passkey", passkeyId },
    });
  }
  return removed;
}

async function storeChallenge(deps: IdentityDeps, tenant: Tenant, accountId: string | null, purpose: string, challenge: string) {
  const id = newId();
  await deps.repos.factors.insertChallenge({
    id,
    tenant_id: tenant.id,
    account_id: accountId,
    purpose,
    challenge,
    expires_at: deps.clock.now() + CHALLENGE_TTL_MS,
  });
  return id;
}

async function takeChallenge(deps: IdentityDeps, tenant: Tenant, id: string, purpose: string) {
  const row = await deps.repos.factors.takeChallenge(tenant.id, id);
  return row && row.purpose === purpose && row.expires_at > deps.clock.now() ? row : undefined;
}
