import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { endMembership } from "../../flows/professionals/certificates.ts";
import { authoriseMembership, Refusal, refuseMembership, resendActivation } from "../../flows/professionals/decisions.ts";
import { membershipOf } from "../../flows/professionals/memberships.ts";
import { type Account, findAccount } from "../../identity/accounts.ts";
import { representedBy } from "../../identity/organizations.ts";
import { type FieldIssue, TesseraError, ValidationError } from "../../shared/errors.ts";
import type { MessageKey } from "../../shared/i18n/translate.ts";
import { html } from "../browser-flows.ts";
import { pageContext } from "../page-context.ts";
import { needsLevel } from "../plugins/session.ts";
import { actorOf, pkiDeps, tenantUrl, type WebServices } from "../services.ts";
import { parseBody } from "../validate.ts";
import { consolePage, REPRESENTATIVE_REASONS } from "../views/professionals.ts";

const End = z.object({ reason: z.enum(REPRESENTATIVE_REASONS) }).strict();
const NOTICES = ["professionals.notice.authorised", "professionals.notice.refused", "professionals.notice.resent", "professionals.notice.ended"] as const satisfies readonly MessageKey[];

/**
 * The representatives' console, `/t/<tenant>/organisations`: a professional who represents one or
 * more organisations, signed in at level 2, decides on the requests to them and manages their
 * members. Every action names a membership; whether this account represents its organisation is
 * checked by the action itself (flows/professionals).
 */
export function organisationRoutes(services: WebServices) {
  const deps = pkiDeps(services);
  const base = (request: FastifyRequest) => `/t/${request.tenant!.id}/organisations`;
  const links = (request: FastifyRequest) => ({ tenantUrl: tenantUrl(services, request.tenant!) });
  const representative = async (request: FastifyRequest): Promise<Account> => (await findAccount(deps, request.tenant!, request.session!.accountId))!;

  async function page(request: FastifyRequest, reply: FastifyReply, errors: FieldIssue[] = [], notice?: string, status = errors.length ? 400 : 200) {
    const tenant = request.tenant!;
    const organizations = [];
    for (const organization of await representedBy(deps, tenant, request.session!.accountId)) {
      organizations.push({
        organization,
        requested: (await deps.repos.professionals.membershipsOf(tenant.id, organization.id, ["requested"])).map(membershipOf),
        members: (await deps.repos.professionals.membershipsOf(tenant.id, organization.id, ["authorised", "active"])).map(membershipOf),
      });
    }
    return html(reply, status, consolePage(pageContext(request), tenant, { organizations }, { errors, values: {}, t: request.t }, notice));
  }

  /** Runs a representative's action; a refusal (decided meanwhile, not theirs…) shows on the console in words. */
  async function act(request: FastifyRequest, reply: FastifyReply, work: (account: Account) => Promise<unknown>, notice: (typeof NOTICES)[number]) {
    try {
      await work(await representative(request));
    } catch (error) {
      if (!(error instanceof TesseraError) || error.status >= 500) throw error;
      const issues = error instanceof ValidationError ? error.issues : [{ field: "membership", code: error.code, message: error.message, params: error.params }];
      return page(request, reply, issues, undefined, error.status);
    }
    return reply.redirect(`${base(request)}?notice=${notice}`, 303);
  }

  return async (app: FastifyInstance) => {
    app.addHook("preHandler", needsLevel(2));

    app.get<{ Querystring: { notice?: string } }>("/", async (request, reply) => {
      const notice = NOTICES.find((n) => n === request.query.notice);
      return page(request, reply, [], notice ? request.t(notice) : undefined);
    });

    app.post<{ Params: { id: string } }>("/requests/:id/authorise", async (request, reply) =>
      act(request, reply, (account) => authoriseMembership(deps, request.tenant!, request.params.id, account, actorOf(request), links(request)), "professionals.notice.authorised"),
    );

    app.post<{ Params: { id: string } }>("/requests/:id/refuse", async (request, reply) =>
      act(request, reply, (account) => refuseMembership(deps, request.tenant!, request.params.id, account, parseBody(Refusal, request.body), actorOf(request)), "professionals.notice.refused"),
    );

    app.post<{ Params: { id: string } }>("/members/:id/resend", async (request, reply) =>
      act(request, reply, (account) => resendActivation(deps, request.tenant!, request.params.id, account, actorOf(request), links(request)), "professionals.notice.resent"),
    );

    app.post<{ Params: { id: string } }>("/members/:id/end", async (request, reply) =>
      act(request, reply, (account) => endMembership(deps, request.tenant!, request.params.id, parseBody(End, request.body).reason, { representative: account }, actorOf(request)), "professionals.notice.ended"),
    );
  };
}
