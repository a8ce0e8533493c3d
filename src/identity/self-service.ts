import { recordAuditBy } from "../audit/service.ts";
import { TesseraError } from "../shared/errors.ts";
import type { Tenant } from "../tenants/tenant.ts";
import type { Account } from "./accounts.ts";
import { listConsents } from "./consents.ts";
import type { Actor, IdentityDeps } from "./deps.ts";
import { levelFromAcr } from "./levels.ts";
import { listPasskeys, removePasskey } from "./passkeys.ts";
import { setPassword } from "./password/service.ts";
import { availableSecondFactors } from "./second-factors.ts";
import { listSessions, revokeAllSessions } from "./sessions.ts";
import { removeTotp } from "./totp.ts";

/** What the holder sees of their account in the self-service panel. */
export function profileOf(account: Account) {
  return {
    identifier: account.identifier,
    state: account.state,
    spid_code: account.spidCode,
    email: account.email,
    email_verified: account.emailVerifiedAt !== null,
    mobile: account.phone,
    mobile_verified: account.phoneVerifiedAt !== null,
    given_name: account.givenName,
    family_name: account.familyName,
    sex: account.sex,
    birth_date: account.birthDate,
    birth_place: account.birthPlace,
    county_of_birth: account.countyOfBirth,
    fiscal_code: account.fiscalCode,
    address: account.address,
    postal_code: account.postalCode,
    city: account.city,
    province: account.province,
    digital_address: account.digitalAddress,
    document: account.documentType
      ? {
          type: account.documentType,
          number: account.documentNumber,
          issuer: account.documentIssuer,
          issued: account.documentIssueDate,
          expires: account.documentExpiryDate,
        }
      : null,
    health_card: account.healthCardNumber ? { number: account.healthCardNumber, expires: account.healthCardExpiry } : null,
    notify_on_login: account.notifyOnLogin,
  };
}

export interface SignIn {
  at: number;
  ip: string | null;
  level: number;
  methods: string[];
  /** The relying party signed in to, by name; none for a sign-in to the identity provider itself. */
  service: string | null;
  /** A signature made (remote signing) rather than a sign-in: with which organisation's certificate, what. */
  signed?: { organization: string; document: string | null; count: number };
}

/**
 * Every sign-in, newest first: to the identity provider (time, address, level, methods) and to
 * each service through it (OpenID Connect authorizations, SAML assertions), from the audit log.
 */
export async function accessHistory(deps: IdentityDeps, tenant: Tenant, account: Account, limit = 50): Promise<SignIn[]> {
  const entries = await deps.repos.audit.bySubject(tenant.id, account.id, ["session.created", "oidc.authorized", "saml.authorized", "signature.created"], limit);
  return entries.map((e) => {
    const data = JSON.parse(e.data) as { level?: number; amr?: string[]; acr?: string; clientName?: string; client?: string; spName?: string; sp?: string; organization?: string; document?: string; signatures?: number };
    if (e.type === "signature.created") {
      return { at: e.at, ip: e.ip, level: 2, methods: ["pwd", "otp"], service: data.client ?? null, signed: { organization: data.organization ?? "", document: data.document ?? null, count: data.signatures ?? 1 } };
    }
    if (e.type === "oidc.authorized") {
      return { at: e.at, ip: e.ip, level: (data.acr && levelFromAcr(data.acr)) || 1, methods: data.amr ?? [], service: data.clientName ?? data.client ?? null };
    }
    if (e.type === "saml.authorized") {
      return { at: e.at, ip: e.ip, level: data.level ?? 1, methods: data.amr ?? [], service: data.spName ?? data.sp ?? null };
    }
    return { at: e.at, ip: e.ip, level: data.level ?? 1, methods: data.amr ?? [], service: null };
  });
}

export interface Factors {
  /** `expiresAt`: a temporary app (allowed by a declaration of not being able to use SPID/CIE). */
  totp: { id: string; createdAt: number; expiresAt: number | null }[];
  /** SPID/CIE at level 2 is the second factor ("Attiva 2FA con SPID/CIE"). */
  upstream: boolean;
  passkeys: Awaited<ReturnType<typeof listPasskeys>>;
  recoveryCodes: number;
  sms: string | null;
}

export async function factorsOf(deps: IdentityDeps, account: Account): Promise<Factors> {
  return {
    totp: (await deps.repos.factors.totpFactors(account.id)).filter((f) => f.confirmed_at !== null).map((f) => ({ id: f.id, createdAt: f.confirmed_at!, expiresAt: f.expires_at })),
    upstream: await deps.repos.broker.hasUpstreamFactor(account.id),
    passkeys: await listPasskeys(deps, account),
    recoveryCodes: await deps.repos.factors.unusedRecoveryCodes(account.id),
    sms: account.phoneVerifiedAt !== null ? account.phone : null,
  };
}

/**
 * Removes an authenticator app or a passkey. Where the tenant requires a second factor (the
 * university), the last one the account has cannot go: recovery codes do not count, they are a
 * way back, not a factor.
 */
