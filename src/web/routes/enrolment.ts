import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { createFlow, loadFlow, submitStep } from "../../flows/engine.ts";
import type { EnrolmentData } from "../../flows/enrolment/data.ts";
import { resumeEnrolment } from "../../flows/enrolment/resume.ts";
import { chooseMethod } from "../../flows/enrolment/steps/choose-method.ts";
import type { Flow, FlowDefinition, StepOutcome } from "../../flows/flow.ts";
import { findAccount } from "../../identity/accounts.ts";
import { type FieldIssue, TesseraError } from "../../shared/errors.ts";
import { isMessageKey, type MessageKey } from "../../shared/i18n/translate.ts";
import type { FlowRegistry } from "../flows.ts";
import { pageContext } from "../page-context.ts";
import { actorOf, identityDeps, type WebServices } from "../services.ts";
import { enrolmentDonePage, enrolmentResumePage, enrolmentStartPage, enrolmentStepPage } from "../views/enrolment.ts";
import type { FormState } from "../views/form.ts";

/** Binds a browser to its flow: the flow's CSRF token, HttpOnly, for the enrolment pages only. */
const FLOW_COOKIE = "tessera_enrol";
/** Notices a page may be asked to show after a redirect (anything else in ?notice= is ignored). */
const NOTICES: MessageKey[] = ["enrol.email_sent", "enrol.sms_sent", "enrol.email_confirmed", "enrol.password_change.policy", "enrol.password_change.personal_data"];
const SECRET_FIELDS = new Set(["password", "customer_password", "csrf_token", "captcha", "answer", "code"]);

type Form = Record<string, string | string[] | undefined>;

/**
 * The identity request as HTML pages (seed 000), driving the same flow and steps as the JSON API.
 * Every page works without JavaScript (but for the captcha, which is computed by the browser);
 * each form post is answered with a redirect (so reloading never resubmits) or, on an error, with
 * the page again, its errors listed and its fields filled in.
 */
