import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { createFlow } from "../../flows/engine.ts";
import type { Flow } from "../../flows/flow.ts";
import type { MembershipRequestData } from "../../flows/membership-request/data.ts";
import { findOrganization } from "../../identity/organizations.ts";
import type { FieldIssue } from "../../shared/errors.ts";
import { TesseraError } from "../../shared/errors.ts";
import { isMessageKey } from "../../shared/i18n/translate.ts";
import { browserFlows, type Form, html } from "../browser-flows.ts";
import type { FlowRegistry } from "../flows.ts";
import { mtlsTicket } from "../mtls.ts";
import { pageContext } from "../page-context.ts";
import { identityDeps, type WebServices } from "../services.ts";
import { requestCardPage, requestDonePage, requestPage } from "../views/professionals.ts";
import type { FormState } from "../views/form.ts";

/**
 * A professional's request with their card (seed 002), `/t/<tenant>/request`: the form (a
 * membership_request flow), then the card at the mutual-TLS endpoint, which comes back here with
 * the request made or the card's refusal in words. Requests in person are the desks' (routes/desk.ts).
 */
export function membershipRequestRoutes(services: WebServices, registry: FlowRegistry) {
  const flows = browserFlows(services, registry, "membership_request", "request");

  async function firstPage(request: FastifyRequest, reply: FastifyReply, state: FormState, flow?: Flow<MembershipRequestData>) {
    const fields = await flows.definition(request).steps.details!.fields({ tenant: request.tenant!, flow: flow ?? ({ data: {} } as Flow<MembershipRequestData>), locale: request.locale, t: request.t, deps: identityDeps(services) });
    const action = flow ? `${flows.base(request)}/${flow.id}` : flows.base(request);
    const hidden: Record<string, string> = flow ? { csrf_token: flow.csrfToken, step: "details" } : {};
    return html(reply, state.errors.length ? 400 : 200, requestPage(pageContext(request), request.tenant!, { action, hidden, fields, state, cardAvailable: Boolean(services.mtlsUrl) }));
  }

  async function organizationName(request: FastifyRequest, flow: Flow<MembershipRequestData>): Promise<string> {
    if (flow.data.organization) return flow.data.organization;
    const id = flow.data.request?.organization;
    return id ? (await findOrganization(identityDeps(services), request.tenant!, id)).name : "";
  }

  /** An error code from the mutual-TLS endpoint's redirect, as the page shows it. */
  const errorsOf = (request: FastifyRequest, code: string | undefined): FieldIssue[] => (code && isMessageKey(code) ? [{ field: "card", code, message: code }] : []);

  return async (app: FastifyInstance) => {
    app.get<{ Querystring: { error?: string } }>("/", async (request, reply) => firstPage(request, reply, flows.formState(request, errorsOf(request, request.query.error))));

    app.post("/", async (request, reply) => {
      const form = (request.body ?? {}) as Form;
      const flow = await createFlow(services, request.tenant!, flows.definition(request), "browser", {});
      const result = await flows.submit(request, flow.id, "details", form, { csrfToken: flow.csrfToken });
      if (result.outcome.type === "reject") {
        await services.store.repos.flows.delete(flow.id);
        return firstPage(request, reply, flows.formState(request, result.outcome.errors, form));
      }
      flows.bind(reply, request, result.flow);
      return reply.redirect(`${flows.base(request)}/${flow.id}`, 303);
    });

    app.get<{ Params: { id: string }; Querystring: { error?: string } }>("/:id", async (request, reply) => {
      const flow = await flows.load(request, request.params.id);
      if (!flows.boundHere(request, flow)) return reply.redirect(flows.base(request), 303);
      if (flow.state !== "active") return html(reply, 200, requestDonePage(pageContext(request), await organizationName(request, flow)));
      const state = flows.formState(request, errorsOf(request, request.query.error));
      return html(reply, state.errors.length ? 422 : 200, requestCardPage(pageContext(request), request.tenant!, flow, await organizationName(request, flow), state));
    });

    /** Back from the mutual-TLS endpoint with the card accepted: the browser bound here, with the endpoint's answer, makes the request. */
    app.get<{ Params: { id: string }; Querystring: { answer?: string } }>("/:id/card-answer", async (request, reply) => {
      const flow = await flows.load(request, request.params.id);
      if (!flows.boundHere(request, flow) || flow.step !== "confirm") return reply.redirect(`${flows.base(request)}?error=professionals.ticket_invalid`, 303);
      let refused: string | undefined;
      try {
        const result = await flows.submit(request, flow.id, "confirm", { answer: request.query.answer ?? "" }, { csrfToken: flow.csrfToken });
        refused = result.outcome.type === "reject" ? result.outcome.errors[0]!.code : undefined;
      } catch (error) {
        // Already requested (told only now, to the card's holder), or the organisation is gone.
        if (!(error instanceof TesseraError) || error.status >= 500) throw error;
        refused = error.code;
      }
      return reply.redirect(`${flows.base(request)}/${flow.id}${refused ? `?error=${encodeURIComponent(refused)}` : ""}`, 303);
    });

    // The way to the mutual-TLS endpoint, with a ticket: the browser crosses to another origin there.
    app.get<{ Params: { id: string } }>("/:id/card", async (request, reply) => {
      if (!services.mtlsUrl) throw new TesseraError("professionals.card_unavailable", "card sign-in is not available on this server", { status: 404 });
      const flow = await flows.load(request, request.params.id);
      if (!flows.boundHere(request, flow)) return reply.redirect(flows.base(request), 303);
      const ticket = mtlsTicket(services, request.tenant!, "card", flow.id);
      return reply.redirect(`${services.mtlsUrl}/t/${request.tenant!.id}/request/card?ticket=${encodeURIComponent(ticket)}`, 303);
    });
  };
}
