import { z } from "zod";
import { recordAuditBy } from "../../audit/service.ts";
import { type Account, createAccount, findAccountByIdentifier } from "../../identity/accounts.ts";
import type { Actor, IdentityDeps } from "../../identity/deps.ts";
import { findOrganization, isRepresentative, type Organization } from "../../identity/organizations.ts";
import { enqueueMessage } from "../../messaging/outbox.ts";
import { TesseraError } from "../../shared/errors.ts";
import { formatDate } from "../../shared/i18n/dates.ts";
import { translator } from "../../shared/i18n/translate.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { openActivation } from "../activation/open.ts";
import { findMembership, type Membership, REFUSAL_REASONS } from "./memberships.ts";

export interface DecisionLinks {
  /** Where an activation link points: `<tenant>/activate/<flow>?token=<token>`. */
  tenantUrl: string;
}

export const Refusal = z.object({ reason: z.enum(REFUSAL_REASONS), note: z.string().trim().max(500).optional() }).strict();
export type Refusal = z.infer<typeof Refusal>;

/** The membership, if `representative` may decide on it (one of its organisation's representatives), with its organisation. */
async function decidable(deps: IdentityDeps, tenant: Tenant, membershipId: string, representative: Account): Promise<{ membership: Membership; organization: Organization }> {
  const membership = await findMembership(deps, tenant, membershipId);
  const organization = await findOrganization(deps, tenant, membership.organizationId);
  if (!(await isRepresentative(deps, tenant, organization, representative.id))) {
    throw new TesseraError("membership.not_representative", `you do not represent ${organization.name}`, { status: 403 });
  }
  return { membership, organization };
}

/**
 * The professional the membership is for: the account with that DNI, or a new one `activating`
 * with the request's data (names, contacts unverified until the activation proves them, the DNI
 * and its expiry date). A suspended or revoked identity gets no new certificate.
 */
async function professionalFor(deps: IdentityDeps, tenant: Tenant, membership: Membership, by: Actor): Promise<Account> {
  const existing = await findAccountByIdentifier(deps, tenant, membership.dni);
  if (existing) {
    if (existing.state !== "active" && existing.state !== "activating") {
      throw new TesseraError("membership.identity_blocked", `the identity of ${membership.dni} is ${existing.state}`, { status: 409, params: { state: existing.state } });
    }
    return existing;
  }
  return createAccount(
    deps,
    tenant,
    {
      identifier: membership.dni,
      state: "activating",
      locale: tenant.defaultLocale,
      givenName: membership.givenName,
      familyName: membership.familyName,
      email: membership.email,
      phone: membership.phone,
      documentType: "dni",
      documentNumber: membership.dni,
      documentExpiryDate: membership.documentExpiryDate,
    },
    by,
  );
}

/**
 * Sends the activation link (step 1) to the professional: a new activation, replacing any earlier
 * link. An active professional's codes go where their sign-in codes go; a new one's to the mobile
 * of the request, else its e-mail address.
 */
async function sendActivationLink(deps: IdentityDeps, tenant: Tenant, account: Account, organization: Organization, by: Actor, links: DecisionLinks): Promise<void> {
  const channel = account.preferredFactor ?? (account.phone ? "sms" : "email");
  const link = await openActivation(deps, tenant, account, channel, by);
  const locale = account.locale ?? tenant.defaultLocale;
  await enqueueMessage(deps, {
    tenant,
    channel: "email",
    to: account.email!,
    template: "activation_link",
    locale,
    params: {
      name: `${account.givenName ?? ""} ${account.familyName ?? ""}`.trim(),
      organization: organization.name,
      date: formatDate(link.expiresAt, locale, tenant.policy.timeZone, "dateTime"),
      activation_url: `${links.tenantUrl}/activate/${link.flowId}?token=${link.token}`,
    },
  });
}

/**
 * A representative authorises a request (seed 002: "una vez autorizada la solicitud por el
 * representante/responsable de cada entidad"): the membership is the professional's, and the
 * activation link goes out. One transaction; a request decided meanwhile (another representative,
 * another node) is not decided twice.
 */
export async function authoriseMembership(deps: IdentityDeps, tenant: Tenant, membershipId: string, representative: Account, by: Actor, links: DecisionLinks): Promise<Membership> {
  const { membership, organization } = await decidable(deps, tenant, membershipId, representative);
  return deps.repos.atomically(async (repos) => {
    const tx = { ...deps, repos };
    const account = await professionalFor(tx, tenant, membership, by);
    const now = deps.clock.now();
    const moved = await repos.professionals.transitionMembership(tenant.id, membership.id, ["requested"], { state: "authorised", account_id: account.id, decided_by: representative.id, decided_at: now, updated_at: now });
    if (!moved) throw new TesseraError("membership.decided", "this request has already been decided", { status: 409 });
    await recordAuditBy(repos, deps.clock, by, { tenantId: tenant.id, type: "membership.authorised", subject: account.id, data: { membership: membership.id, organization: organization.id } });
    await sendActivationLink(tx, tenant, account, organization, by, links);
    return { ...membership, state: "authorised" as const, accountId: account.id, decidedBy: representative.id, decidedAt: now };
  });
}

/** A representative refuses a request, with a reason; the applicant is told it, in words. */
export async function refuseMembership(deps: IdentityDeps, tenant: Tenant, membershipId: string, representative: Account, refusal: Refusal, by: Actor): Promise<Membership> {
  const { membership, organization } = await decidable(deps, tenant, membershipId, representative);
  return deps.repos.atomically(async (repos) => {
    const now = deps.clock.now();
    const moved = await repos.professionals.transitionMembership(tenant.id, membership.id, ["requested"], { state: "refused", decided_by: representative.id, decided_at: now, refusal_reason: refusal.reason, updated_at: now });
    if (!moved) throw new TesseraError("membership.decided", "this request has already been decided", { status: 409 });
    await recordAuditBy(repos, deps.clock, by, { tenantId: tenant.id, type: "membership.refused", subject: null, data: { membership: membership.id, organization: organization.id, reason: refusal.reason } });
    const locale = tenant.defaultLocale;
    await enqueueMessage({ ...deps, repos }, {
      tenant,
      channel: "email",
      to: membership.email,
      template: "membership_refused",
      locale,
      params: {
        name: `${membership.givenName} ${membership.familyName}`,
        organization: organization.name,
        reason: translator(locale)(`professionals.refusal.${refusal.reason}`),
        note: refusal.note ? ` (${refusal.note})` : "",
      },
    });
    return { ...membership, state: "refused" as const, decidedBy: representative.id, decidedAt: now, refusalReason: refusal.reason };
  });
}

/** A new activation link for an authorised membership whose holder lost theirs, or let it expire. */
export async function resendActivation(deps: IdentityDeps, tenant: Tenant, membershipId: string, representative: Account, by: Actor, links: DecisionLinks): Promise<void> {
  const { membership, organization } = await decidable(deps, tenant, membershipId, representative);
  if (membership.state !== "authorised" || !membership.accountId) throw new TesseraError("membership.not_authorised", "only an authorised request waiting for its activation gets a new link", { status: 409 });
  await deps.repos.atomically(async (repos) => {
    const tx = { ...deps, repos };
    const account = await findAccountByIdentifier(tx, tenant, membership.dni);
    if (!account) throw new TesseraError("membership.not_found", "no such professional", { status: 404 });
    await sendActivationLink(tx, tenant, account, organization, by, links);
  });
}
