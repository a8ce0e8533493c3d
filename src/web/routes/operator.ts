import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { type Account, findAccount } from "../../identity/accounts.ts";
import { hasRole, type Operator, operatorOf } from "../../identity/operators.ts";
import { caseOf, findCase, OPEN_STATES, type ProofingCase, REJECTION_REASONS } from "../../flows/proofing/cases.ts";
import { confirmCase, rejectCase } from "../../flows/proofing/decisions.ts";
import { readEvidence } from "../../flows/proofing/evidence.ts";
import { decideInPerson, InPersonDecision } from "../../flows/proofing/in-person.ts";
import { confirmVideoCode, decideVideo, sendVideoCode, VideoDecision, type VideoFile } from "../../flows/proofing/video.ts";
import { type FieldIssue, TesseraError, ValidationError } from "../../shared/errors.ts";
import type { ProofingCaseRow } from "../../store/repos/proofing.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { html } from "../browser-flows.ts";
import { many, readMultipart } from "../multipart.ts";
import { pageContext } from "../page-context.ts";
import { needsLevel } from "../plugins/session.ts";
import { actorOf, identityDeps, tenantUrl, type WebServices } from "../services.ts";
import { parseBody } from "../validate.ts";
import { casePage, dashboardPage, type QueueRow } from "../views/operator.ts";

const Reject = z.object({ reason: z.enum(REJECTION_REASONS), note: z.string().trim().max(1000).optional() }).strict();
const Code = z.object({ code: z.string().trim().min(1).max(12) }).strict();
const NOTICES = ["operator.notice.approved", "operator.notice.awaiting_confirmation", "operator.notice.rejected", "operator.notice.code_sent", "operator.notice.code_confirmed"] as const;

/** Which cases an operator may see: a registration officer their point's, a video operator the video ones, a supervisor all. */
function visible(operator: Operator, c: ProofingCase): boolean {
  return hasRole(operator, "supervisor") || (c.method === "in_person" && hasRole(operator, "registration_officer", c.point)) || (c.method === "video" && hasRole(operator, "video_operator"));
}

/**
 * The operator console (seed 000's registration officers and video operators, and their
 * supervisors), `/t/<tenant>/operator`: signed in at level 2 with a staff role. Queues by point
 * and method, a search by codice fiscale or request number, a case with the applicant's declared
 * data, its evidence (each download logged) and the forms of what the operator may do there.
 */
