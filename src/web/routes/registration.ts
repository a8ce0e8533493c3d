import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { createFlow } from "../../flows/engine.ts";
import type { Flow, StepOutcome } from "../../flows/flow.ts";
import type { RegistrationData } from "../../flows/registration/data.ts";
import { chooseCitizenship } from "../../flows/registration/steps/choose-citizenship.ts";
import { findAccount } from "../../identity/accounts.ts";
import { type FieldIssue } from "../../shared/errors.ts";
import { isMessageKey, type MessageKey } from "../../shared/i18n/translate.ts";
import { browserFlows, type Form, html } from "../browser-flows.ts";
import type { FlowRegistry } from "../flows.ts";
import { pageContext } from "../page-context.ts";
import { identityDeps, type WebServices } from "../services.ts";
import type { FormState } from "../views/form.ts";
import { registrationDonePage, registrationPage } from "../views/registration.ts";

const NOTICES: MessageKey[] = ["enrol.email_sent", "enrol.email_confirmed"];

/**
 * "Registrati" as pages (seed 001): `/t/<tenant>/register`, then the flow's steps; the link in
 * the confirmation e-mail works from any browser (the code proves the mailbox). The first page
 * creates no flow: its form post does.
 */
export function registrationRoutes(services: WebServices, registry: FlowRegistry) {
  const flows = browserFlows(services, registry, "registration", "register");

  async function page(request: FastifyRequest, reply: FastifyReply, flow: Flow<RegistrationData> | undefined, state: FormState, notice?: string) {
    const definition = flows.definition(request);
    if (flow && flow.state !== "active") {
      return html(reply, 200, registrationDonePage(pageContext(request), request.tenant!, { codicePersona: flow.data.codicePersona ?? "" }));
    }
    const step = flow?.step ?? "citizenship";
    const fields = await definition.steps[step]!.fields({
      tenant: request.tenant!,
      flow: flow ?? ({ data: {} } as Flow<RegistrationData>),
      locale: request.locale,
      t: request.t,
      deps: identityDeps(services),
    });
    const action = flow ? `${flows.base(request)}/${flow.id}` : flows.base(request);
    const hidden: Record<string, string> = flow ? { csrf_token: flow.csrfToken, step } : {};
    return html(reply, state.errors.length ? 400 : 200, registrationPage(pageContext(request), request.tenant!, { step, action, hidden, fields, state, notice, flowId: flow?.id }));
  }

  async function after(request: FastifyRequest, reply: FastifyReply, flow: Flow<RegistrationData>, outcome: StepOutcome<RegistrationData>, form: Form) {
    if (outcome.type === "reject") return page(request, reply, flow, flows.formState(request, outcome.errors, form));
    flows.bind(reply, request, flow);
    const notice = "notice" in outcome && outcome.notice && NOTICES.includes(outcome.notice.code) ? `?notice=${encodeURIComponent(outcome.notice.code)}` : "";
    return reply.redirect(`${flows.base(request)}/${flow.id}${notice}`, 303);
  }

  return async (app: FastifyInstance) => {
    app.get("/", async (request, reply) => {
      flows.definition(request);
      const fields = await chooseCitizenship.fields({ tenant: request.tenant!, flow: { data: {} } as Flow<RegistrationData>, locale: request.locale, t: request.t, deps: identityDeps(services) });
      return html(reply, 200, registrationPage(pageContext(request), request.tenant!, { step: "citizenship", action: flows.base(request), hidden: {}, fields, state: flows.formState(request) }));
    });

    app.post("/", async (request, reply) => {
      const form = (request.body ?? {}) as Form;
      const flow = await createFlow(services, request.tenant!, flows.definition(request), "browser", {});
      const result = await flows.submit(request, flow.id, "citizenship", form, { csrfToken: flow.csrfToken });
      return after(request, reply, result.flow, result.outcome, form);
    });

    app.get<{ Params: { id: string }; Querystring: { notice?: string; step?: string } }>("/:id", async (request, reply) => {
      const flow = await flows.load(request, request.params.id);
      if (!flows.boundHere(request, flow)) return reply.redirect(flows.base(request), 303);
      const account = flow.accountId ? await findAccount(identityDeps(services), request.tenant!, flow.accountId) : undefined;
      const key = NOTICES.find((n) => n === request.query.notice);
      // Back to the citizenship question from the details (the one step that may be taken again).
      const back = request.query.step === "citizenship" && flow.step === "details" ? { ...flow, step: "citizenship" } : flow;
      return page(request, reply, back, flows.formState(request), key ? request.t(key, { email: account?.email ?? "" }) : undefined);
    });

    app.post<{ Params: { id: string } }>("/:id", async (request, reply) => {
      const form = (request.body ?? {}) as Form;
      const flow = await flows.load(request, request.params.id);
      if (!flows.boundHere(request, flow)) return reply.redirect(flows.base(request), 303);
      const { csrf_token, step, ...input } = form;
      const result = await flows.submit(request, flow.id, String(step ?? ""), input, { csrfToken: typeof csrf_token === "string" ? csrf_token : undefined });
      return after(request, reply, result.outcome.type === "reject" && step === "citizenship" ? { ...result.flow, step: "citizenship" } : result.flow, result.outcome, form);
    });

    /** The link in the confirmation e-mail. */
    app.get<{ Params: { id: string }; Querystring: { code?: string } }>("/:id/confirm-email", async (request, reply) => {
      const flow = await flows.load(request, request.params.id);
      let errors: FieldIssue[] = [];
      let current = flow;
      if (flow.step === "email_confirmation") {
        const result = await flows.submit(request, flow.id, "email_confirmation", { code: request.query.code ?? "" }, { viaEmailLink: true });
        if (result.outcome.type === "reject") errors = result.outcome.errors;
        current = result.flow;
      }
      if (errors.length > 0 || !flows.boundHere(request, flow)) {
        // Another browser: the account is confirmed all the same; this page says so (or what went wrong).
        if (current.state !== "active") return html(reply, 200, registrationDonePage(pageContext(request), request.tenant!, { codicePersona: current.data.codicePersona ?? "" }));
        const message = errors.map((e) => (isMessageKey(e.code) ? request.t(e.code, e.params) : e.message)).join(" ");
        return page(request, reply, undefined, flows.formState(request), message || undefined);
      }
      return reply.redirect(`${flows.base(request)}/${flow.id}`, 303);
    });
  };
}
