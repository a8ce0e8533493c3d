import { z } from "zod";
import { recordAuditBy } from "../../audit/service.ts";
import { findAccount } from "../../identity/accounts.ts";
import type { Actor, IdentityDeps } from "../../identity/deps.ts";
import { normalizeDni, normalizeEmail, normalizePhone } from "../../identity/identifiers.ts";
import { findOrganization, type Organization } from "../../identity/organizations.ts";
import { enqueueMessage } from "../../messaging/outbox.ts";
import { type FieldIssue, TesseraError, ValidationError } from "../../shared/errors.ts";
import { dayOf, isCalendarDate } from "../../shared/i18n/dates.ts";
import { newId } from "../../shared/ids.ts";
import type { MembershipRow } from "../../store/repos/professionals.ts";
import type { Tenant } from "../../tenants/tenant.ts";

/**
 * A professional's membership of an organisation (seed 002), from the request on: `requested`,
 * then `authorised` or `refused` by one of the organisation's representatives; `active` once the
 * activation issued its certificate; `ended` when that certificate is revoked (by the holder, or
 * by a representative when the person leaves).
 */
export const MEMBERSHIP_STATES = ["requested", "refused", "authorised", "active", "ended"] as const;
export type MembershipState = (typeof MEMBERSHIP_STATES)[number];
export const OPEN_MEMBERSHIP_STATES: MembershipState[] = ["requested", "authorised", "active"];

/** Why a representative refused a request: stable codes (i18n keys `professionals.refusal.<code>`), with their words. */
export const REFUSAL_REASONS = ["not_member", "not_entitled", "data_mismatch", "other"] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** What a desk officer checks before recording a request: the DNI itself, still valid, and its photo the person's. */
export const DESK_CHECKS = ["document_original", "document_valid", "photo_matches"] as const;

/**
 * How the applicant was identified (seed 002, "dos formas de solicitud"): with the certificate
 * of a professional card they already had, over mutual TLS; or in person at a corporate desk, by
 * an officer who saw their DNI.
 */
export type MembershipEvidence =
  | { channel: "card"; subject: string; issuer: string; serial: string; sha256: string; revocation: string }
  | { channel: "desk"; desk: string; officer: string; checks: string[] };

export interface Membership {
  id: string;
  organizationId: string;
  accountId: string | null;
  dni: string;
  givenName: string;
  familyName: string;
  email: string;
  phone: string | null;
  documentExpiryDate: string;
  title: string | null;
  evidence: MembershipEvidence;
  state: MembershipState;
  decidedBy: string | null;
  decidedAt: number | null;
  refusalReason: string | null;
  certificateSerial: string | null;
  keyId: string | null;
  endedAt: number | null;
  createdAt: number;
}

export function membershipOf(row: MembershipRow): Membership {
  return {
    id: row.id,
    organizationId: row.organization_id,
    accountId: row.account_id,
    dni: row.dni,
    givenName: row.given_name,
    familyName: row.family_name,
    email: row.email,
    phone: row.phone,
    documentExpiryDate: row.document_expiry_date,
    title: row.title,
    evidence: JSON.parse(row.evidence) as MembershipEvidence,
    state: row.state as MembershipState,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    refusalReason: row.refusal_reason,
    certificateSerial: row.certificate_serial,
    keyId: row.key_id,
    endedAt: row.ended_at,
    createdAt: row.created_at,
  };
}

export async function findMembership(deps: IdentityDeps, tenant: Tenant, id: string): Promise<Membership> {
  const row = await deps.repos.professionals.membership(tenant.id, id);
  if (!row) throw new TesseraError("membership.not_found", "no such request", { status: 404 });
  return membershipOf(row);
}

