import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { samlCredentials } from "../../federation/saml/credential.ts";
import { minimumSessionLevel } from "../../identity/levels.ts";
import type { SpidError} from "../../federation/saml/errors.ts";
import { spidError, type SpidErrorNumber } from "../../federation/saml/errors.ts";
import { type LogoutOutcome, receiveLogoutRequest } from "../../federation/saml/logout.ts";
import { identityProviderMetadata } from "../../federation/saml/metadata.ts";
import type { Delivery } from "../../federation/saml/receive.ts";
import {
  type Answer,
  answer,
  checkAuthnRequest,
  giveConsent,
  hasConsent,
  type IdpEndpoints,
  pendingRequest,
  type PendingRequest,
  type Reception,
  recordRequest,
  releasedAttributes,
  sessionMeets,
} from "../../federation/saml/sso.ts";
import { findAccount } from "../../identity/accounts.ts";
import { type FoundSession, revokeSession } from "../../identity/sessions.ts";
import type { MessageKey } from "../../shared/i18n/translate.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { html } from "../browser-flows.ts";
import { pageContext } from "../page-context.ts";
import { formTarget } from "../plugins/security.ts";
import { actorOf, identityDeps, tenantUrl, type WebServices } from "../services.ts";
import { clearSessionCookie } from "../session-cookie.ts";
import { errorPage } from "../views/error-page.ts";
import { attributeConsentPage, postFormPage } from "../views/saml.ts";

/** Login outcomes the sign-in pages report when the user goes back to the service (views/login.ts). */
const OUTCOMES: Record<string, SpidErrorNumber> = { locked: 19, no_second_factor: 20, suspended: 23, revoked: 23 };

/**
 * The SAML identity provider of every tenant (SPID profile): metadata, single sign-on and single
 * logout under `/t/<tenant>/saml/`. A request is verified and checked on arrival
 * (federation/saml/sso.ts), then continued at `/saml/sso/<ticket>`, where sign-in and the
 * attribute consent send the browser back until it can be answered.
 */
