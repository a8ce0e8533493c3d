import { newPasswordField } from "../../flows/password-fields.ts";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { applicationsOf, withdrawApplication } from "../../federation/applications.ts";
import { startFlow } from "../../flows/engine.ts";
import type { Flow } from "../../flows/flow.ts";
import { FACTOR_ACTIONS, FIRST_STEP, SETTINGS_ACTIONS, type SettingsAction, type SettingsData } from "../../flows/settings/data.ts";
import { type Account, findAccount } from "../../identity/accounts.ts";
import { listConsents } from "../../identity/consents.ts";
import { generateRecoveryCodes } from "../../identity/recovery-codes.ts";
import { accessHistory, changePassword, exportPersonalData, factorsOf, removeFactor, setLoginNotifications, setPreferredFactor, withdrawMarketing } from "../../identity/self-service.ts";
import { endMembership } from "../../flows/professionals/certificates.ts";
import { keysUnderPassword, rewrapCredentials } from "../../flows/professionals/credentials.ts";
import { findMembership, membershipOf } from "../../flows/professionals/memberships.ts";
import type { IdentityDeps } from "../../identity/deps.ts";
import { findOrganization, representedBy } from "../../identity/organizations.ts";
import { issuedOf } from "../../pki/issuance.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { HOLDER_REASONS, type HolderCertificate } from "../views/professionals.ts";
import { listSessions, revokeAllSessions, revokeSession } from "../../identity/sessions.ts";
import { type FieldIssue, TesseraError, ValidationError } from "../../shared/errors.ts";
import { isMessageKey, type MessageKey } from "../../shared/i18n/translate.ts";
import { REJECTION_REASONS } from "../../flows/proofing/cases.ts";
import { applicantView } from "./proofing.ts";
import { browserFlows, type Form, html } from "../browser-flows.ts";
import { requireFactorSession, requireFreshSession } from "../fresh-session.ts";
import type { FlowRegistry } from "../flows.ts";
import { pageContext } from "../page-context.ts";
import { totpQr, withoutKeyHint } from "../views/totp.ts";
import { actorOf, identityDeps, inTransaction, pkiDeps, tenantUrl, type WebServices } from "../services.ts";
import { clearSessionCookie } from "../session-cookie.ts";
import { accountPage, recoveryCodesPage } from "../views/account.ts";
import { flowForm, flowPage } from "../views/flow-page.ts";
import type { FormState } from "../views/form.ts";
import { html as tag } from "../views/html.ts";

const NOTICES: MessageKey[] = ["account.certificate.revoked", "proofing.approved", "proofing.method_changed", "proofing.video.booked_notice", "account.saved", "account.totp.added", "account.signed_out_session", "enrol.email_sent", "enrol.sms_sent", "login.sms_sent", "login.email_sent"];

/** A professional's memberships with a certificate (or on the way to one), and whether they represent an organisation. */
async function professionalView(deps: IdentityDeps, tenant: Tenant, account: Account): Promise<{ certificates: HolderCertificate[]; representative: boolean }> {
  const certificates: HolderCertificate[] = [];
  for (const row of await deps.repos.professionals.membershipsOfAccount(tenant.id, account.id)) {
    const membership = membershipOf(row);
    if (membership.state === "refused" || membership.state === "requested") continue;
    certificates.push({ membership, organization: await findOrganization(deps, tenant, membership.organizationId) });
  }
  return { certificates, representative: (await representedBy(deps, tenant, account.id)).length > 0 };
}

/**
 * The self-service panel as pages, `/t/<tenant>/account`: without a session, to the sign-in page
 * and back; every change needs a sign-in at most `session.reauthMinutes` old (an older one is sent
 * to sign in again, then back). The same operations exist as JSON under /api/account.
 */
