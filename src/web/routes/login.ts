import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { startAtUpstream } from "../../federation/broker/broker.ts";
import { findUpstream, listUpstreams } from "../../federation/broker/upstreams.ts";
import { createFlow } from "../../flows/engine.ts";
import type { Flow, FlowOutput, StepOutcome } from "../../flows/flow.ts";
import type { LoginData } from "../../flows/login/data.ts";
import { maskContact } from "../../identity/identifiers.ts";
import { findAccount } from "../../identity/accounts.ts";
import { type Level, minimumSessionLevel } from "../../identity/levels.ts";
import { revokeSession } from "../../identity/sessions.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { mtlsTicket } from "../mtls.ts";
import { TesseraError } from "../../shared/errors.ts";
import { brokerContexts, isBroker, sendToUpstream } from "../broker-context.ts";
import { errorPage } from "../views/error-page.ts";
import { isMessageKey, type MessageKey } from "../../shared/i18n/translate.ts";
import { browserFlows, type Form, html, safeReturnTo } from "../browser-flows.ts";
import type { FlowRegistry } from "../flows.ts";
import { pageContext } from "../page-context.ts";
import type { OidcWeb } from "./oidc.ts";
import { actorOf, identityDeps, type WebServices } from "../services.ts";
import { clearSessionCookie, setSessionCookie } from "../session-cookie.ts";
import { loginPage, loginStepPage, type UpstreamButton } from "../views/login.ts";

const NOTICES: MessageKey[] = ["password_expired", "login.password_must_change", "login.sms_sent", "login.email_sent", "login.reauth", "recovery.done", "login.signed_out"];

/**
 * Sign-in pages: `/t/<tenant>/login?level=1|2&return_to=<path>` and the flow's further steps,
 * then the session cookie and back to where the user was going (a path of the same tenant only).
 * The first page creates no flow: the first form post does, so crawlers and prefetches write
 * nothing.
 */
