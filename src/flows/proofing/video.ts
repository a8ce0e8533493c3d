import { z } from "zod";
import { recordAuditBy } from "../../audit/service.ts";
import { type Account, findAccount } from "../../identity/accounts.ts";
import type { Actor, IdentityDeps } from "../../identity/deps.ts";
import { hasRole, type Operator } from "../../identity/operators.ts";
import { issueOtp, verifyOtp } from "../../identity/otp.ts";
import { TesseraError, ValidationError, type FieldIssue } from "../../shared/errors.ts";
import { wallClock, zonedInstant } from "../../shared/i18n/dates.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { type ProofingCase, openCaseOf, proofingPolicy, REJECTION_REASONS } from "./cases.ts";
import { approveCase, type Decider, rejectCase } from "./decisions.ts";
import { addEvidence, type EvidenceKind } from "./evidence.ts";

/**
 * Video identification (seed 000, "Video Riconoscimento"): the applicant books a session; at the
 * session the operator follows the regulator's script: asks the questions, sends a code by SMS to
 * the applicant's verified mobile and has them read it aloud, sees both sides of the document and
 * the health card; recordings and snapshots are kept by their hash. The call itself runs on the
 * tenant's video platform; Tessera holds the booking, the script and the evidence.
 */
export const VIDEO_CHECKS = ["questions_answered", "document_front_shown", "document_back_shown", "health_card_shown", "recording_consented"] as const;

const DAY = 24 * 3_600_000;
const MINUTE = 60_000;
/** The operator may start the script this long before the booked time. */
const EARLY_MS = 15 * MINUTE;

const videoPurpose = (caseId: string) => `proofing-video:${caseId}`;

/** Free session starts from now on: weekdays, the policy's hours in the tenant's zone, as many per slot as there are video operators. */
export async function availableSlots(deps: IdentityDeps, tenant: Tenant): Promise<number[]> {
  const { video } = proofingPolicy(tenant);
  const now = deps.clock.now();
  const capacity = Math.max(1, (await deps.repos.proofing.operators(tenant.id)).filter((o) => o.role === "video_operator").length);
  const booked = new Map<number, number>();
  for (const c of await deps.repos.proofing.queue(tenant.id, { states: ["pending"], method: "video", limit: 10_000 })) {
    if (c.booked_at !== null) booked.set(c.booked_at, (booked.get(c.booked_at) ?? 0) + 1);
  }
  const slots: number[] = [];
  for (let d = 0; d <= video.daysAhead; d++) {
    const day = wallClock(now + d * DAY, tenant.policy.timeZone);
    if (day.weekday > 5) continue;
    for (let minutes = video.fromHour * 60; minutes + video.slotMinutes <= video.toHour * 60; minutes += video.slotMinutes) {
      const start = zonedInstant({ year: day.year, month: day.month, day: day.day, hour: Math.floor(minutes / 60), minute: minutes % 60 }, tenant.policy.timeZone);
      if (start > now + 30 * MINUTE && (booked.get(start) ?? 0) < capacity) slots.push(start);
    }
  }
  return slots;
}

/** The applicant books (or moves) their session to one of the free slots. */
export async function bookVideo(deps: IdentityDeps, tenant: Tenant, account: Account, slot: number, by: Actor): Promise<number> {
  const proofing = await openCaseOf(deps, tenant, account, "video");
  return deps.repos.atomically(async (repos) => {
    await repos.lock(`video-slots:${tenant.id}`);
    if (!(await availableSlots({ ...deps, repos }, tenant)).includes(slot)) throw new TesseraError("proofing.slot_unavailable", "that time is not free: choose another", { status: 409 });
    await repos.proofing.transition(tenant.id, proofing.id, ["pending"], { booked_at: slot, updated_at: deps.clock.now() });
    await recordAuditBy(repos, deps.clock, by, { tenantId: tenant.id, type: "proofing.video_booked", subject: account.id, data: { case: proofing.id, at: slot } });
    return slot;
  });
}

function requireVideoOperator(operator: Operator, proofing: ProofingCase, now: number) {
  if (proofing.method !== "video") throw new TesseraError("proofing.wrong_method", "this case is not a video identification", { status: 409 });
  if (!hasRole(operator, "video_operator")) throw new TesseraError("proofing.not_video_operator", "only a video operator holds video sessions", { status: 403 });
  if (proofing.state !== "pending") throw new TesseraError("proofing.decided", "this case has been decided already", { status: 409 });
  if (proofing.bookedAt === null || now < proofing.bookedAt - EARLY_MS) throw new TesseraError("proofing.not_booked", "the session has not been booked for now", { status: 409 });
}

