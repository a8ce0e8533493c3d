import { recordAuditBy } from "../../audit/service.ts";
import type { Account } from "../../identity/accounts.ts";
import type { Actor, IdentityDeps } from "../../identity/deps.ts";
import { TesseraError } from "../../shared/errors.ts";
import { newId } from "../../shared/ids.ts";
import type { ProofingCaseRow } from "../../store/repos/proofing.ts";
import type { IdentificationMethod, ProofingPolicy } from "../../tenants/policy.ts";
import type { Tenant } from "../../tenants/tenant.ts";

/**
 * A proofing case: one attempt at verifying an applicant's identity by one method (seed 000). It
 * is `pending` until decided; an operator's approval waits in `awaiting_confirmation` where the
 * tenant wants four eyes; `approved` activates the identity, `rejected` says why; an applicant who
 * changes method leaves the case `withdrawn` and opens another.
 */
export const CASE_STATES = ["pending", "awaiting_confirmation", "approved", "rejected", "withdrawn"] as const;
export type CaseState = (typeof CASE_STATES)[number];
export const OPEN_STATES: CaseState[] = ["pending", "awaiting_confirmation"];

/** Why a case was rejected: stable codes (i18n keys `proofing.reason.<code>`), with the operator's words. */
export const REJECTION_REASONS = [
  "document_invalid",
  "document_mismatch",
  "person_mismatch",
  "health_card_mismatch",
  "video_incomplete",
  "code_not_confirmed",
  "signature_invalid",
  "certificate_untrusted",
  "certificate_revoked",
  "certificate_expired",
  "fiscal_code_mismatch",
  "wrong_document",
  "chip_invalid",
  "data_mismatch",
  "revocation_unknown",
  "other",
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

/** What a case records beside its state: the operator's findings, or what a method verified. */
export interface CaseData {
  /** The identity document as the operator checked it. */
  document?: { type: string; number: string; issuer: string; issueDate: string; expiryDate: string };
  healthCard?: { number: string; expiry: string };
  /** The checks the operator ticked. */
  checks?: string[];
  /** A video session: when the code went out by SMS and when the operator confirmed hearing it. */
  video?: { codeSentAt?: number; codeConfirmedAt?: number };
  /** What an automatic method verified: certificate subject and serial, chip data, etc. */
  verified?: Record<string, unknown>;
  /** The operator's words beside the reason code, for a rejection. */
  note?: string;
}

export interface ProofingCase {
  id: string;
  accountId: string;
  request: string;
  method: IdentificationMethod;
  point: string | null;
  state: CaseState;
  bookedAt: number | null;
  data: CaseData;
  decidedBy: string | null;
  decidedAt: number | null;
  confirmedBy: string | null;
  confirmedAt: number | null;
  reason: RejectionReason | null;
  createdAt: number;
  updatedAt: number;
}

export function caseOf(row: ProofingCaseRow): ProofingCase {
  return {
    id: row.id,
    accountId: row.account_id,
    request: row.request,
    method: row.method as IdentificationMethod,
    point: row.point,
    state: row.state as CaseState,
    bookedAt: row.booked_at,
    data: JSON.parse(row.data) as CaseData,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    confirmedBy: row.confirmed_by,
    confirmedAt: row.confirmed_at,
    reason: row.reason as RejectionReason | null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function proofingPolicy(tenant: Tenant): ProofingPolicy {
  const policy = tenant.policy.enrolment?.proofing;
  if (!policy) throw new TesseraError("proofing.unavailable", `tenant ${tenant.id} does not proof identities`, { status: 404 });
  return policy;
}

/**
 * Opens a case for an applicant whose request is complete (enrolment's last step), or who chose
 * another method after a rejection: any open case of theirs is withdrawn. Inside the caller's
 * transaction.
 */
export async function openCase(
  deps: IdentityDeps,
  tenant: Tenant,
  account: Account,
  choice: { request: string; method: IdentificationMethod; point?: string | null },
  by: Actor,
): Promise<ProofingCase> {
  const enrolment = tenant.policy.enrolment;
  if (!enrolment?.methods.includes(choice.method)) throw new TesseraError("proofing.method_unavailable", `method ${choice.method} is not offered`);
  const point = choice.method === "in_person" ? (choice.point ?? null) : null;
  if (choice.method === "in_person" && !enrolment.points.some((p) => p.id === point)) throw new TesseraError("proofing.invalid_point", "choose one of the registration points");
  const now = deps.clock.now();
  const row: ProofingCaseRow = {
    tenant_id: tenant.id,
    id: newId(),
    account_id: account.id,
    request: choice.request,
    method: choice.method,
    point,
    state: "pending",
    booked_at: null,
    data: "{}",
    decided_by: null,
    decided_at: null,
    confirmed_by: null,
    confirmed_at: null,
    reason: null,
    created_at: now,
    updated_at: now,
  };
  await deps.repos.atomically(async (repos) => {
    for (const open of (await repos.proofing.casesOf(tenant.id, account.id)).filter((c) => OPEN_STATES.includes(c.state as CaseState))) {
      await repos.proofing.transition(tenant.id, open.id, OPEN_STATES, { state: "withdrawn", updated_at: now });
    }
    await repos.proofing.insertCase(row);
    await repos.accounts.update(tenant.id, account.id, { identification_method: choice.method, registration_point: point, updated_at: now });
    await recordAuditBy(repos, deps.clock, by, { tenantId: tenant.id, type: "proofing.opened", subject: account.id, data: { case: row.id, request: row.request, method: row.method, point } });
  });
  return caseOf(row);
}

/** The applicant's latest case (the one that counts), if any. */
export async function latestCase(deps: IdentityDeps, tenant: Tenant, accountId: string): Promise<ProofingCase | undefined> {
  const [row] = await deps.repos.proofing.casesOf(tenant.id, accountId);
  return row ? caseOf(row) : undefined;
}

export async function findCase(deps: IdentityDeps, tenant: Tenant, id: string): Promise<ProofingCase> {
  const row = await deps.repos.proofing.findCase(tenant.id, id);
  if (!row) throw new TesseraError("proofing.case_not_found", "no such case", { status: 404 });
  return caseOf(row);
}

/** The applicant's open case of `method`, or the error that says there is none (another method chosen, or decided). */
export async function openCaseOf(deps: IdentityDeps, tenant: Tenant, account: Account, method: IdentificationMethod): Promise<ProofingCase> {
  const latest = await latestCase(deps, tenant, account.id);
  if (account.state !== "awaiting_proofing" || !latest || latest.state !== "pending" || latest.method !== method) {
    throw new TesseraError("proofing.no_open_case", `there is no identity request awaiting proofing by ${method}`, { status: 409 });
  }
  return latest;
}
