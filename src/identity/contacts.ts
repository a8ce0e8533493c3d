import { recordAuditBy } from "../audit/service.ts";
import { enqueueMessage } from "../messaging/outbox.ts";
import type { FieldIssue } from "../shared/errors.ts";
import type { Tenant } from "../tenants/tenant.ts";
import { type Account, findAccountByIdentifier } from "./accounts.ts";
import { auditTaken } from "./identifier-checks.ts";
import type { Actor, IdentityDeps } from "./deps.ts";
import { maskContact, normalizeEmail, normalizePhone } from "./identifiers.ts";
import { issueOtp, verifyOtp, type VerifyOutcome } from "./otp.ts";
import { formatDate } from "../shared/i18n/dates.ts";

/**
 * Changing contact details (seed 002: "cambio de datos de contacto"): a code goes to the new
 * address or number, and only that code makes the change; the old one is then told. Where the
 * e-mail address is the user ID (SPID), it changes with it, and must be free.
 */
export type ContactKind = "email" | "mobile";

const purpose = (flowId: string, kind: ContactKind) => `flow:${flowId}:new_${kind}`;

/**
 * Where the e-mail address is the user ID, whether a new one is free is a check that tells who
 * has an account: the caller books it (identity/identifier-checks.ts); a "taken" answer is audited.
 */
export async function requestContactChange(
  deps: IdentityDeps,
  tenant: Tenant,
  account: Account,
  flowId: string,
  kind: ContactKind,
  typed: string,
  by: Actor,
): Promise<{ ok: true; value: string } | { ok: false; error: FieldIssue }> {
  const value = kind === "email" ? normalizeEmail(typed) : normalizePhone(typed);
  const field = kind;
  if (!value) return { ok: false, error: { field, code: kind === "email" ? "identifier.invalid_email" : "phone.invalid", message: "invalid" } };
  if (value === (kind === "email" ? account.email : account.phone)) {
    return { ok: false, error: { field, code: "contact.unchanged", message: "this is the current value" } };
  }
  if (kind === "email" && tenant.policy.identifier === "email") {
    const holder = await findAccountByIdentifier(deps, tenant, value);
    if (holder && holder.id !== account.id) {
      await auditTaken(deps, tenant, by, { holder: holder.id, field, flowId });
      return { ok: false, error: { field, code: "account.identifier_taken", message: "taken" } };
    }
  }
  const sent = await issueOtp(deps, tenant, {
    purpose: purpose(flowId, kind),
    channel: kind === "email" ? "email" : "sms",
    destination: value,
    locale: account.locale ?? tenant.defaultLocale,
  });
  if (!sent.ok) return { ok: false, error: { field, code: sent.reason, message: sent.reason, params: sent.params } };
  return { ok: true, value };
}

export async function confirmContactChange(
  deps: IdentityDeps,
  tenant: Tenant,
  account: Account,
  flowId: string,
  kind: ContactKind,
  code: string,
  by: Actor,
): Promise<VerifyOutcome> {
  const verdict = await verifyOtp(deps, tenant, purpose(flowId, kind), code);
  if (!verdict.ok) return verdict;
  const now = deps.clock.now();
  const old = kind === "email" ? account.email : account.phone;
  await deps.repos.accounts.update(tenant.id, account.id, {
    ...(kind === "email"
      ? { email: verdict.destination, email_verified_at: now, ...(tenant.policy.identifier === "email" ? { identifier: verdict.destination } : {}) }
      : { phone: verdict.destination, phone_verified_at: now }),
    updated_at: now,
  });
  if (old) {
    const locale = account.locale ?? tenant.defaultLocale;
    const date = formatDate(now, locale, tenant.policy.timeZone, "dateTime");
    await enqueueMessage(deps, {
      tenant,
      channel: kind === "email" ? "email" : "sms",
      to: old,
      template: "contact_changed",
      locale,
      params: { what: kind === "email" ? "e-mail" : "mobile", date },
    });
  }
  await recordAuditBy(deps.repos, deps.clock, by, {
    tenantId: tenant.id,
    type: `contact.${kind}_changed`,
    subject: account.id,
    // Masked: the audit trail is kept for years and needs to show that a change was made, not the numbers.
    data: { from: old ? maskContact(old) : null, to: maskContact(verdict.destination) },
  });
  return verdict;
}