/** During the session: a code by SMS to the applicant's verified mobile, which they read aloud. */
export async function sendVideoCode(deps: IdentityDeps, tenant: Tenant, operator: Operator, proofing: ProofingCase, by: Actor): Promise<void> {
  requireVideoOperator(operator, proofing, deps.clock.now());
  const account = (await findAccount(deps, tenant, proofing.accountId))!;
  if (!account.phone || account.phoneVerifiedAt === null) throw new TesseraError("proofing.no_mobile", "the applicant has no verified mobile number", { status: 409 });
  const sent = await issueOtp(deps, tenant, { purpose: videoPurpose(proofing.id), channel: "sms", destination: account.phone, locale: account.locale ?? tenant.defaultLocale });
  if (!sent.ok) throw new TesseraError(sent.reason, "a code cannot be sent now", { status: 429, params: sent.params });
  await deps.repos.atomically(async (repos) => {
    await repos.proofing.transition(tenant.id, proofing.id, ["pending"], { data: JSON.stringify({ ...proofing.data, video: { codeSentAt: deps.clock.now() } }), updated_at: deps.clock.now() });
    await recordAuditBy(repos, deps.clock, by, { tenantId: tenant.id, type: "proofing.video_code_sent", subject: proofing.accountId, data: { case: proofing.id } });
  });
}

/** The operator types the code the applicant read aloud: it must be the one sent, within its time and tries. */
export async function confirmVideoCode(deps: IdentityDeps, tenant: Tenant, operator: Operator, proofing: ProofingCase, code: string, by: Actor): Promise<void> {
  requireVideoOperator(operator, proofing, deps.clock.now());
  const verdict = await verifyOtp(deps, tenant, videoPurpose(proofing.id), code);
  if (!verdict.ok) throw new ValidationError("proofing.code", [{ field: "code", code: verdict.reason, message: "the code read aloud is not the one sent", params: verdict.params }]);
  await deps.repos.atomically(async (repos) => {
    await repos.proofing.transition(tenant.id, proofing.id, ["pending"], {
      data: JSON.stringify({ ...proofing.data, video: { ...proofing.data.video, codeConfirmedAt: deps.clock.now() } }),
      updated_at: deps.clock.now(),
    });
    await recordAuditBy(repos, deps.clock, by, { tenantId: tenant.id, type: "proofing.video_code_confirmed", subject: proofing.accountId, data: { case: proofing.id } });
  });
}

export const VideoDecision = z.discriminatedUnion("decision", [
  z.object({ decision: z.literal("approve"), checks: z.array(z.enum(VIDEO_CHECKS)).default([]) }),
  z.object({ decision: z.literal("reject"), reason: z.enum(REJECTION_REASONS), note: z.string().trim().max(1000).optional() }),
]);
export type VideoDecision = z.infer<typeof VideoDecision>;

export interface VideoFile {
  kind: Extract<EvidenceKind, "video_recording" | "video_snapshot">;
  mediaType: string;
  content: Uint8Array;
}

/**
 * The operator's decision. Approving needs the code confirmed, every step of the script done and
 * the session's evidence: at least one recording or snapshot (kept with its SHA-256).
 */
export async function decideVideo(
  deps: IdentityDeps,
  tenant: Tenant,
  operator: Operator,
  proofing: ProofingCase,
  input: VideoDecision,
  files: VideoFile[],
  by: Decider,
  links: { accountUrl: string },
): Promise<ProofingCase["state"]> {
  requireVideoOperator(operator, proofing, deps.clock.now());
  const max = proofingPolicy(tenant).maxUploadBytes;
  for (const f of files) if (f.content.length > max) throw new TesseraError("proofing.upload_too_large", `${f.kind}: larger than ${max} bytes`, { status: 413, params: { field: f.kind, max } });
  if (input.decision === "approve") {
    const problems: FieldIssue[] = [];
    if (!proofing.data.video?.codeConfirmedAt) problems.push({ field: "code", code: "proofing.code_not_confirmed", message: "the code sent by SMS has not been confirmed" });
    for (const check of VIDEO_CHECKS) if (!input.checks.includes(check)) problems.push({ field: "checks", code: "proofing.check_missing", message: `${check} not ticked` });
    const existing = await deps.repos.proofing.evidenceOf(tenant.id, proofing.id);
    if (files.length === 0 && !existing.some((e) => e.kind.startsWith("video_"))) problems.push({ field: "evidence", code: "proofing.upload_missing", message: "a recording or snapshot of the session" });
    if (problems.length > 0) throw new ValidationError("proofing.invalid", problems);
  }
  return deps.repos.atomically(async (repos) => {
    const tx = { ...deps, repos };
    for (const f of files) await addEvidence(tx, tenant, proofing.id, f, by);
    if (input.decision === "reject") {
      await rejectCase(tx, tenant, proofing, { reason: input.reason, note: input.note }, by, links);
      return "rejected" as const;
    }
    return approveCase(tx, tenant, proofing, { checks: [...input.checks] }, by, links);
  });
}