export function samlRoutes(services: WebServices) {
  const deps = identityDeps(services);
  const credentials = samlCredentials(deps);
  const metadataCache = new Map<string, { key: string; xml: string }>();

  const endpoints = (tenant: Tenant): IdpEndpoints => {
    const base = tenantUrl(services, tenant);
    return { entityId: base, ssoUrl: `${base}/saml/sso`, sloUrl: `${base}/saml/slo` };
  };
  const contextOf = async (request: FastifyRequest) => {
    const tenant = request.tenant!;
    return { deps, tenant, idp: endpoints(tenant), credential: await credentials(tenant, new URL(services.publicUrl.current).hostname) };
  };
  const ticketPath = (tenant: Tenant, ticket: string) => `/t/${tenant.id}/saml/sso/${ticket}`;

  function errorOnPage(request: FastifyRequest, reply: FastifyReply, status: number, message: string) {
    request.log.info({ saml: message }, "SAML request refused");
    return html(reply, status, errorPage(pageContext(request), { status, message, requestId: request.id }));
  }
  const refused = (request: FastifyRequest, reply: FastifyReply, error: SpidError) => {
    const spec = error.spec as { httpStatus: number };
    request.log.info({ saml: error.message }, "SAML request refused");
    return html(reply, spec.httpStatus, errorPage(pageContext(request), { status: spec.httpStatus, message: request.t("saml.error", { code: String(error.code).padStart(2, "0"), summary: error.spec.summary }), requestId: request.id }));
  };
  const postTo = (reply: FastifyReply, request: FastifyRequest, action: string, fields: Record<string, string>, serviceName?: string) =>
    html(reply.allowFormTargets(formTarget(action)), 200, postFormPage(pageContext(request), { action, fields, serviceName }));
  const sendAnswer = (request: FastifyRequest, reply: FastifyReply, a: Answer, serviceName?: string) =>
    postTo(reply, request, a.acs, { SAMLResponse: a.samlResponse, ...(a.relayState !== undefined ? { RelayState: a.relayState } : {}) }, serviceName);
  const consentMac = (ticket: string, sessionId: string) => services.secrets.mac(`saml-consent:${ticket}:${sessionId}`);

  async function answerOnce(request: FastifyRequest, reply: FastifyReply, ticket: string, pending: PendingRequest, outcome: Parameters<typeof answer>[3]) {
    const sent = await answer(await contextOf(request), ticket, pending, outcome, actorOf(request));
    if (!sent) return errorOnPage(request, reply, 409, request.t("saml.already_answered"));
    return sendAnswer(request, reply, sent, pending.spName);
  }

  /** What a request needs next in this browser: a sign-in (at this level), the consent, or its answer. */
  async function nextFor(request: FastifyRequest, pending: PendingRequest): Promise<{ signInAt: number } | { consent: FoundSession } | { answer: Parameters<typeof answer>[3] }> {
    const tenant = request.tenant!;
    if (services.clock.now() > pending.deadline) return { answer: { error: spidError(21, "the sign-in took too long") } };
    const session = request.session ?? undefined;
    // Where two factors are mandatory no service provider gets a session with fewer.
    const floor = minimumSessionLevel(tenant);
    if (!sessionMeets(pending, session, floor)) return { signInAt: Math.max(pending.level.signInAt, floor) };
    // As read with the session, at the start of this request: nothing here has changed it since.
    const { account } = session;
    if (account.state !== "active") return { answer: { error: spidError(20, "the identity is not yet usable (awaiting proofing)") } };
    // Tessera's identities are personal ones: none is of a professional or legal person's type.
    if (pending.purpose) return { answer: { error: spidError(30, `the service asks for an identity of type ${pending.purpose}`) } };
    if (!(await hasConsent(deps, tenant, account.id, pending))) return { consent: session };
    return { answer: { session, account } };
  }

  /** Where a recorded request stands: answered, or waiting for sign-in or consent, or ready. */
  async function proceed(request: FastifyRequest, reply: FastifyReply, ticket: string, recorded?: PendingRequest) {
    const tenant = request.tenant!;
    let pending = recorded;
    if (!pending) {
      const found = await pendingRequest(deps, tenant, ticket);
      if (!found) return errorOnPage(request, reply, 404, request.t("saml.request_not_found"));
      if (found.row.answered_at !== null) return errorOnPage(request, reply, 409, request.t("saml.already_answered"));
      pending = found.pending;
    }
    const next = await nextFor(request, pending);
    if ("answer" in next) return answerOnce(request, reply, ticket, pending, next.answer);
    if ("signInAt" in next) {
      const query = new URLSearchParams({ level: String(next.signInAt), return_to: ticketPath(tenant, ticket) });
      return reply.redirect(`/t/${tenant.id}/login?${query.toString()}`, 303);
    }
    const attributes = releasedAttributes(pending, next.consent.account).map((a) => ({ label: request.t(`saml.attribute.${a.name}` as MessageKey), value: a.value }));
    return html(
      reply,
      200,
      attributeConsentPage(pageContext(request), {
        action: `${ticketPath(tenant, ticket)}/consent`,
        csrf: consentMac(ticket, next.consent.id),
        serviceName: pending.spName,
        entityId: pending.spEntityId,
        attributes,
      }),
    );
  }

  async function sso(request: FastifyRequest, reply: FastifyReply, delivery: Delivery) {
    const ctx = await contextOf(request);
    const checked = await checkAuthnRequest(ctx, delivery);
    if (checked.type === "refused") return refused(request, reply, checked.error);
    const answered = (reception: Extract<Reception, { type: "answer" }>) => {
      request.log.info({ saml: reception.error.message }, "SAML request answered with an error");
      return sendAnswer(request, reply, reception.answer);
    };
    if (checked.type === "answer") return answered(checked);
    // A cross-site POST carries no SameSite=Lax cookie: the browser comes back by GET, which does.
    if (delivery.binding === "redirect") {
      const next = await nextFor(request, checked.pending);
      // Nothing to ask (signed in, consent given): the request recorded and answered in one transaction.
      if ("answer" in next) {
        const sent = await answer(ctx, checked.row.ticket, checked.pending, next.answer, actorOf(request), checked.row);
        return sent ? sendAnswer(request, reply, sent, checked.pending.spName) : answered(await checked.replay());
      }
    }
    const recorded = await recordRequest(ctx, checked);
    if (recorded.type === "answer") return answered(recorded);
    if (delivery.binding === "post") return reply.redirect(ticketPath(request.tenant!, recorded.ticket), 303);
    // Recorded by this request a moment ago, unanswered: not read back.
    return proceed(request, reply, recorded.ticket, recorded.pending);
  }

  function sendLogout(request: FastifyRequest, reply: FastifyReply, outcome: LogoutOutcome) {
    if (outcome.type === "refused") return refused(request, reply, outcome.error);
    if (outcome.type === "redirect") return reply.redirect(outcome.url, 303);
    return postTo(reply, request, outcome.url, outcome.fields);
  }

  async function slo(request: FastifyRequest, reply: FastifyReply, delivery: Delivery) {
    const tenant = request.tenant!;
    const outcome = await receiveLogoutRequest(
      {
        ...(await contextOf(request)),
        endSession: async (accountId, sessionId) => {
          const account = await findAccount(deps, tenant, accountId);
          if (account) await revokeSession(deps, tenant, account, sessionId, actorOf(request));
          if (request.session?.id === sessionId) clearSessionCookie(reply, tenant);
        },
      },
      delivery,
      actorOf(request),
    );
    return sendLogout(request, reply, outcome);
  }

  const rawQuery = (request: FastifyRequest) => request.raw.url!.split("?")[1] ?? "";
  const formOf = (request: FastifyRequest) => (request.body && typeof request.body === "object" ? (request.body as Record<string, unknown>) : {});

  return async (app: FastifyInstance) => {
    app.get("/saml/metadata", async (request, reply) => {
      const tenant = request.tenant!;
      const ctx = await contextOf(request);
      const key = `${ctx.credential.id}|${services.publicUrl.current}|${tenant.updatedAt}`;
      let cached = metadataCache.get(tenant.id);
      if (cached?.key !== key) {
        const xml = await identityProviderMetadata(
          { ...ctx.idp, organization: { name: tenant.displayName, url: services.publicUrl.current, locale: tenant.defaultLocale } },
          ctx.credential,
        );
        cached = { key, xml };
        metadataCache.set(tenant.id, cached);
      }
      return reply.type("application/samlmetadata+xml").header("cache-control", "public, max-age=3600").send(cached.xml);
    });

    // No HEAD twin: a prefetcher's HEAD would use the request's ID up, and the user's GET be a replay.
    app.get("/saml/sso", { exposeHeadRoute: false }, (request, reply) => sso(request, reply, { binding: "redirect", rawQuery: rawQuery(request) }));
    app.post("/saml/sso", (request, reply) => sso(request, reply, { binding: "post", form: formOf(request) }));
    // The bindings use GET and POST only (SPID ErrorCode nr06).
    app.route({
      method: ["HEAD", "PUT", "DELETE", "PATCH"],
      url: "/saml/sso",
      handler: (request, reply) => refused(request, reply, spidError(6, `${request.method} is not a SAML binding's method`)),
    });

    app.get<{ Params: { ticket: string } }>("/saml/sso/:ticket", (request, reply) => proceed(request, reply, request.params.ticket));

    app.post<{ Params: { ticket: string } }>("/saml/sso/:ticket/consent", async (request, reply) => {
      const tenant = request.tenant!;
      const { ticket } = request.params;
      const found = await pendingRequest(deps, tenant, ticket);
      const session = request.session ?? undefined;
      const form = formOf(request);
      if (!found || !sessionMeets(found.pending, session, minimumSessionLevel(tenant)) || typeof form.csrf_token !== "string" || !services.secrets.macEquals(`saml-consent:${ticket}:${session.id}`, form.csrf_token)) {
        return errorOnPage(request, reply, 403, request.t("saml.request_not_found"));
      }
      if (form.decision !== "allow") return answerOnce(request, reply, ticket, found.pending, { error: spidError(22, "the user refused to release the attributes") });
      await giveConsent(deps, tenant, session.accountId, found.pending, actorOf(request));
      return proceed(request, reply, ticket);
    });

    /**
     * The user goes back to the service without signing in: cancelled (nr25), or after what the
     * sign-in page told them: locked out (nr19), no credential for the level (nr20), identity
     * suspended or revoked (nr23). The outcome is the user's own report about their own failed
     * sign-in: whichever they send, the service learns only that this sign-in failed.
     */
    app.post<{ Params: { ticket: string } }>("/saml/sso/:ticket/abort", async (request, reply) => {
      const found = await pendingRequest(deps, request.tenant!, request.params.ticket);
      if (!found) return errorOnPage(request, reply, 404, request.t("saml.request_not_found"));
      const outcome = formOf(request).outcome;
      const code = (typeof outcome === "string" && OUTCOMES[outcome]) || 25;
      return answerOnce(request, reply, request.params.ticket, found.pending, { error: spidError(code, `the user went back to the service (${typeof outcome === "string" ? outcome : "cancelled"})`) });
    });

    app.get("/saml/slo", { exposeHeadRoute: false }, (request, reply) => slo(request, reply, { binding: "redirect", rawQuery: rawQuery(request) }));
    app.post("/saml/slo", (request, reply) => slo(request, reply, { binding: "post", form: formOf(request) }));
  };
}