export function loginRoutes(services: WebServices, registry: FlowRegistry, oidc: Pick<OidcWeb, "signOut" | "formTargetsOf">) {
  const flows = browserFlows(services, registry, "login", "login");
  const https = () => services.publicUrl.current.startsWith("https://");

  /** A sign-in for a relying party ends at its redirect URI: the page's forms may lead there. */
  async function allowReturn(request: FastifyRequest, reply: FastifyReply, returnTo: string | undefined) {
    reply.allowFormTargets(await oidc.formTargetsOf(request, returnTo));
  }
  const noticeOf = (request: FastifyRequest, code: unknown, params: Record<string, string> = {}) => {
    const key = NOTICES.find((n) => n === code);
    return key ? request.t(key, params) : undefined;
  };

  const brokerContext = brokerContexts(services);
  /** Whether the tenant's portal offers the professional card (seed 002), on a server with a mutual-TLS endpoint. */
  const cardLogin = (tenant: Tenant) => tenant.policy.professionals.enabled && Boolean(services.mtlsUrl);
  /** The tenant's upstream SPID/CIE identity providers, for its buttons (none for other tenants). */
  const upstreamsOf = async (request: FastifyRequest): Promise<UpstreamButton[]> =>
    isBroker(request.tenant!) ? (await listUpstreams(identityDeps(services), request.tenant!)).map((u) => ({ id: u.id, scheme: u.scheme, name: u.displayName })) : [];

  async function identifyFields(request: FastifyRequest) {
    const step = flows.definition(request).steps.identify!;
    return step.fields({ tenant: request.tenant!, flow: { data: {} } as Flow<LoginData>, locale: request.locale, t: request.t, deps: identityDeps(services) });
  }

  async function renderStep(request: FastifyRequest, reply: FastifyReply, flow: Flow<LoginData>, state = flows.formState(request), notice?: string) {
    const step = flow.step!;
    const deps = identityDeps(services);
    const fields = await flows.definition(request).steps[step]!.fields({ tenant: request.tenant!, flow, locale: request.locale, t: request.t, deps });
    const account = flow.accountId ? await findAccount(deps, request.tenant!, flow.accountId) : undefined;
    await allowReturn(request, reply, flow.data.returnTo);
    const upstreams = await upstreamsOf(request);
    return html(reply, state.errors.length ? 400 : 200, loginStepPage(pageContext(request), request.tenant!, { flow, step, fields, state, notice, account, upstreams }));
  }

  /** Signed in: the cookie, the browser's previous session ended (a new id at every sign-in), and on. */
  async function signedIn(request: FastifyRequest, reply: FastifyReply, flow: Flow<LoginData>, output: FlowOutput | undefined) {
    const session = output!.session!;
    const previous = request.session;
    if (previous && previous.id !== session.id) {
      const account = await findAccount(identityDeps(services), request.tenant!, previous.accountId);
      if (account) await revokeSession(identityDeps(services), request.tenant!, account, previous.id, actorOf(request));
    }
    // The session was made by this step: its expiry is known, nothing to read back.
    setSessionCookie(reply, request.tenant!, session.token, session, https());
    flows.unbind(reply, request);
    return reply.redirect(flow.data.returnTo ?? `/t/${request.tenant!.id}/account`, 303);
  }

  async function afterStep(request: FastifyRequest, reply: FastifyReply, flow: Flow<LoginData>, outcome: StepOutcome<LoginData>, form: Form) {
    if (outcome.type === "finish") return signedIn(request, reply, flow, outcome.output);
    if (outcome.type === "reject") {
      if (flow.step === "identify") {
        const state = flows.formState(request, outcome.errors, form);
        await allowReturn(request, reply, flow.data.returnTo);
        return html(reply, 400, loginPage(pageContext(request), request.tenant!, { fields: await identifyFields(request), state, level: flow.data.level, returnTo: flow.data.returnTo, upstreams: await upstreamsOf(request), card: cardLogin(request.tenant!) }));
      }
      return renderStep(request, reply, flow, flows.formState(request, outcome.errors, form));
    }
    flows.bind(reply, request, flow);
    const notice = outcome.notice ? `?notice=${encodeURIComponent(outcome.notice.code)}` : "";
    return reply.redirect(`${flows.base(request)}/${flow.id}${notice}`, 303);
  }

  return async (app: FastifyInstance) => {
    app.get<{ Querystring: { level?: string; return_to?: string; notice?: string; error?: string } }>("/login", async (request, reply) => {
      const level = request.query.level === "2" ? 2 : 1;
      const returnTo = safeReturnTo(request, request.query.return_to);
      await allowReturn(request, reply, returnTo);
      // A card the mutual-TLS endpoint did not accept comes back here with the reason's code.
      const error = request.query.error;
      const errors = error && isMessageKey(error) ? [{ field: "card", code: error, message: request.t(error) }] : [];
      return html(
        reply,
        errors.length ? 422 : 200,
        loginPage(pageContext(request), request.tenant!, {
          fields: await identifyFields(request),
          state: flows.formState(request, errors),
          level,
          returnTo,
          notice: noticeOf(request, request.query.notice),
          upstreams: await upstreamsOf(request),
          card: cardLogin(request.tenant!),
        }),
      );
    });

    app.post("/login", async (request, reply) => {
      const form = (request.body ?? {}) as Form;
      const data: LoginData = { level: form.level === "2" ? 2 : 1, ...(safeReturnTo(request, form.return_to) ? { returnTo: safeReturnTo(request, form.return_to)! } : {}) };
      const flow = await createFlow(services, request.tenant!, flows.definition(request), "browser", data);
      const result = await flows.submit(request, flow.id, "identify", form, { csrfToken: flow.csrfToken, flow });
      return afterStep(request, reply, result.flow, result.outcome, form);
    });

    app.get<{ Params: { id: string }; Querystring: { notice?: string } }>("/login/:id", async (request, reply) => {
      const flow = await flows.load(request, request.params.id);
      if (!flows.boundHere(request, flow) || flow.state !== "active") return reply.redirect(`/t/${request.tenant!.id}/login`, 303);
      const account = flow.accountId ? await findAccount(identityDeps(services), request.tenant!, flow.accountId) : undefined;
      const sentTo = request.query.notice === "login.email_sent" ? account?.email : account?.phone;
      const notice = noticeOf(request, request.query.notice, { to: sentTo ? maskContact(sentTo) : "" });
      return renderStep(request, reply, flow, flows.formState(request), notice);
    });

    app.post<{ Params: { id: string } }>("/login/:id", async (request, reply) => {
      const form = (request.body ?? {}) as Form;
      const flow = await flows.load(request, request.params.id);
      if (!flows.boundHere(request, flow)) return reply.redirect(`/t/${request.tenant!.id}/login`, 303);
      const { csrf_token, step, ...input } = form;
      const result = await flows.submit(request, flow.id, String(step ?? ""), input, { csrfToken: typeof csrf_token === "string" ? csrf_token : undefined });
      return afterStep(request, reply, result.flow, result.outcome, form);
    });

    /**
     * "Entra con SPID" / "Entra con CIE": a sign-in flow through the chosen upstream, bound to this
     * browser, at the level this tenant's sessions need; the browser goes to the upstream.
     */
    app.get<{ Params: { upstream: string }; Querystring: { return_to?: string; level?: string } }>("/login/upstream/:upstream", async (request, reply) => {
      const tenant = request.tenant!;
      const deps = identityDeps(services);
      const upstream = isBroker(tenant) ? await findUpstream(deps, tenant, request.params.upstream) : undefined;
      if (!upstream) throw new TesseraError("upstream.not_found", "no such identity provider here", { status: 404 });
      const level = Math.max(request.query.level === "2" ? 2 : 1, minimumSessionLevel(tenant)) as Level;
      const returnTo = safeReturnTo(request, request.query.return_to);
      const flow = await createFlow<LoginData>(services, tenant, flows.definition(request), "browser", { level, upstream: upstream.id, ...(returnTo ? { returnTo } : {}) }, { step: "upstream" });
      flows.bind(reply, request, flow);
      return sendToUpstream(request, reply, await startAtUpstream(deps, brokerContext(tenant), upstream, { flowId: flow.id, purpose: "login", level }));
    });

    /**
     * "Tarjeta profesional": a sign-in flow bound to this browser, at level 2 (the card and its PIN
     * are two factors), and on to the mutual-TLS endpoint with a ticket, where the card is asked for.
     */
    app.get<{ Querystring: { return_to?: string } }>("/login/card", async (request, reply) => {
      const tenant = request.tenant!;
      if (!cardLogin(tenant)) throw new TesseraError("login.card.not_offered", "signing in with a card is not offered here", { status: 404 });
      const returnTo = safeReturnTo(request, request.query.return_to);
      const flow = await createFlow<LoginData>(services, tenant, flows.definition(request), "browser", { level: 2, ...(returnTo ? { returnTo } : {}) }, { step: "card" });
      flows.bind(reply, request, flow);
      return reply.redirect(`${services.mtlsUrl}/t/${tenant.id}/login/card?ticket=${encodeURIComponent(mtlsTicket(services, tenant, "login", flow.id))}`, 303);
    });

    /** Back from the mutual-TLS endpoint with the card accepted: the flow bound here, given the endpoint's answer, opens the session. */
    app.get<{ Params: { id: string }; Querystring: { answer?: string } }>("/login/:id/card-answer", async (request, reply) => {
      const flow = await flows.load(request, request.params.id);
      if (!flows.boundHere(request, flow) || flow.step !== "card_signed") return reply.redirect(`/t/${request.tenant!.id}/login?error=login.card.ticket_invalid`, 303);
      const result = await flows.submit(request, flow.id, "card_signed", { answer: request.query.answer ?? "" }, { csrfToken: flow.csrfToken });
      if (result.outcome.type === "reject") return reply.redirect(`/t/${request.tenant!.id}/login?error=${encodeURIComponent(result.outcome.errors[0]!.code)}`, 303);
      return afterStep(request, reply, result.flow, result.outcome, {});
    });

    /** Back from the mutual-TLS endpoint with the card refused: the sign-in page, with the reason, still on its way to where it was going. */
    app.get<{ Params: { id: string }; Querystring: { error?: string } }>("/login/:id/card-refused", async (request, reply) => {
      const flow = await flows.load(request, request.params.id).catch(() => undefined);
      const returnTo = flow && flows.boundHere(request, flow) ? flow.data.returnTo : undefined;
      const error = request.query.error && isMessageKey(request.query.error) ? request.query.error : "login.card.ticket_invalid";
      return reply.redirect(`/t/${request.tenant!.id}/login?error=${encodeURIComponent(error)}${returnTo ? `&return_to=${encodeURIComponent(returnTo)}` : ""}`, 303);
    });

    /** SPID/CIE as the second factor (a step-up), or made it ("Attiva 2FA con SPID/CIE"), for the flow bound here. */
    app.get<{ Params: { id: string; upstream: string } }>("/login/:id/upstream/:upstream", async (request, reply) => {
      const tenant = request.tenant!;
      const deps = identityDeps(services);
      const flow = await flows.load(request, request.params.id);
      if (!flows.boundHere(request, flow)) return reply.redirect(`/t/${tenant.id}/login`, 303);
      const purpose = flow.step === "second_factor" ? "step_up" : flow.step === "activate_2fa" ? "activate" : undefined;
      const upstream = await findUpstream(deps, tenant, request.params.upstream);
      if (!purpose || !upstream) return reply.redirect(`${flows.base(request)}/${flow.id}`, 303);
      return sendToUpstream(request, reply, await startAtUpstream(deps, brokerContext(tenant), upstream, { flowId: flow.id, purpose, level: 2 }));
    });

    /** Back from the upstream (routes/broker.ts verified its answer): the flow bound here takes it. */
    app.get<{ Params: { id: string }; Querystring: { request?: string } }>("/login/:id/upstream-answer", async (request, reply) => {
      const flow = await flows.load(request, request.params.id);
      if (!flows.boundHere(request, flow)) {
        return html(reply, 403, errorPage(pageContext(request), { status: 403, message: request.t("upstream.no_answer"), requestId: request.id }));
      }
      const result = await flows.submit(request, flow.id, "upstream", { request: request.query.request ?? "" }, { csrfToken: flow.csrfToken });
      return afterStep(request, reply, result.flow, result.outcome, {});
    });

    /**
     * Signing out ends this session only (others are ended from the panel), and this browser's
     * single sign-on to relying parties, which are told by back-channel logout.
     */
    app.post("/logout", async (request, reply) => {
      if (request.session) {
        const account = await findAccount(identityDeps(services), request.tenant!, request.session.accountId);
        if (account) await revokeSession(identityDeps(services), request.tenant!, account, request.session.id, actorOf(request));
      }
      await oidc.signOut(request, reply);
      clearSessionCookie(reply, request.tenant!);
      return reply.redirect(`/t/${request.tenant!.id}/login?notice=login.signed_out`, 303);
    });
  };
}