export function enrolmentRoutes(services: WebServices, registry: FlowRegistry) {
  const https = () => services.publicUrl.current.startsWith("https://");
  const definitionFor = (request: FastifyRequest): FlowDefinition<EnrolmentData> => {
    const definition = registry.forTenant(request.tenant!, "enrolment");
    if (!definition) throw new TesseraError("flow.unknown_kind", "no enrolment here", { status: 404 });
    return definition;
  };
  const base = (request: FastifyRequest) => `/t/${request.tenant!.id}/enrol`;
  const tenantUrl = (request: FastifyRequest) => `${services.publicUrl.current}/t/${request.tenant!.id}`;
  const bind = (reply: FastifyReply, request: FastifyRequest, flow: Flow<EnrolmentData>) =>
    reply.setCookie(FLOW_COOKIE, flow.csrfToken, {
      path: base(request),
      httpOnly: true,
      sameSite: "lax",
      secure: https(),
      maxAge: 31 * 86_400,
    });
  const boundHere = (request: FastifyRequest, flow: Flow<EnrolmentData>) => request.cookies[FLOW_COOKIE] === flow.csrfToken;
  const html = (reply: FastifyReply, status: number, page: { value: string }) => reply.code(status).type("text/html; charset=utf-8").send(page.value);
  const formState = (request: FastifyRequest, errors: FieldIssue[] = [], form: Form = {}): FormState => ({
    errors,
    t: request.t,
    values: Object.fromEntries(
      Object.entries(form).filter(([k, v]) => !SECRET_FIELDS.has(k) && typeof v === "string") as [string, string][],
    ),
  });

  async function renderStep(request: FastifyRequest, reply: FastifyReply, flow: Flow<EnrolmentData>, step: string, state: FormState, notice?: string) {
    const definition = definitionFor(request);
    const deps = identityDeps(services);
    const fields = await definition.steps[step]!.fields({ tenant: request.tenant!, flow, locale: request.locale, t: request.t, deps });
    const account = flow.accountId ? await findAccount(deps, request.tenant!, flow.accountId) : undefined;
    const page = enrolmentStepPage(pageContext(request), { tenant: request.tenant!, flow, step, fields, state, account, notice });
    return html(reply, state.errors.length ? 400 : 200, page);
  }

  async function submit(request: FastifyRequest, flowId: string, step: string, input: Form, extra: { csrfToken?: string; viaEmailLink?: boolean } = {}) {
    return submitStep(services, request.tenant!, definitionFor(request), flowId, {
      step,
      input,
      channel: "browser",
      ...extra,
      by: actorOf(request),
      locale: request.locale,
      tenantUrl: tenantUrl(request),
    });
  }

  function afterStep(request: FastifyRequest, reply: FastifyReply, flow: Flow<EnrolmentData>, outcome: StepOutcome<EnrolmentData>) {
    const notice = "notice" in outcome && outcome.notice ? `?notice=${encodeURIComponent(outcome.notice.code)}` : "";
    return reply.redirect(`${base(request)}/${flow.id}${notice}`, 303);
  }

  return async (app: FastifyInstance) => {
    app.get("/", async (request, reply) => {
      definitionFor(request);
      const empty = { data: {} } as Flow<EnrolmentData>;
      const fields = await chooseMethod.fields({ tenant: request.tenant!, flow: empty, locale: request.locale, t: request.t, deps: identityDeps(services) });
      return html(reply, 200, enrolmentStartPage(pageContext(request), request.tenant!, fields, formState(request)));
    });

    app.post("/", async (request, reply) => {
      const definition = definitionFor(request);
      const form = (request.body ?? {}) as Form;
      const flow = await createFlow(services, request.tenant!, definition, "browser", {});
      bind(reply, request, flow);
      const result = await submit(request, flow.id, "method", form, { csrfToken: flow.csrfToken });
      if (result.outcome.type === "reject") return renderStep(request, reply, result.flow, "method", formState(request, result.outcome.errors, form));
      return afterStep(request, reply, result.flow, result.outcome);
    });

    app.get("/resume", async (request, reply) => {
      definitionFor(request);
      return html(reply, 200, enrolmentResumePage(pageContext(request), request.tenant!, formState(request)));
    });

    app.post("/resume", async (request, reply) => {
      definitionFor(request);
      const form = (request.body ?? {}) as Form;
      try {
        const flow = await resumeEnrolment(
          services,
          request.tenant!,
          { email: String(form.email ?? ""), password: String(form.password ?? "") },
          { ip: request.ip, channel: "browser" },
        );
        // Bound even once submitted: this browser may now follow the request it has signed in to.
        bind(reply, request, flow);
        return reply.redirect(`${base(request)}/${flow.id}`, 303);
      } catch (err) {
        if (!(err instanceof TesseraError) || err.status >= 500) throw err;
        const issue = { field: "password", code: err.code, message: err.message, params: err.params };
        return html(reply, err.status, enrolmentResumePage(pageContext(request), request.tenant!, formState(request, [issue], form)));
      }
    });

    app.get<{ Params: { id: string }; Querystring: { step?: string; notice?: string } }>("/:id", async (request, reply) => {
      const definition = definitionFor(request);
      const flow = await loadFlow<EnrolmentData>(services, request.tenant!, definition.kind, request.params.id);
      if (!boundHere(request, flow)) {
        return html(reply, 200, enrolmentResumePage(pageContext(request), request.tenant!, formState(request), request.t("enrol.elsewhere")));
      }
      if (flow.state !== "active" || flow.step === null) {
        const result = definition.result!(flow, { tenant: request.tenant!, t: request.t });
        const account = flow.accountId ? await findAccount(identityDeps(services), request.tenant!, flow.accountId) : undefined;
        return html(reply, 200, enrolmentDonePage(pageContext(request), { request: result.request!, nextSteps: result.next_steps!, email: account?.email ?? null }));
      }
      // Going back to a step that may be taken again from here (a wrong mobile number, a typo).
      const wanted = request.query.step;
      const step = wanted && definition.steps[wanted]?.reachableFrom?.includes(flow.step) ? wanted : flow.step;
      const account = flow.accountId ? await findAccount(identityDeps(services), request.tenant!, flow.accountId) : undefined;
      const noticeCode = NOTICES.find((n) => n === request.query.notice);
      const notice = noticeCode ? request.t(noticeCode, { email: account?.email ?? "", mobile: account?.phone ?? "" }) : undefined;
      return renderStep(request, reply, flow, step, formState(request), notice);
    });

    app.post<{ Params: { id: string } }>("/:id", async (request, reply) => {
      const definition = definitionFor(request);
      const form = (request.body ?? {}) as Form;
      const flow = await loadFlow<EnrolmentData>(services, request.tenant!, definition.kind, request.params.id);
      if (!boundHere(request, flow)) throw new TesseraError("flow.csrf", "this browser is not bound to the flow", { status: 403 });
      const { csrf_token, step, ...input } = form;
      const result = await submit(request, flow.id, String(step ?? ""), input, { csrfToken: typeof csrf_token === "string" ? csrf_token : undefined });
      if (result.outcome.type === "reject") {
        return renderStep(request, reply, result.flow, String(step), formState(request, result.outcome.errors, form));
      }
      return afterStep(request, reply, result.flow, result.outcome);
    });

    /** The link in the confirmation e-mail: works from any browser, since the code proves the mailbox. */
    app.get<{ Params: { id: string }; Querystring: { code?: string } }>("/:id/confirm-email", async (request, reply) => {
      const definition = definitionFor(request);
      const flow = await loadFlow<EnrolmentData>(services, request.tenant!, definition.kind, request.params.id);
      const here = boundHere(request, flow);
      let errors: FieldIssue[] = [];
      if (flow.step === "email_confirmation") {
        const result = await submit(request, flow.id, "email_confirmation", { code: request.query.code ?? "" }, { viaEmailLink: true });
        if (result.outcome.type === "reject") errors = result.outcome.errors;
      }
      if (here) {
        if (errors.length > 0) return renderStep(request, reply, flow, "email_confirmation", formState(request, errors));
        return reply.redirect(`${base(request)}/${flow.id}?notice=enrol.email_confirmed`, 303);
      }
      const message = errors.length > 0 ? errors.map((e) => (isMessageKey(e.code) ? request.t(e.code, e.params) : e.message)).join(" ") : `${request.t("enrol.email_confirmed")} ${request.t("enrol.elsewhere")}`;
      return html(reply, errors.length > 0 ? 400 : 200, enrolmentResumePage(pageContext(request), request.tenant!, formState(request), message));
    });
  };
}
