import { randomBytes } from "node:crypto";
import { Secret, TOTP } from "otpauth";
import QRCode from "qrcode";
import { recordAuditBy } from "../audit/service.ts";
import { newId } from "../shared/ids.ts";
import type { Tenant } from "../tenants/tenant.ts";
import type { Account } from "./accounts.ts";
import type { Actor, IdentityDeps } from "./deps.ts";

/**
 * Authenticator apps: TOTP as RFC 6238 defines it, with the parameters every app understands
 * (HMAC-SHA1, 6 digits, 30-second steps) and a 160-bit secret (RFC 4226 §4 recommends it). A code
 * is accepted one step either side of now (clock drift), and only once: the last step used is
 * stored, and a code for that step or an earlier one is refused. Secrets are sealed at rest.
 */
const PERIOD = 30;
const DIGITS = 6;

export interface TotpEnrolment {
  factorId: string;
  /** Base32, for typing into an app by hand. */
  secret: string;
  /** otpauth:// URI (Key Uri Format), what the QR code holds. */
  uri: string;
  /** The QR code as an SVG document, made here: the secret never goes to an outside service. */
  qrSvg: string;
}

function totpFor(tenant: Tenant, account: Account, secret: string): TOTP {
  return new TOTP({
    issuer: tenant.policy.factors.totpIssuer ?? tenant.displayName,
    label: account.identifier,
    algorithm: "SHA1",
    digits: DIGITS,
    period: PERIOD,
    secret: Secret.fromBase32(secret),
  });
}

/**
 * Starts adding an app: a new secret, shown once. An earlier unfinished enrolment is dropped.
 * `expiresAt`: a temporary app, which stops counting then (seed 001: the app allowed by a
 * declaration of being unable to use SPID/CIE).
 */
export async function beginTotpEnrolment(deps: IdentityDeps, tenant: Tenant, account: Account, options: { expiresAt?: number } = {}): Promise<TotpEnrolment> {
  const factorId = newId();
  const secret = new Secret({ buffer: randomBytes(20).buffer }).base32;
  await deps.repos.factors.deleteUnconfirmedTotp(account.id);
  await deps.repos.factors.insertTotp({
    id: factorId,
    account_id: account.id,
    secret: deps.secrets.seal(secret, sealContext(factorId)),
    created_at: deps.clock.now(),
    confirmed_at: null,
    last_step: null,
    expires_at: options.expiresAt ?? null,
  });
  const uri = totpFor(tenant, account, secret).toString();
  const qrSvg = await QRCode.toString(uri, { type: "svg", errorCorrectionLevel: "M", margin: 2 });
  return { factorId, secret, uri, qrSvg };
}

/** An enrolment under way, shown again (a page reloaded): drawn from the sealed secret, never stored. */
export async function pendingTotpEnrolment(deps: IdentityDeps, tenant: Tenant, account: Account, factorId: string): Promise<TotpEnrolment | undefined> {
  const factor = (await deps.repos.factors.totpFactors(account.id)).find((f) => f.id === factorId && f.confirmed_at === null);
  if (!factor) return undefined;
  const secret = deps.secrets.open(factor.secret, sealContext(factor.id));
  const uri = totpFor(tenant, account, secret).toString();
  return { factorId, secret, uri, qrSvg: await QRCode.toString(uri, { type: "svg", errorCorrectionLevel: "M", margin: 2 }) };
}

export type TotpOutcome = { ok: true; factorId: string } | { ok: false; reason: "totp.invalid" | "totp.replayed" | "totp.not_enrolled" };

/** Finishes adding an app: the first code from it proves that it holds the secret. */
export async function confirmTotpEnrolment(
  deps: IdentityDeps,
  tenant: Tenant,
  account: Account,
  factorId: string,
  code: string,
  by: Actor,
): Promise<TotpOutcome> {
  const factor = (await deps.repos.factors.totpFactors(account.id)).find((f) => f.id === factorId && f.confirmed_at === null);
  if (!factor) return { ok: false, reason: "totp.not_enrolled" };
  const step = matchStep(tenant, account, deps.secrets.open(factor.secret, sealContext(factor.id)), code, deps.clock.now());
  if (step === null) return { ok: false, reason: "totp.invalid" };
  await deps.repos.factors.confirmTotp(factor.id, deps.clock.now(), step);
  await recordAuditBy(deps.repos, deps.clock, by, {
    tenantId: tenant.id,
    type: "factor.added",
    subject: account.id,
    data: { factor: "totp", factorId },
  });
  return { ok: true, factorId };
}

/** The account's apps that count now: confirmed, and not expired. */
async function usableTotp(deps: IdentityDeps, account: Account) {
  const now = deps.clock.now();
  return (await deps.repos.factors.totpFactors(account.id)).filter((f) => f.confirmed_at !== null && (f.expires_at === null || f.expires_at > now));
}

/** Checks a code against the account's confirmed apps (a temporary one only until it expires). */
export async function verifyTotp(deps: IdentityDeps, tenant: Tenant, account: Account, code: string): Promise<TotpOutcome> {
  const factors = await usableTotp(deps, account);
  if (factors.length === 0) return { ok: false, reason: "totp.not_enrolled" };
  for (const factor of factors) {
    const step = matchStep(tenant, account, deps.secrets.open(factor.secret, sealContext(factor.id)), code, deps.clock.now());
    if (step === null) continue;
    return (await deps.repos.factors.useTotpStep(factor.id, step)) ? { ok: true, factorId: factor.id } : { ok: false, reason: "totp.replayed" };
  }
  return { ok: false, reason: "totp.invalid" };
}

export async function hasTotp(deps: IdentityDeps, account: Account): Promise<boolean> {
  return (await usableTotp(deps, account)).length > 0;
}

export async function removeTotp(deps: IdentityDeps, tenant: Tenant, account: Account, factorId: string, by: Actor): Promise<boolean> {
  const removed = (await deps.repos.factors.deleteTotp(account.id, factorId)) > 0;
  if (removed) {
    await recordAuditBy(deps.repos, deps.clock, by, {
      tenantId: tenant.id,
      type: "factor.removed",
      subject: account.id,
      data: { factor: "totp", factorId },
    });
  }
  return removed;
}

/** The time step whose code matches, within ±1 step of `now`; null if none does. */
function matchStep(tenant: Tenant, account: Account, secret: string, code: string, now: number): number | null {
  const token = code.replace(/\s/g, "");
  if (!/^\d{6}$/.test(token)) return null;
  const delta = totpFor(tenant, account, secret).validate({ token, timestamp: now, window: 1 });
  return delta === null ? null : Math.floor(now / 1000 / PERIOD) + delta;
}

function sealContext(factorId: string): string {
  return `totp:${factorId}`;
}