export function accountRoutes(services: WebServices, registry: FlowRegistry) {
  const settings = browserFlows(services, registry, "settings", "account/settings");
  const base = (request: FastifyRequest) => `/t/${request.tenant!.id}/account`;
  const loginUrl = (request: FastifyRequest, extra = "") => `/t/${request.tenant!.id}/login?return_to=${encodeURIComponent(base(request))}${extra}`;

  async function accountOf(request: FastifyRequest): Promise<Account | undefined> {
    return request.session ? findAccount(identityDeps(services), request.tenant!, request.session.accountId) : undefined;
  }

  async function panel(request: FastifyRequest, reply: FastifyReply, state: FormState, notice?: string, status = state.errors.length ? 400 : 200) {
    const account = await accountOf(request);
    if (!account) return reply.redirect(loginUrl(request), 303);
    const deps = identityDeps(services);
    const tenant = request.tenant!;
    const page = accountPage(pageContext(request), tenant, {
      account,
      session: request.session!,
      sessions: await listSessions(deps, tenant, account),
      history: await accessHistory(deps, tenant, account, 20),
      factors: await factorsOf(deps, account),
      consents: await listConsents(deps, account),
      applications: await applicationsOf(deps, tenant, account.id),
      passwordFields: [
        ...((await keysUnderPassword(pkiDeps(services), tenant, account.id)) ? [{ name: "current_password", type: "password" as const, required: true, label: request.t("account.current_password"), autocomplete: "current-password" }] : []),
        newPasswordField(tenant, request.t),
      ],
      ...(account.state === "awaiting_proofing" && tenant.policy.enrolment ? { proofing: await applicantView(services, request, account) } : {}),
      ...(tenant.policy.professionals.enabled ? { professional: await professionalView(deps, tenant, account) } : {}),
    }, state, notice);
    return html(reply, status, page);
  }

  /**
   * Where to sign in again (and come back) when the session is not recent enough, or, for factors
   * and contacts, not of level 2 where `levelToManageFactors` asks for it; undefined when it will do.
   * (A URL, not a sent reply: a Fastify reply is thenable, so awaiting one would lose it.)
   */
  async function signInAgain(request: FastifyRequest, options: { factors?: boolean } = {}): Promise<string | undefined> {
    try {
      if (options.factors) await requireFactorSession(services, request);
      else requireFreshSession(services, request);
      return undefined;
    } catch (err) {
      if (err instanceof TesseraError && (err.code === "session.reauth_required" || err.code === "session.step_up_required")) {
        const level = err.code === "session.step_up_required" ? 2 : request.session!.level;
        return loginUrl(request, `&level=${level}&notice=login.reauth`);
      }
      if (err instanceof TesseraError && err.code === "session.required") return loginUrl(request);
      throw err;
    }
  }

  /**
   * A change from the panel: a recent sign-in (else sign in again and come back), the work in one
   * transaction, then back to the panel with a notice (or the page `show` makes of the result);
   * user errors show on the panel.
   */
  async function change<T>(
    request: FastifyRequest,
    reply: FastifyReply,
    work: (deps: ReturnType<typeof identityDeps>, account: Account) => Promise<T>,
    options: { notice?: MessageKey; factors?: boolean; show?: (result: T) => FastifyReply } = {},
  ) {
    const away = await signInAgain(request, options);
    if (away) return reply.redirect(away, 303);
    const account = (await accountOf(request))!;
    let result: T;
    try {
      result = await inTransaction(services, (deps) => work(deps, account));
    } catch (err) {
      if (!(err instanceof TesseraError) || err.status >= 500) throw err;
      const issues: FieldIssue[] = err instanceof ValidationError ? err.issues : [{ field: "account", code: err.code, message: err.message, params: err.params }];
      return panel(request, reply, { errors: issues, values: {}, t: request.t });
    }
    if (options.show) return options.show(result);
    return reply.redirect(`${base(request)}?notice=${options.notice ?? "account.saved"}`, 303);
  }

  async function settingsPage(request: FastifyRequest, reply: FastifyReply, flow: Flow<SettingsData>, state: FormState, notice?: string) {
    const { t } = request;
    const step = flow.step!;
    const fields = await settings.definition(request).steps[step]!.fields({ tenant: request.tenant!, flow, locale: request.locale, t, deps: identityDeps(services) });

    return html(reply, state.errors.length ? 400 : 200, flowPage(pageContext(request), {
      title: t(`account.settings.${flow.data.action}`),
      intro: t(`account.settings.${flow.data.action}.intro`),
      notice,
      state,
      content: tag`${totpQr(t, fields)}
${flowForm({ action: `${settings.base(request)}/${flow.id}`, hidden: { csrf_token: flow.csrfToken, step }, fields: withoutKeyHint(fields), submit: t("enrol.submit") }, state)}
<p class="aside"><a href="${base(request)}">${t("account.back")}</a></p>`,
    }));
  }

  return async (app: FastifyInstance) => {
    app.get<{ Querystring: { notice?: string; refused?: string; error?: string } }>("/", async (request, reply) => {
      const key = NOTICES.find((n) => n === request.query.notice);
      // An identity proofing action refused (routes/proofing.ts): the reason and what to do next, in words.
      const reason = REJECTION_REASONS.find((r) => r === request.query.refused);
      const error = request.query.error && isMessageKey(request.query.error) ? request.query.error : undefined;
      const errors: FieldIssue[] = reason
        ? [{ field: "proofing", code: "proofing.refused_notice", message: reason, params: { reason: request.t(`proofing.reason.${reason}`), next: request.t(`proofing.next.${reason}`) } }]
        : error
          ? [{ field: "proofing", code: error, message: error }]
          : [];
      return panel(request, reply, { errors, values: {}, t: request.t }, key ? request.t(key, { email: "", mobile: "", to: "" }) : undefined);
    });

    app.post("/password", async (request, reply) => {
      const form = (request.body as Form | undefined) ?? {};
      const password = String(form.password ?? "");
      const current = typeof form.current_password === "string" ? form.current_password : undefined;
      return change(request, reply, async (deps, account) => {
        // Keys under the holder's sole control follow the password: the old one unlocks them, then
        // the password changes (a refusal of either, in this one transaction, changes neither).
        await rewrapCredentials({ ...deps, pki: services.pki }, request.tenant!, account, current, password, actorOf(request));
        await changePassword(deps, request.tenant!, account, password, actorOf(request), request.session!.id);
      });
    });

    app.post("/preferences/codes", async (request, reply) => {
      const factor = (request.body as Form | undefined)?.factor;
      const chosen = factor === "sms" || factor === "email" ? factor : null;
      return change(request, reply, (deps, account) => setPreferredFactor(deps, request.tenant!, account, chosen, actorOf(request)), { factors: true });
    });

    /** "Revocar el certificado" (seed 002): at once, after a recent sign-in; refusals show on the panel. */
    app.post<{ Params: { id: string } }>("/certificates/:id/revoke", async (request, reply) => {
      const away = await signInAgain(request);
      if (away) return reply.redirect(away, 303);
      const account = (await accountOf(request))!;
      const reason = HOLDER_REASONS.find((r) => r === (request.body as Form | undefined)?.reason);
      try {
        if (!reason) throw new TesseraError("pki.invalid_reason", "choose a reason", { params: { field: "reason" } });
        await endMembership(pkiDeps(services), request.tenant!, request.params.id, reason, { holder: account }, actorOf(request));
      } catch (err) {
        if (!(err instanceof TesseraError) || err.status >= 500) throw err;
        return panel(request, reply, { errors: [{ field: "certificates", code: err.code, message: err.message, params: err.params }], values: {}, t: request.t }, undefined, err.status);
      }
      return reply.redirect(`${base(request)}?notice=account.certificate.revoked#certificates`, 303);
    });

    app.get<{ Params: { id: string } }>("/certificates/:id.pem", async (request, reply) => {
      const account = await accountOf(request);
      if (!account) return reply.redirect(loginUrl(request), 303);
      const membership = await findMembership(identityDeps(services), request.tenant!, request.params.id);
      const row = membership.accountId === account.id && membership.certificateSerial ? (await services.store.repos.pki.certificatesBySerial(request.tenant!.id, membership.certificateSerial))[0] : undefined;
      if (!row) throw new TesseraError("membership.not_found", "no such certificate", { status: 404 });
      return reply.type("application/x-pem-file").header("content-disposition", `attachment; filename="${row.serial}.pem"`).send(issuedOf(row).pem);
    });

    app.post("/notifications", async (request, reply) => {
      const on = (request.body as Form | undefined)?.login === "on";
      return change(request, reply, (deps, account) => setLoginNotifications(deps, request.tenant!, account, on, actorOf(request)));
    });

    app.post<{ Params: { id: string } }>("/sessions/:id/revoke", async (request, reply) =>
      change(request, reply, (deps, account) => revokeSession(deps, request.tenant!, account, request.params.id, actorOf(request)), { notice: "account.signed_out_session" }),
    );

    app.post("/sessions/revoke-others", async (request, reply) =>
      change(request, reply, (deps, account) => revokeAllSessions(deps, request.tenant!, account, actorOf(request), request.session!.id), { notice: "account.signed_out_session" }),
    );

    app.post<{ Params: { kind: string; id: string } }>("/factors/:kind/:id/remove", async (request, reply) => {
      const kind = request.params.kind === "totp" ? "totp" : "passkey";
      return change(request, reply, (deps, account) => removeFactor(deps, request.tenant!, account, { kind, id: request.params.id }, actorOf(request)), { factors: true });
    });

    app.post("/recovery-codes", async (request, reply) =>
      change(request, reply, (deps, account) => generateRecoveryCodes(deps, request.tenant!, account, actorOf(request)), {
        factors: true,
        show: (codes) => html(reply, 200, recoveryCodesPage(pageContext(request), request.tenant!, codes)),
      }),
    );

    /** The holder takes back what they let an application have; it must ask again. */
    app.post<{ Params: { clientId: string } }>("/applications/:clientId/withdraw", async (request, reply) =>
      change(request, reply, (deps, account) => withdrawApplication(deps, request.tenant!, account.id, request.params.clientId, actorOf(request))),
    );

    app.post("/consents/marketing/withdraw", async (request, reply) =>
      change(request, reply, (deps, account) => withdrawMarketing(deps, request.tenant!, account, actorOf(request))),
    );

    app.get("/export", async (request, reply) => {
      const account = await accountOf(request);
      if (!account) return reply.redirect(loginUrl(request), 303);
      const data = await exportPersonalData(identityDeps(services), request.tenant!, account);
      return reply
        .type("application/json; charset=utf-8")
        .header("content-disposition", `attachment; filename="${request.tenant!.id}-personal-data.json"`)
        .send(JSON.stringify(data, null, 2));
    });

    /** Changes with a confirmation code: a settings flow, bound to this browser and this account. */
    app.post("/settings", async (request, reply) => {
      const action = String((request.body as Form | undefined)?.action ?? "") as SettingsAction;
      if (!SETTINGS_ACTIONS.includes(action)) throw new TesseraError("flow.unknown_kind", "no such change", { status: 404 });
      const away = await signInAgain(request, { factors: FACTOR_ACTIONS.has(action) });
      if (away) return reply.redirect(away, 303);
      const tenant = request.tenant!;
      const { flow, outcome } = await startFlow<SettingsData>(services, tenant, settings.definition(request), { action }, { step: FIRST_STEP[action], accountId: request.session!.accountId }, {
        channel: "browser",
        by: actorOf(request),
        locale: request.locale,
        tenantUrl: tenantUrl(services, tenant),
        userAgent: request.headers["user-agent"] ?? null,
      });
      if (outcome?.type === "reject") return panel(request, reply, settings.formState(request, outcome.errors));
      settings.bind(reply, request, flow);
      const notice = outcome && "notice" in outcome && outcome.notice ? `?notice=${encodeURIComponent(outcome.notice.code)}` : "";
      return reply.redirect(`${settings.base(request)}/${flow.id}${notice}`, 303);
    });

    app.get<{ Params: { id: string }; Querystring: { notice?: string } }>("/settings/:id", async (request, reply) => {
      const flow = await settings.load(request, request.params.id);
      if (!settings.boundHere(request, flow) || flow.accountId !== request.session?.accountId || flow.state !== "active") return reply.redirect(base(request), 303);
      const key = NOTICES.find((n) => n === request.query.notice);
      const sentTo = flow.data.sentTo ?? "";
      return settingsPage(request, reply, flow, settings.formState(request), key ? request.t(key, { email: sentTo, mobile: sentTo, to: sentTo }) : undefined);
    });

    app.post<{ Params: { id: string } }>("/settings/:id", async (request, reply) => {
      const form = (request.body ?? {}) as Form;
      const flow = await settings.load(request, request.params.id);
      if (!settings.boundHere(request, flow) || flow.accountId !== request.session?.accountId) throw new TesseraError("flow.csrf", "not this browser's flow", { status: 403 });
      const away = await signInAgain(request, { factors: FACTOR_ACTIONS.has(flow.data.action) });
      if (away) return reply.redirect(away, 303);
      const { csrf_token, step, ...input } = form;
      const result = await settings.submit(request, flow.id, String(step ?? ""), input, { csrfToken: typeof csrf_token === "string" ? csrf_token : undefined });
      const outcome = result.outcome;
      if (outcome.type === "reject") {
        return settingsPage(request, reply, result.flow, settings.formState(request, outcome.errors, form));
      }
      if (outcome.type === "finish") {
        settings.unbind(reply, request);
        if (flow.data.action === "suspend" || flow.data.action === "revoke") {
          clearSessionCookie(reply, request.tenant!);
          return reply.redirect(`/t/${request.tenant!.id}/login?notice=login.signed_out`, 303);
        }
        return reply.redirect(`${base(request)}?notice=${outcome.notice?.code ?? "account.saved"}`, 303);
      }
      return reply.redirect(`${settings.base(request)}/${flow.id}${outcome.notice ? `?notice=${encodeURIComponent(outcome.notice.code)}` : ""}`, 303);
    });
  };
}
