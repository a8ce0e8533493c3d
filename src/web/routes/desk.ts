import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { requestFields } from "../../flows/membership-request/steps/details.ts";
import { checkRequest, DESK_CHECKS, membershipOf, requestMembership } from "../../flows/professionals/memberships.ts";
import { listOrganizations } from "../../identity/organizations.ts";
import { operatorOf } from "../../identity/operators.ts";
import { type FieldIssue, TesseraError, ValidationError } from "../../shared/errors.ts";
import { type Form, html } from "../browser-flows.ts";
import { many } from "../multipart.ts";
import { pageContext } from "../page-context.ts";
import { needsLevel } from "../plugins/session.ts";
import { actorOf, identityDeps, tenantUrl, type WebServices } from "../services.ts";
import { deskPage } from "../views/professionals.ts";

const DAY = 86_400_000;
const Checks = z.array(z.enum(DESK_CHECKS)).max(DESK_CHECKS.length);

/**
 * A corporate desk's console (seed 002: "con identificación presencial en un puesto corporativo"),
 * `/t/<tenant>/desk`: a desk officer, signed in at level 2, records the request of someone whose
 * DNI they checked face to face. What they recorded in the last week is listed below.
 */
export function deskRoutes(services: WebServices) {
  const deps = identityDeps(services);

  async function deskOf(request: FastifyRequest): Promise<string> {
    const operator = await operatorOf(deps, request.tenant!, request.session!.accountId);
    const desk = operator?.roles.find((r) => r.role === "desk_officer")?.point;
    if (!desk) throw new TesseraError("operator.required", "this page is for desk officers", { status: 403 });
    return desk;
  }

  async function page(request: FastifyRequest, reply: FastifyReply, errors: FieldIssue[] = [], values: Record<string, string> = {}, notice?: string) {
    const tenant = request.tenant!;
    const desk = await deskOf(request);
    const recorded = (await deps.repos.professionals.membershipsRecordedBy(tenant.id, request.session!.accountId, deps.clock.now() - 7 * DAY)).map(membershipOf);
    const organizations = new Map((await listOrganizations(deps, tenant)).map((o) => [o.id, o.name]));
    const fields = await requestFields(deps, tenant, request.t, values);
    return html(reply, errors.length ? 400 : 200, deskPage(pageContext(request), tenant, { desk, fields, checks: DESK_CHECKS, recorded, organizations }, { errors, values, t: request.t }, notice));
  }

  return async (app: FastifyInstance) => {
    app.addHook("preHandler", needsLevel(2));

    app.get<{ Querystring: { notice?: string } }>("/", async (request, reply) =>
      page(request, reply, [], {}, request.query.notice === "recorded" ? request.t("professionals.desk.recorded_notice") : undefined),
    );

    app.post("/requests", async (request, reply) => {
      const tenant = request.tenant!;
      const desk = await deskOf(request);
      const { checks, ...form } = (request.body ?? {}) as Form;
      const values = Object.fromEntries(Object.entries(form).filter(([, v]) => typeof v === "string")) as Record<string, string>;
      try {
        const seen = Checks.safeParse(many(checks));
        // Every check, each once: the same box ticked three times is one check.
        if (!seen.success || new Set(seen.data).size < DESK_CHECKS.length) {
          throw new ValidationError("membership.invalid", [{ field: "checks", code: "professionals.desk.checks_required", message: "every check must be done" }]);
        }
        const checked = await checkRequest(deps, tenant, values);
        await requestMembership(deps, tenant, checked, { channel: "desk", desk, officer: request.session!.accountId, checks: [...new Set(seen.data)] }, actorOf(request), { consoleUrl: `${tenantUrl(services, tenant)}/organisations` });
      } catch (error) {
        if (!(error instanceof TesseraError) || error.status >= 500 || error.status === 403) throw error;
        const issues = error instanceof ValidationError ? error.issues : [{ field: "organization", code: error.code, message: error.message, params: error.params }];
        return page(request, reply, issues, values);
      }
      return reply.redirect(`/t/${tenant.id}/desk?notice=recorded`, 303);
    });
  };
}
