import { recordAuditBy } from "../../audit/service.ts";
import { findAccount } from "../../identity/accounts.ts";
import type { Actor, IdentityDeps } from "../../identity/deps.ts";
import { nextSpidCode } from "../../identity/spid-code.ts";
import { enqueueMessage } from "../../messaging/outbox.ts";
import { TesseraError } from "../../shared/errors.ts";
import { translator } from "../../shared/i18n/translate.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { type CaseData, type ProofingCase, proofingPolicy, type RejectionReason } from "./cases.ts";

const YEAR = 365.25 * 24 * 3_600_000;

/** Who decides: an operator (their account), or the method itself (`system`: a verified signature, certificate or chip). */
export type Decider = Actor & { accountId: string | null };

/** Methods an operator decides, where four eyes apply; the others are decided by what they verify. */
const OPERATOR_METHODS = new Set(["in_person", "video"]);

/**
 * An approval (seed 000, end of the request): the identity becomes active with the next spidCode,
 * the evidence is kept for the policy's retention period, the applicant is told by e-mail; all
 * in one transaction with the case's move from `pending`, so that two decisions never both land.
 * With four eyes, an operator's approval only moves the case to `awaiting_confirmation`.
 */
export async function approveCase(deps: IdentityDeps, tenant: Tenant, proofing: ProofingCase, found: CaseData, by: Decider, links: { accountUrl: string }): Promise<ProofingCase["state"]> {
  const policy = proofingPolicy(tenant);
  const now = deps.clock.now();
  const data = { ...proofing.data, ...found };
  if (policy.fourEyes && OPERATOR_METHODS.has(proofing.method)) {
    await deps.repos.atomically(async (repos) => {
      const moved = await repos.proofing.transition(tenant.id, proofing.id, ["pending"], { state: "awaiting_confirmation", data: JSON.stringify(data), decided_by: by.accountId, decided_at: now, updated_at: now });
      if (!moved) throw decidedAlready();
      await recordAuditBy(repos, deps.clock, by, { tenantId: tenant.id, type: "proofing.approved_pending_confirmation", subject: proofing.accountId, data: { case: proofing.id, method: proofing.method } });
    });
    return "awaiting_confirmation";
  }
  await activate(deps, tenant, { ...proofing, data }, ["pending"], { decided_by: by.accountId, decided_at: now }, by, links);
  return "approved";
}

/** Four eyes: a supervisor other than the operator who approved confirms the approval (or rejects the case). */
export async function confirmCase(deps: IdentityDeps, tenant: Tenant, proofing: ProofingCase, by: Decider, links: { accountUrl: string }): Promise<void> {
  if (proofing.state !== "awaiting_confirmation") throw decidedAlready();
  if (proofing.decidedBy === by.accountId) throw new TesseraError("proofing.same_operator", "the approval must be confirmed by another person", { status: 403 });
  await activate(deps, tenant, proofing, ["awaiting_confirmation"], { confirmed_by: by.accountId, confirmed_at: deps.clock.now() }, by, links);
}

async function activate(
  deps: IdentityDeps,
  tenant: Tenant,
  proofing: ProofingCase,
  from: ProofingCase["state"][],
  decision: { decided_by?: string | null; decided_at?: number; confirmed_by?: string | null; confirmed_at?: number },
  by: Decider,
  links: { accountUrl: string },
): Promise<void> {
  const now = deps.clock.now();
  const policy = proofingPolicy(tenant);
  await deps.repos.atomically(async (repos) => {
    const moved = await repos.proofing.transition(tenant.id, proofing.id, from, { state: "approved", data: JSON.stringify(proofing.data), ...decision, updated_at: now });
    if (!moved) throw decidedAlready();
    const tx = { ...deps, repos };
    const account = (await findAccount(tx, tenant, proofing.accountId))!;
    if (account.state !== "awaiting_proofing") throw new TesseraError("proofing.not_awaiting", `the identity is ${account.state}, not awaiting proofing`, { status: 409 });
    const spidCode = await nextSpidCode(repos, tenant);
    await repos.accounts.update(tenant.id, account.id, { state: "active", spid_code: spidCode, identification_method: proofing.method, registration_point: proofing.point, updated_at: now });
    await repos.proofing.retainEvidence(tenant.id, proofing.id, now + policy.retentionYears * YEAR);
    await recordAuditBy(repos, deps.clock, by, { tenantId: tenant.id, type: "proofing.approved", subject: account.id, data: { case: proofing.id, method: proofing.method, spidCode } });
    const locale = account.locale ?? tenant.defaultLocale;
    const t = translator(locale);
    await enqueueMessage(tx, {
      tenant,
      channel: "email",
      to: account.email!,
      template: "identity_activated",
      locale,
      params: { name: account.givenName ?? account.identifier, spid_code: spidCode, method: t(`enrol.method.${proofing.method}`), account_url: links.accountUrl },
    });
  });
}

/**
 * A rejection, with a reason the applicant is told in words and what to do next; the request stays
 * open (another visit, another method). An operator's note is kept with the case, not sent.
 */
export async function rejectCase(
  deps: IdentityDeps,
  tenant: Tenant,
  proofing: ProofingCase,
  rejection: { reason: RejectionReason; note?: string | undefined; found?: CaseData },
  by: Decider,
  links: { accountUrl: string },
): Promise<void> {
  const now = deps.clock.now();
  const policy = proofingPolicy(tenant);
  const data = { ...proofing.data, ...rejection.found, ...(rejection.note ? { note: rejection.note } : {}) };
  await deps.repos.atomically(async (repos) => {
    const moved = await repos.proofing.transition(tenant.id, proofing.id, ["pending", "awaiting_confirmation"], {
      state: "rejected",
      reason: rejection.reason,
      data: JSON.stringify(data),
      ...(proofing.state === "awaiting_confirmation" ? { confirmed_by: by.accountId, confirmed_at: now } : { decided_by: by.accountId, decided_at: now }),
      updated_at: now,
    });
    if (!moved) throw decidedAlready();
    await repos.proofing.retainEvidence(tenant.id, proofing.id, now + policy.retentionYears * YEAR);
    await recordAuditBy(repos, deps.clock, by, { tenantId: tenant.id, type: "proofing.rejected", subject: proofing.accountId, data: { case: proofing.id, method: proofing.method, reason: rejection.reason } });
    const account = (await findAccount({ ...deps, repos }, tenant, proofing.accountId))!;
    const locale = account.locale ?? tenant.defaultLocale;
    const t = translator(locale);
    await enqueueMessage({ ...deps, repos }, {
      tenant,
      channel: "email",
      to: account.email!,
      template: "proofing_rejected",
      locale,
      params: {
        name: account.givenName ?? account.identifier,
        request: proofing.request,
        method: t(`enrol.method.${proofing.method}`),
        reason: t(`proofing.reason.${rejection.reason}`),
        next_steps: t(`proofing.next.${rejection.reason}`),
        account_url: links.accountUrl,
      },
    });
  });
}

const decidedAlready = () => new TesseraError("proofing.decided", "this case has been decided already", { status: 409 });
