import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { createFlow, rebindFlow } from "../../flows/engine.ts";
import type { FieldSpec, Flow, StepOutcome } from "../../flows/flow.ts";
import type { RecoveryData } from "../../flows/recovery/data.ts";
import type { FieldIssue } from "../../shared/errors.ts";
import type { MessageKey } from "../../shared/i18n/translate.ts";
import { browserFlows, type Form, html } from "../browser-flows.ts";
import type { FlowRegistry } from "../flows.ts";
import { pageContext } from "../page-context.ts";
import { identityDeps, type WebServices } from "../services.ts";
import type { FormState } from "../views/form.ts";
import { flowForm, flowPage } from "../views/flow-page.ts";
import { html as tag } from "../views/html.ts";

const NOTICES: MessageKey[] = ["recovery.link_sent", "login.sms_sent", "login.email_sent"];

/**
 * A forgotten password, as pages: `/t/<tenant>/recover`, then the flow's steps. The link in the
 * recovery e-mail continues the flow in whichever browser opens it (it proves the mailbox).
 */
export function recoveryRoutes(services: WebServices, registry: FlowRegistry) {
  const flows = browserFlows(services, registry, "recovery", "recover");

  async function page(request: FastifyRequest, reply: FastifyReply, flow: Flow<RecoveryData> | undefined, state: FormState, notice?: string) {
    const { t } = request;
    const ctx = pageContext(request);
    const step = flow?.step ?? "identify";
    if (flow && flow.state !== "active") {
      return html(reply, 200, flowPage(ctx, {
        title: t("recovery.title"),
        notice: t("recovery.done"),
        state,
        content: tag`<p><a class="button primary" href="/t/${request.tenant!.id}/login">${t("login.submit")}</a></p>`,
      }));
    }
    const definition = flows.definition(request);
    const fields: FieldSpec[] = await definition.steps[step]!.fields({
      tenant: request.tenant!,
      flow: flow ?? ({ data: {} } as Flow<RecoveryData>),
      locale: request.locale,
      t,
      deps: identityDeps(services),
    });
    const action = flow ? `${flows.base(request)}/${flow.id}` : flows.base(request);
    const hidden: Record<string, string> = flow ? { csrf_token: flow.csrfToken, step } : {};
    const main = fields.filter((f) => f.name !== "resend");
    const resend = fields.some((f) => f.name === "resend") && flow
      ? tag`<form method="post" action="${action}" class="inline-form"><input type="hidden" name="csrf_token" value="${flow.csrfToken}"><input type="hidden" name="step" value="${step}"><input type="hidden" name="resend" value="on"><button type="submit" class="button link">${t("enrol.resend.mobile_confirmation")}</button></form>`
      : "";
    return html(reply, state.errors.length ? 400 : 200, flowPage(ctx, {
      title: t("recovery.title"),
      intro: t(`recovery.step.${step as "identify"}`),
      notice,
      state,
      scripts: ["/assets/enrolment.js"],
      ...(flow ? { flowId: flow.id } : {}),
      content: tag`${flowForm({ action, hidden, fields: main, submit: t("enrol.submit") }, state)}${resend}`,
    }));
  }

  async function after(request: FastifyRequest, reply: FastifyReply, flow: Flow<RecoveryData>, outcome: StepOutcome<RecoveryData>, form: Form) {
    if (outcome.type === "reject") return page(request, reply, flow, flows.formState(request, outcome.errors, form));
    if (outcome.type === "finish") {
      flows.unbind(reply, request);
      return reply.redirect(`/t/${request.tenant!.id}/login?notice=recovery.done`, 303);
    }
    flows.bind(reply, request, flow);
    return reply.redirect(`${flows.base(request)}/${flow.id}${outcome.notice ? `?notice=${encodeURIComponent(outcome.notice.code)}` : ""}`, 303);
  }

  return async (app: FastifyInstance) => {
    app.get("/", async (request, reply) => page(request, reply, undefined, flows.formState(request)));

    app.post("/", async (request, reply) => {
      const form = (request.body ?? {}) as Form;
      const flow = await createFlow(services, request.tenant!, flows.definition(request), "browser", {});
      const result = await flows.submit(request, flow.id, "identify", form, { csrfToken: flow.csrfToken });
      return after(request, reply, result.flow, result.outcome, form);
    });

    app.get<{ Params: { id: string }; Querystring: { notice?: string } }>("/:id", async (request, reply) => {
      const flow = await flows.load(request, request.params.id);
      if (!flows.boundHere(request, flow)) return reply.redirect(flows.base(request), 303);
      const key = NOTICES.find((n) => n === request.query.notice);
      return page(request, reply, flow, flows.formState(request), key ? request.t(key, { to: flow.data.sentTo ?? "" }) : undefined);
    });

    app.post<{ Params: { id: string } }>("/:id", async (request, reply) => {
      const form = (request.body ?? {}) as Form;
      const flow = await flows.load(request, request.params.id);
      if (!flows.boundHere(request, flow)) return reply.redirect(flows.base(request), 303);
      const { csrf_token, step, ...input } = form;
      const result = await flows.submit(request, flow.id, String(step ?? ""), input, { csrfToken: typeof csrf_token === "string" ? csrf_token : undefined });
      return after(request, reply, result.flow, result.outcome, form);
    });

    /** The link in the recovery e-mail: the flow goes on in the browser that opened it. */
    app.get<{ Params: { id: string }; Querystring: { code?: string } }>("/:id/link", async (request, reply) => {
      const flow = await flows.load(request, request.params.id);
      if (flow.step !== "email_link") return reply.redirect(flows.base(request), 303);
      const result = await flows.submit(request, flow.id, "email_link", { code: request.query.code ?? "" }, { viaEmailLink: true });
      if (result.outcome.type === "reject") {
        const errors: FieldIssue[] = result.outcome.errors;
        return page(request, reply, undefined, flows.formState(request, errors));
      }
      const rebound = await rebindFlow(services, result.flow, "browser");
      flows.bind(reply, request, rebound);
      return reply.redirect(`${flows.base(request)}/${flow.id}`, 303);
    });
  };
}
