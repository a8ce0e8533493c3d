import { randomInt } from "node:crypto";
import { enqueueMessage } from "../messaging/outbox.ts";
import { newId } from "../shared/ids.ts";
import type { Template } from "../messaging/templates.ts";
import type { Locale } from "../shared/i18n/locales.ts";
import type { Tenant } from "../tenants/tenant.ts";
import type { IdentityDeps } from "./deps.ts";

/**
 * One-time codes sent by SMS or e-mail. A code is bound to a purpose (a flow and its step, e.g.
 * `flow:<id>:mobile_confirmation`): it proves nothing anywhere else. Only a keyed MAC of it is
 * stored. It is valid `ttlSeconds`, once, for at most `maxAttempts` tries; a new code for the same
 * purpose replaces the previous one. Sending is throttled per purpose and per destination.
 */
export type OtpChannel = "sms" | "email";

export type IssueOutcome =
  | { ok: true; expiresAt: number; resendAt: number }
  | { ok: false; reason: "otp.resend_too_soon" | "otp.too_many"; params: Record<string, number> };

const HOUR = 3_600_000;

export interface OtpRequest {
  purpose: string;
  channel: OtpChannel;
  destination: string;
  locale: Locale;
  /** How long this code stays valid, where the purpose needs another time than the tenant's default. */
  ttlSeconds?: number;
  /** The message to send it in (default: the plain code message) and its parameters besides the code. */
  message?: { template: Template; params: (code: string) => Record<string, string | number> };
  /**
   * For nobody (an identifier no account has): the same checks run and the same rows are written,
   * throttled alike, but no code will ever match and the message is never sent. What a known
   * identifier costs and answers, an unknown one does too.
   */
  decoy?: boolean;
  /**
   * Codes per hour for this purpose and to this destination, where the purpose needs more than
   * the tenant's default (one per signature: a professional signs many documents a day).
   */
  perHour?: number;
}

export async function issueOtp(deps: IdentityDeps, tenant: Tenant, request: OtpRequest): Promise<IssueOutcome> {
  // Checks and send in one transaction, holding the purpose's and destination's locks: parallel
  // requests (on any node) are counted one after another, not all against the same past.
  return deps.repos.atomically(async (repos) => {
    for (const key of [`otp:${tenant.id}:d:${request.destination}`, `otp:${tenant.id}:p:${request.purpose}`].sort()) {
      await repos.lock(key);
    }
    return sendCode({ ...deps, repos }, tenant, request);
  });
}

async function sendCode(deps: IdentityDeps, tenant: Tenant, request: OtpRequest): Promise<IssueOutcome> {
  const policy = tenant.policy.otp;
  const now = deps.clock.now();
  // A resend waits while the last code is still to be used; once one is used (a signature made, a
  // step passed), the next one may go at once: that person holds the phone or the mailbox.
  const pending = await deps.repos.otp.sendsSince(tenant.id, now - HOUR, { purpose: request.purpose, unused: true });
  if (pending.last !== null && now - pending.last < policy.resendSeconds * 1000) {
    return { ok: false, reason: "otp.resend_too_soon", params: { seconds: Math.ceil((pending.last + policy.resendSeconds * 1000 - now) / 1000) } };
  }
  const forPurpose = await deps.repos.otp.sendsSince(tenant.id, now - HOUR, { purpose: request.purpose });
  // Per destination and kind of code (the purpose's first part: `flow`, `csc`…): a professional's
  // signing codes do not use up the sign-in codes of the hour, nor the other way round.
  const kind = request.purpose.includes(":") ? `${request.purpose.split(":")[0]}:` : "";
  const forDestination = await deps.repos.otp.sendsSince(tenant.id, now - HOUR, { destination: request.destination, purposePrefix: kind });
  if (forPurpose.count >= (request.perHour ?? policy.maxPerHour) || forDestination.count >= (request.perHour ?? policy.maxPerDestinationPerHour)) {
    return { ok: false, reason: "otp.too_many", params: { minutes: 60 } };
  }

  const id = newId();
  const code = String(randomInt(0, 10 ** policy.length)).padStart(policy.length, "0");
  const ttlSeconds = request.ttlSeconds ?? policy.ttlSeconds;
  const expiresAt = now + ttlSeconds * 1000;
  await deps.repos.otp.insert({
    id,
    tenant_id: tenant.id,
    purpose: request.purpose,
    channel: request.channel,
    destination: request.destination,
    code_mac: deps.secrets.mac(request.decoy ? `otp-decoy:${id}` : codeInput(id, code)),
    created_at: now,
    expires_at: expiresAt,
    attempts: 0,
    used_at: null,
  });
  await enqueueMessage(deps, {
    tenant,
    channel: request.channel,
    to: request.destination,
    template: request.message?.template ?? "otp",
    locale: request.locale,
    params: { code, minutes: Math.round(ttlSeconds / 60), ...request.message?.params(code) },
    // A code nobody can use any more is not worth sending late.
    expiresAt,
    ...(request.decoy ? { decoy: true } : {}),
  });
  return { ok: true, expiresAt, resendAt: now + policy.resendSeconds * 1000 };
}

export type VerifyOutcome =
  | { ok: true; destination: string; channel: OtpChannel }
  | { ok: false; reason: "otp.invalid"; params: { remaining: number } }
  | { ok: false; reason: "otp.expired" | "otp.used" | "otp.exhausted" | "otp.missing"; params: Record<string, never> };

/**
 * Checks a code against the latest one sent for the purpose. Every outcome is distinct: wrong
 * (with attempts left), expired, used, exhausted, none sent. The attempt is counted in the store:
 * callers must commit even when the outcome is a failure (it is returned, not thrown).
 */
export async function verifyOtp(deps: IdentityDeps, tenant: Tenant, purpose: string, code: string): Promise<VerifyOutcome> {
  const policy = tenant.policy.otp;
  const now = deps.clock.now();
  const latest = await deps.repos.otp.latest(tenant.id, purpose);
  if (!latest) return { ok: false, reason: "otp.missing", params: {} };
  // The attempt is counted before the code is compared, atomically (see claimAttempt).
  const attempts = await deps.repos.otp.claimAttempt(latest.id, policy.maxAttempts, now);
  if (attempts === null) return { ok: false, reason: spentReason((await deps.repos.otp.byId(latest.id)) ?? latest, policy.maxAttempts, now), params: {} };

  if (!deps.secrets.macEquals(codeInput(latest.id, code.replace(/\s/g, "")), latest.code_mac)) {
    return attempts >= policy.maxAttempts
      ? { ok: false, reason: "otp.exhausted", params: {} }
      : { ok: false, reason: "otp.invalid", params: { remaining: policy.maxAttempts - attempts } };
  }
  if (!(await deps.repos.otp.markUsed(latest.id, now))) return { ok: false, reason: "otp.used", params: {} };
  return { ok: true, destination: latest.destination, channel: latest.channel as OtpChannel };
}

/** Why a code can take no more attempts. Used before exhausted before expired: the more useful message first. */
function spentReason(row: { used_at: number | null; attempts: number; expires_at: number }, maxAttempts: number, now: number) {
  if (row.used_at !== null) return "otp.used" as const;
  if (row.attempts >= maxAttempts) return "otp.exhausted" as const;
  if (now >= row.expires_at) return "otp.expired" as const;
  return "otp.used" as const;
}

function codeInput(id: string, code: string): string {
  return `otp:${id}:${code}`;
}
