import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ActivationData } from "../../flows/activation/data.ts";
import { activationOfLink } from "../../flows/activation/open.ts";
import { rebindFlow } from "../../flows/engine.ts";
import type { Flow } from "../../flows/flow.ts";
import { isMessageKey } from "../../shared/i18n/translate.ts";
import { TesseraError } from "../../shared/errors.ts";
import { browserFlows, type Form, html } from "../browser-flows.ts";
import type { FlowRegistry } from "../flows.ts";
import { pageContext } from "../page-context.ts";
import { identityDeps, type WebServices } from "../services.ts";
import { activationDonePage, activationStepPage } from "../views/activation.ts";
import type { FormState } from "../views/form.ts";

/**
 * The activation's pages (seed 002's six steps), `/t/<tenant>/activate/<flow>`. The e-mailed link
 * carries the token: opening it (in any browser, on any node) binds the flow to this browser,
 * sends the first code the first time, and leads to the step the activation is at. The token
 * leaves the address bar at once (a redirect), unless no code could go out (the page says why
 * at the link's address; pages send a Referer to their own origin only).
 */
export function activationRoutes(services: WebServices, registry: FlowRegistry) {
  const flows = browserFlows(services, registry, "activation", "activate");

  async function page(request: FastifyRequest, reply: FastifyReply, flow: Flow<ActivationData>, state: FormState, notice?: string) {
    if (flow.state !== "active") return html(reply, 200, activationDonePage(pageContext(request), request.tenant!, flow));
    const fields = await flows.definition(request).steps[flow.step!]!.fields({ tenant: request.tenant!, flow, locale: request.locale, t: request.t, deps: identityDeps(services) });
    return html(reply, state.errors.length ? 400 : 200, activationStepPage(pageContext(request), request.tenant!, { flow, fields, state, notice }));
  }

  const noticeOf = (request: FastifyRequest, flow: Flow<ActivationData>, code: unknown) =>
    code === "activation.code_sent" ? request.t("activation.code_sent", { to: flow.data.sentTo ?? "" }) : undefined;

  return async (app: FastifyInstance) => {
    app.get<{ Params: { id: string }; Querystring: { token?: string; notice?: string } }>("/:id", async (request, reply) => {
      const tenant = request.tenant!;
      flows.definition(request);
      if (request.query.token !== undefined) {
        const linked = await activationOfLink(identityDeps(services), tenant, request.params.id, request.query.token);
        const flow = await rebindFlow(services, linked, "browser");
        flows.bind(reply, request, flow);
        let query = "";
        if (flow.state === "active" && flow.step === "code" && !flow.data.opened) {
          const result = await flows.submit(request, flow.id, "code", { send: "on" }, { csrfToken: flow.csrfToken });
          // No code could go out (the send limits): the page says why, and offers to send one.
          if (result.outcome.type === "reject") return page(request, reply, result.flow, flows.formState(request, result.outcome.errors));
          query = "?notice=activation.code_sent";
        }
        return reply.redirect(`${flows.base(request)}/${flow.id}${query}`, 303);
      }
      const flow = await flows.load(request, request.params.id);
      if (!flows.boundHere(request, flow)) throw new TesseraError("activation.open_link", "open the link from the e-mail in this browser", { status: 403 });
      return page(request, reply, flow, flows.formState(request), noticeOf(request, flow, request.query.notice));
    });

    app.post<{ Params: { id: string } }>("/:id", async (request, reply) => {
      const form = (request.body ?? {}) as Form;
      const flow = await flows.load(request, request.params.id);
      if (!flows.boundHere(request, flow)) throw new TesseraError("activation.open_link", "open the link from the e-mail in this browser", { status: 403 });
      const { csrf_token, step, ...input } = form;
      const result = await flows.submit(request, flow.id, String(step ?? ""), input, { csrfToken: typeof csrf_token === "string" ? csrf_token : undefined });
      const outcome = result.outcome;
      if (outcome.type === "reject") return page(request, reply, result.flow, flows.formState(request, outcome.errors, form));
      if (outcome.type === "finish") flows.unbind(reply, request);
      const notice = "notice" in outcome && outcome.notice && isMessageKey(outcome.notice.code) ? `?notice=${encodeURIComponent(outcome.notice.code)}` : "";
      if (outcome.type === "finish") return page(request, reply, result.flow, flows.formState(request));
      return reply.redirect(`${flows.base(request)}/${flow.id}${notice}`, 303);
    });
  };
}