export function operatorRoutes(services: WebServices) {
  const deps = identityDeps(services);
  const base = (request: FastifyRequest) => `/t/${request.tenant!.id}/operator`;
  const links = (request: FastifyRequest) => ({ accountUrl: `${tenantUrl(services, request.tenant!)}/account` });

  async function operatorFor(request: FastifyRequest): Promise<Operator> {
    const operator = await operatorOf(deps, request.tenant!, request.session!.accountId);
    if (!operator) throw new TesseraError("operator.required", "this page is for operators", { status: 403 });
    return operator;
  }
  const decider = (request: FastifyRequest) => ({ ...actorOf(request), actor: `operator:${request.session!.accountId}`, accountId: request.session!.accountId });

  async function rows(tenant: Tenant, list: ProofingCaseRow[]): Promise<QueueRow[]> {
    const out: QueueRow[] = [];
    for (const row of list) {
      const account = await findAccount(deps, tenant, row.account_id);
      if (account) out.push({ proofing: caseOf(row), account });
    }
    return out;
  }

  async function caseFor(request: FastifyRequest<{ Params: { id: string } }>, operator: Operator): Promise<{ proofing: ProofingCase; account: Account }> {
    const proofing = await findCase(deps, request.tenant!, request.params.id);
    if (!visible(operator, proofing)) throw new TesseraError("proofing.other_point", "this case is not one of yours", { status: 403 });
    return { proofing, account: (await findAccount(deps, request.tenant!, proofing.accountId))! };
  }

  async function showCase(request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, errors: FieldIssue[] = [], values: Record<string, string> = {}, notice?: string) {
    const operator = await operatorFor(request);
    const { proofing, account } = await caseFor(request, operator);
    const tenant = request.tenant!;
    const decidedBy = proofing.decidedBy ? ((await findAccount(deps, tenant, proofing.decidedBy))?.identifier ?? null) : null;
    const pending = proofing.state === "pending";
    const page = casePage(
      pageContext(request),
      tenant,
      {
        operator,
        proofing,
        account,
        evidence: await deps.repos.proofing.evidenceOf(tenant.id, proofing.id),
        can: {
          inPerson: pending && proofing.method === "in_person" && hasRole(operator, "registration_officer", proofing.point),
          video: pending && proofing.method === "video" && hasRole(operator, "video_operator"),
          confirm: proofing.state === "awaiting_confirmation" && hasRole(operator, "supervisor") && proofing.decidedBy !== operator.accountId,
          reject: OPEN_STATES.includes(proofing.state) && hasRole(operator, "supervisor"),
        },
        decidedBy,
      },
      { errors, values, t: request.t },
      notice,
    );
    return html(reply, errors.length ? 400 : 200, page);
  }

  /** Runs an operator's action; a refusal shows on the case page, in words; a success goes back to it with a notice. */
  async function act(request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, work: (operator: Operator, proofing: ProofingCase) => Promise<(typeof NOTICES)[number]>, values: Record<string, string> = {}) {
    const operator = await operatorFor(request);
    const { proofing } = await caseFor(request, operator);
    let notice: (typeof NOTICES)[number];
    try {
      notice = await work(operator, proofing);
    } catch (error) {
      if (!(error instanceof TesseraError) || error.status >= 500 || error.status === 403) throw error;
      const issues = error instanceof ValidationError ? error.issues : [{ field: "case", code: error.code, message: error.message, params: error.params }];
      return showCase(request, reply, issues, values);
    }
    return reply.redirect(`${base(request)}/cases/${proofing.id}?notice=${notice}`, 303);
  }

  const stateNotice = (state: ProofingCase["state"]) =>
    state === "approved" ? "operator.notice.approved" : state === "awaiting_confirmation" ? "operator.notice.awaiting_confirmation" : "operator.notice.rejected";

  return async (app: FastifyInstance) => {
    app.addHook("preHandler", needsLevel(2));

    app.get<{ Querystring: { q?: string } }>("/", async (request, reply) => {
      const operator = await operatorFor(request);
      const tenant = request.tenant!;
      const queues: { title: string; rows: QueueRow[] }[] = [];
      const t = request.t;
      for (const grant of operator.roles) {
        if (grant.role === "registration_officer") {
          const point = tenant.policy.enrolment?.points.find((p) => p.id === grant.point);
          queues.push({ title: t("operator.queue.in_person", { point: point?.name ?? grant.point ?? "" }), rows: await rows(tenant, await deps.repos.proofing.queue(tenant.id, { states: ["pending"], method: "in_person", point: grant.point! })) });
        } else if (grant.role === "desk_officer") {
          // The professionals' desks have a console of their own (routes/desk.ts).
          continue;
        } else if (grant.role === "video_operator") {
          queues.push({ title: t("operator.queue.video"), rows: await rows(tenant, await deps.repos.proofing.queue(tenant.id, { states: ["pending"], method: "video" })) });
        } else {
          queues.push({ title: t("operator.queue.confirmation"), rows: await rows(tenant, await deps.repos.proofing.queue(tenant.id, { states: ["awaiting_confirmation"] })) });
          queues.push({ title: t("operator.queue.pending"), rows: await rows(tenant, await deps.repos.proofing.queue(tenant.id, { states: ["pending"] })) });
        }
      }
      const term = (request.query.q ?? "").trim().toUpperCase();
      let search: { term: string; rows: QueueRow[] } | undefined;
      if (term) {
        const found = /^[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]$/.test(term) ? await deps.repos.proofing.search(tenant.id, { fiscalCode: term }) : await deps.repos.proofing.search(tenant.id, { request: term });
        search = { term, rows: (await rows(tenant, found)).filter((r) => visible(operator, r.proofing)) };
      }
      return html(reply, 200, dashboardPage(pageContext(request), tenant, { operator, queues, ...(search ? { search } : {}) }));
    });

    app.get<{ Params: { id: string }; Querystring: { notice?: string } }>("/cases/:id", async (request, reply) => {
      const key = NOTICES.find((n) => n === request.query.notice);
      return showCase(request, reply, [], {}, key ? request.t(key) : undefined);
    });

    app.post<{ Params: { id: string } }>("/cases/:id/in-person", async (request, reply) => {
      const form = await readMultipart(request);
      const values = Object.fromEntries(Object.entries(form.fields).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : v]));
      return act(
        request,
        reply,
        async (operator, proofing) => {
          const input = parseBody(InPersonDecision, { ...values, checks: many(form.fields.checks) });
          const images = { ...(form.files.document_front ? { front: form.files.document_front } : {}), ...(form.files.document_back ? { back: form.files.document_back } : {}) };
          const clean = input.decision === "reject" ? { decision: "reject" as const, reason: input.reason, ...(input.note ? { note: input.note } : {}) } : input;
          return stateNotice(await decideInPerson(deps, request.tenant!, operator, proofing, clean, images, decider(request), links(request)));
        },
        values,
      );
    });

    app.post<{ Params: { id: string } }>("/cases/:id/video/code", async (request, reply) =>
      act(request, reply, async (operator, proofing) => {
        await sendVideoCode(deps, request.tenant!, operator, proofing, decider(request));
        return "operator.notice.code_sent";
      }),
    );

    app.post<{ Params: { id: string } }>("/cases/:id/video/confirm", async (request, reply) =>
      act(request, reply, async (operator, proofing) => {
        const { code } = parseBody(Code, request.body);
        await confirmVideoCode(deps, request.tenant!, operator, proofing, code, decider(request));
        return "operator.notice.code_confirmed";
      }),
    );

    app.post<{ Params: { id: string } }>("/cases/:id/video/decision", async (request, reply) => {
      const form = await readMultipart(request);
      const values = Object.fromEntries(Object.entries(form.fields).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : v]));
      return act(request, reply, async (operator, proofing) => {
        const input = parseBody(VideoDecision, { ...values, checks: many(form.fields.checks) });
        const files: VideoFile[] = (["video_recording", "video_snapshot"] as const).filter((k) => form.files[k]).map((kind) => ({ kind, mediaType: "application/octet-stream", content: form.files[kind]! }));
        const clean = input.decision === "reject" ? { decision: "reject" as const, reason: input.reason, ...(input.note ? { note: input.note } : {}) } : input;
        return stateNotice(await decideVideo(deps, request.tenant!, operator, proofing, clean, files, decider(request), links(request)));
      });
    });

    app.post<{ Params: { id: string } }>("/cases/:id/confirm", async (request, reply) =>
      act(request, reply, async (operator, proofing) => {
        if (!hasRole(operator, "supervisor")) throw new TesseraError("proofing.not_supervisor", "only a supervisor confirms", { status: 403 });
        await confirmCase(deps, request.tenant!, proofing, decider(request), links(request));
        return "operator.notice.approved";
      }),
    );

    app.post<{ Params: { id: string } }>("/cases/:id/reject", async (request, reply) =>
      act(request, reply, async (operator, proofing) => {
        if (!hasRole(operator, "supervisor")) throw new TesseraError("proofing.not_supervisor", "only a supervisor rejects from here", { status: 403 });
        const { reason, note } = parseBody(Reject, request.body);
        await rejectCase(deps, request.tenant!, proofing, { reason, note }, decider(request), links(request));
        return "operator.notice.rejected";
      }),
    );

    app.get<{ Params: { id: string; evidence: string } }>("/cases/:id/evidence/:evidence", async (request, reply) => {
      const operator = await operatorFor(request);
      const { proofing } = await caseFor(request, operator);
      const { info, content } = await readEvidence(deps, request.tenant!, proofing.id, request.params.evidence, decider(request));
      return reply.type(info.media_type).header("content-disposition", `attachment; filename="${info.kind}-${info.sha256.slice(0, 12)}"`).send(content);
    });
  };
}
