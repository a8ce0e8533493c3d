import { z } from "zod";
import { findAccount } from "../../identity/accounts.ts";
import type { IdentityDeps } from "../../identity/deps.ts";
import { hasRole, type Operator } from "../../identity/operators.ts";
import { TesseraError, ValidationError, type FieldIssue } from "../../shared/errors.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { DOCUMENT_TYPES } from "../enrolment/steps/enter-personal-data.ts";
import { type CaseData, type ProofingCase, REJECTION_REASONS } from "./cases.ts";
import { approveCase, type Decider, rejectCase } from "./decisions.ts";
import { addEvidence, checkImage } from "./evidence.ts";

/** What the officer checks with the applicant in front of them (seed 000, "InfoCert Point"). */
export const IN_PERSON_CHECKS = ["face_matches_document", "document_original", "health_card_original", "data_read_back"] as const;

const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date as YYYY-MM-DD");
const required = (max: number) => z.string().trim().min(1, "required").max(max);

/** The officer's form: the document and health card as they read them, the checks ticked, the decision. */
export const InPersonDecision = z.discriminatedUnion("decision", [
  z.object({
    decision: z.literal("approve"),
    document_type: z.enum(DOCUMENT_TYPES),
    document_number: required(40),
    document_issuer: required(120),
    document_issue_date: date,
    document_expiry_date: date,
    health_card_number: z.string().trim().regex(/^\d{20}$/, "20 digits"),
    health_card_expiry: date,
    checks: z.array(z.enum(IN_PERSON_CHECKS)).default([]),
  }),
  z.object({ decision: z.literal("reject"), reason: z.enum(REJECTION_REASONS), note: z.string().trim().max(1000).optional() }),
]);
export type InPersonDecision = z.infer<typeof InPersonDecision>;

export interface DocumentImages {
  front?: Uint8Array;
  back?: Uint8Array;
}

const normal = (value: string | null) => (value ?? "").replace(/\s+/g, "").toUpperCase();
const issue = (field: string, code: string, message: string): FieldIssue => ({ field, code, message });

/**
 * A registration officer decides an in-person case of their own point (never another point's).
 * Approving needs every check ticked, both sides of the document photographed (JPEG or PNG), and
 * the document and health card the applicant declared, unexpired: what differs is a reason to
 * reject, not to approve. The images are kept as evidence with the decision, in one transaction.
 */
export async function decideInPerson(
  deps: IdentityDeps,
  tenant: Tenant,
  operator: Operator,
  proofing: ProofingCase,
  input: InPersonDecision,
  images: DocumentImages,
  by: Decider,
  links: { accountUrl: string },
): Promise<ProofingCase["state"]> {
  if (proofing.method !== "in_person") throw new TesseraError("proofing.wrong_method", "this case is not an in-person identification", { status: 409 });
  if (!hasRole(operator, "registration_officer", proofing.point)) {
    throw new TesseraError("proofing.other_point", "only a registration officer of this case's point can decide it", { status: 403 });
  }
  const files = (["front", "back"] as const).filter((side) => images[side]?.length).map((side) => ({ side, content: images[side]!, type: checkImage(tenant, `document_${side}`, images[side]!) }));

  if (input.decision === "reject") {
    return deps.repos.atomically(async (repos) => {
      const tx = { ...deps, repos };
      for (const f of files) await addEvidence(tx, tenant, proofing.id, { kind: `document_${f.side}`, mediaType: f.type, content: f.content }, by);
      await rejectCase(tx, tenant, proofing, { reason: input.reason, note: input.note }, by, links);
      return "rejected" as const;
    });
  }

  const account = (await findAccount(deps, tenant, proofing.accountId))!;
  const today = new Date(deps.clock.now()).toISOString().slice(0, 10);
  const problems: FieldIssue[] = [];
  for (const check of IN_PERSON_CHECKS) if (!input.checks.includes(check)) problems.push(issue("checks", "proofing.check_missing", `${check} not ticked`));
  for (const side of ["front", "back"] as const) if (!files.some((f) => f.side === side)) problems.push(issue(`document_${side}`, "proofing.upload_missing", `a photo of the document's ${side}`));
  if (input.document_type !== account.documentType || normal(input.document_number) !== normal(account.documentNumber)) {
    problems.push(issue("document_number", "proofing.document_not_declared", "the document is not the one declared in the request: reject it (document mismatch)"));
  }
  if (input.document_expiry_date < today) problems.push(issue("document_expiry_date", "proofing.document_expired", "the document has expired"));
  if (input.document_issue_date > today) problems.push(issue("document_issue_date", "proofing.date_in_future", "the issue date is in the future"));
  if (normal(input.health_card_number) !== normal(account.healthCardNumber)) problems.push(issue("health_card_number", "proofing.health_card_not_declared", "the health card is not the one declared"));
  if (input.health_card_expiry < today) problems.push(issue("health_card_expiry", "proofing.document_expired", "the health card has expired"));
  if (problems.length > 0) throw new ValidationError("proofing.invalid", problems);

  const found: CaseData = {
    document: { type: input.document_type, number: input.document_number, issuer: input.document_issuer, issueDate: input.document_issue_date, expiryDate: input.document_expiry_date },
    healthCard: { number: input.health_card_number, expiry: input.health_card_expiry },
    checks: [...input.checks],
  };
  return deps.repos.atomically(async (repos) => {
    const tx = { ...deps, repos };
    for (const f of files) await addEvidence(tx, tenant, proofing.id, { kind: `document_${f.side}`, mediaType: f.type, content: f.content }, by);
    return approveCase(tx, tenant, proofing, found, by, links);
  });
}