const NAME = /^[\p{L}][\p{L}\p{M}' .-]{0,59}$/u;

/** What a request says of the applicant, as the card page and the desk officer's form collect it. */
export const MembershipRequest = z
  .object({
    organization: z.string().trim().min(1).max(40),
    dni: z.string().max(20),
    given_name: z.string().trim().max(60),
    family_name: z.string().trim().max(60),
    email: z.string().trim().max(254),
    phone: z.string().trim().max(24).optional(),
    /** The DNI's expiry date, the answer to the activation's identity check. */
    document_expiry_date: z.string().trim().max(10),
    /** The job title, as the certificate's `title` will say. */
    title: z.string().trim().max(64).optional(),
  })
  .strict();
export type MembershipRequest = z.input<typeof MembershipRequest>;

export interface CheckedRequest {
  organization: Organization;
  dni: string;
  givenName: string;
  familyName: string;
  email: string;
  phone: string | null;
  documentExpiryDate: string;
  title: string | null;
}

/**
 * A request's data, each field checked, every problem reported at once: a DNI or NIE with its
 * check letter, names, an e-mail address, a mobile number in international form, a DNI still
 * valid today (in the tenant's time zone), a known organisation.
 */
export async function checkRequest(deps: IdentityDeps, tenant: Tenant, input: unknown): Promise<CheckedRequest> {
  const parsed = MembershipRequest.safeParse(input);
  if (!parsed.success) {
    throw new ValidationError("membership.invalid", parsed.error.issues.map((i) => ({ field: i.path.join(".") || "(input)", code: `invalid.${i.code}`, message: i.message })));
  }
  const data = parsed.data;
  const issues: FieldIssue[] = [];
  const issue = (field: string, code: string, message: string) => issues.push({ field, code, message });
  const dni = normalizeDni(data.dni);
  if (!dni) issue("dni", "identifier.invalid_dni", "not a DNI or NIE with its check letter");
  for (const field of ["given_name", "family_name"] as const) {
    if (!data[field]) issue(field, "enrol.required", "required");
    else if (!NAME.test(data[field])) issue(field, "enrol.invalid_name", "not a name");
  }
  const email = normalizeEmail(data.email);
  if (!email) issue("email", "identifier.invalid_email", "not an e-mail address");
  const phone = data.phone ? normalizePhone(data.phone) : null;
  if (data.phone && !phone) issue("phone", "phone.invalid", "not a mobile number in international form (+34…)");
  if (!isCalendarDate(data.document_expiry_date)) issue("document_expiry_date", "enrol.invalid_date", "not a date (YYYY-MM-DD)");
  else if (data.document_expiry_date < dayOf(deps.clock.now(), tenant.policy.timeZone)) issue("document_expiry_date", "professionals.dni_expired", "the DNI has expired");
  let organization: Organization | undefined;
  try {
    organization = await findOrganization(deps, tenant, data.organization);
  } catch (error) {
    if (!(error instanceof TesseraError) || error.status !== 404) throw error;
    issue("organization", "organization.not_found", "no such organisation");
  }
  if (issues.length > 0 || !organization) throw new ValidationError("membership.invalid", issues);
  return {
    organization,
    dni: dni!,
    givenName: data.given_name,
    familyName: data.family_name,
    email: email!,
    phone,
    documentExpiryDate: data.document_expiry_date,
    title: data.title || null,
  };
}

export interface RequestLinks {
  /** The representatives' console, where the request waits. */
  consoleUrl: string;
}

/**
 * Records a request, made with a card or at a desk: one open request or membership per person
 * and organisation. The applicant is told it was received, the organisation's representatives
 * that it waits for them.
 */
export async function requestMembership(deps: IdentityDeps, tenant: Tenant, request: CheckedRequest, evidence: MembershipEvidence, by: Actor, links: RequestLinks): Promise<Membership> {
  return deps.repos.atomically(async (repos) => {
    const tx = { ...deps, repos };
    // Two requests for one person and organisation at once: the second waits here, then sees the first.
    await repos.lock(`membership:${tenant.id}:${request.organization.id}:${request.dni}`);
    if (await repos.professionals.openMembership(tenant.id, request.organization.id, request.dni)) {
      throw new TesseraError("membership.exists", `${request.dni} already has a request or a membership of ${request.organization.name}`, { status: 409, params: { organization: request.organization.name } });
    }
    const now = deps.clock.now();
    const row: MembershipRow = {
      tenant_id: tenant.id,
      id: newId(),
      organization_id: request.organization.id,
      account_id: null,
      dni: request.dni,
      given_name: request.givenName,
      family_name: request.familyName,
      email: request.email,
      phone: request.phone,
      document_expiry_date: request.documentExpiryDate,
      title: request.title,
      channel: evidence.channel,
      evidence: JSON.stringify(evidence),
      recorded_by: evidence.channel === "desk" ? evidence.officer : null,
      state: "requested",
      decided_by: null,
      decided_at: null,
      refusal_reason: null,
      certificate_serial: null,
      key_id: null,
      ended_at: null,
      created_at: now,
      updated_at: now,
    };
    await repos.professionals.insertMembership(row);
    await recordAuditBy(repos, deps.clock, by, {
      tenantId: tenant.id,
      type: "membership.requested",
      subject: null,
      data: { membership: row.id, organization: request.organization.id, dni: request.dni, channel: evidence.channel },
    });
    const name = `${request.givenName} ${request.familyName}`;
    await enqueueMessage(tx, {
      tenant,
      channel: "email",
      to: request.email,
      template: "membership_requested",
      locale: tenant.defaultLocale,
      params: { name, organization: request.organization.name },
    });
    for (const representativeId of await repos.professionals.representatives(tenant.id, request.organization.id)) {
      const representative = await findAccount(tx, tenant, representativeId);
      if (!representative?.email) continue;
      await enqueueMessage(tx, {
        tenant,
        channel: "email",
        to: representative.email,
        template: "membership_pending",
        locale: representative.locale ?? tenant.defaultLocale,
        params: { name: `${representative.givenName ?? ""} ${representative.familyName ?? ""}`.trim(), applicant: name, organization: request.organization.name, console_url: links.consoleUrl },
      });
    }
    return membershipOf(row);
  });
}