export async function removeFactor(
  deps: IdentityDeps,
  tenant: Tenant,
  account: Account,
  factor: { kind: "totp" | "passkey"; id: string },
  by: Actor,
): Promise<void> {
  const ofKind =
    factor.kind === "totp"
      ? (await deps.repos.factors.totpFactors(account.id)).filter((f) => f.confirmed_at !== null).map((f) => f.id)
      : (await deps.repos.factors.passkeys(account.id)).map((p) => p.id);
  if (!ofKind.includes(factor.id)) throw new TesseraError("factor.not_found", "no such factor", { status: 404 });
  const remaining = (await availableSecondFactors(deps, tenant, account)).filter((f) => f !== "recovery_code");
  // The factor's kind stays available if the account has another of it.
  const left = ofKind.length > 1 ? remaining : remaining.filter((f) => f !== factor.kind);
  if (tenant.policy.factors.required && left.length === 0) {
    throw new TesseraError("factor.last_required", "the last second factor cannot be removed", { status: 409 });
  }
  const removed = factor.kind === "totp" ? await removeTotp(deps, tenant, account, factor.id, by) : await removePasskey(deps, tenant, account, factor.id, by);
  if (!removed) throw new TesseraError("factor.not_found", "no such factor", { status: 404 });
}

/**
 * A new password chosen by its holder, under the full policy (throws ValidationError listing each
 * rule broken). Every other session ends: whoever knew the old password is out.
 */
export async function changePassword(deps: IdentityDeps, tenant: Tenant, account: Account, password: string, by: Actor, currentSessionId: string): Promise<void> {
  await setPassword(deps, tenant, account, password, by);
  await revokeAllSessions(deps, tenant, account, by, currentSessionId);
}

export async function setLoginNotifications(deps: IdentityDeps, tenant: Tenant, account: Account, on: boolean, by: Actor): Promise<void> {
  await deps.repos.accounts.update(tenant.id, account.id, { notify_on_login: on ? 1 : 0, updated_at: deps.clock.now() });
  await recordAuditBy(deps.repos, deps.clock, by, { tenantId: tenant.id, type: "account.notifications", subject: account.id, data: { login: on } });
}

/**
 * Where sign-in codes go at once after the password (seed 002: "según lo tenga configurado"): SMS
 * or e-mail, among the second factors the tenant offers and the account has; null: the holder
 * asks at each sign-in.
 */
export async function setPreferredFactor(deps: IdentityDeps, tenant: Tenant, account: Account, factor: "sms" | "email" | null, by: Actor): Promise<void> {
  if (factor && !(await availableSecondFactors(deps, tenant, account)).includes(factor)) {
    throw new TesseraError("account.factor_unavailable", `codes cannot go by ${factor}: add a verified ${factor === "sms" ? "mobile number" : "e-mail address"} first`, { status: 409 });
  }
  await deps.repos.accounts.update(tenant.id, account.id, { preferred_factor: factor, updated_at: deps.clock.now() });
  await recordAuditBy(deps.repos, deps.clock, by, { tenantId: tenant.id, type: "account.preferred_factor", subject: account.id, data: { factor } });
}

/** Marketing consent withdrawn: the consent row records when; nothing is deleted. */
export async function withdrawMarketing(deps: IdentityDeps, tenant: Tenant, account: Account, by: Actor): Promise<boolean> {
  const withdrawn = await deps.repos.consents.withdraw(account.id, "marketing", deps.clock.now());
  if (withdrawn) await recordAuditBy(deps.repos, deps.clock, by, { tenantId: tenant.id, type: "consent.withdrawn", subject: account.id, data: { purpose: "marketing" } });
  return withdrawn;
}

/**
 * Everything held about the holder (GDPR art. 15 and 20), as JSON: personal data, contacts,
 * consents, factors (never their secrets), sessions and the account's audit trail.
 */
export async function exportPersonalData(deps: IdentityDeps, tenant: Tenant, account: Account) {
  const factors = await factorsOf(deps, account);
  const audit = await deps.repos.audit.bySubject(tenant.id, account.id, undefined, 10_000);
  return {
    exported_at: new Date(deps.clock.now()).toISOString(),
    tenant: tenant.id,
    account: profileOf(account),
    consents: (await listConsents(deps, account)).map((c) => ({
      purpose: c.purpose,
      version: c.version,
      granted: c.granted,
      given_at: new Date(c.givenAt).toISOString(),
      withdrawn_at: c.withdrawnAt === null ? null : new Date(c.withdrawnAt).toISOString(),
    })),
    factors: {
      authenticator_apps: factors.totp.map((f) => ({ added_at: new Date(f.createdAt).toISOString() })),
      passkeys: factors.passkeys.map((p) => ({ name: p.name, added_at: new Date(p.createdAt).toISOString(), synced: p.synced })),
      recovery_codes_left: factors.recoveryCodes,
    },
    sessions: (await listSessions(deps, tenant, account)).map((s) => ({
      created_at: new Date(s.createdAt).toISOString(),
      level: s.level,
      ip: s.ip,
      user_agent: s.userAgent,
    })),
    events: audit.map((e) => ({ at: new Date(e.at).toISOString(), type: e.type, ip: e.ip, data: JSON.parse(e.data) as unknown })),
  };
}
