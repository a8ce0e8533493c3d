import type { FieldSpec, Flow } from "../../flows/flow.ts";
import type { LoginData } from "../../flows/login/data.ts";
import { maskContact } from "../../identity/identifiers.ts";
import type { Account } from "../../identity/accounts.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { localized } from "../../tenants/policy.ts";
import { type FormState, renderField } from "./form.ts";
import { flowForm, flowPage } from "./flow-page.ts";
import { formatDate } from "../../shared/i18n/dates.ts";
import { totpQr, withoutKeyHint } from "./totp.ts";
import { html, type SafeHtml } from "./html.ts";
import type { PageContext } from "./layout.ts";

const SCRIPTS = ["/assets/passkeys.js", "/assets/enrolment.js"];

/** An upstream SPID/CIE identity provider, as its button shows it. */
export interface UpstreamButton {
  id: string;
  scheme: "spid" | "cie";
  name: string;
}

/**
 * "Entra con SPID" (the list of SPID identity providers, as the SPID button lists them) and
 * "Entra con CIE", each a link that starts the sign-in there (`href` says where for each).
 */
function upstreamSections(ctx: PageContext, upstreams: UpstreamButton[], href: (u: UpstreamButton) => string): SafeHtml | "" {
  const { t } = ctx;
  const spid = upstreams.filter((u) => u.scheme === "spid");
  const cie = upstreams.filter((u) => u.scheme === "cie");
  if (upstreams.length === 0) return "";
  return html`${spid.length > 0 ? html`<section class="upstream spid" aria-labelledby="with-spid">
  <h2 id="with-spid">${t("login.with_spid")}</h2>
  <p>${t("login.spid.intro")}</p>
  <nav aria-label="${t("login.spid.choose")}"><ul class="idp-list">${spid.map((u) => html`<li><a class="button spid" href="${href(u)}">${u.name}</a></li>`)}</ul></nav>
</section>` : ""}${cie.length > 0 ? html`<section class="upstream cie" aria-labelledby="with-cie">
  <h2 id="with-cie">${t("login.with_cie")}</h2>
  <p>${t("login.cie.intro")}</p>
  ${cie.map((u) => html`<p><a class="button cie" href="${href(u)}">${t("login.with_cie")} · ${u.name}</a></p>`)}
</section>` : ""}`;
}
const field = (fields: FieldSpec[], name: string) => fields.find((f) => f.name === name)!;

/**
 * The sign-in page: the ways in this tenant offers (seed 002's "portal" shows such a choice:
 * "Profesionales en la nube", DNI and password then a code, or the professional card), a passkey
 * where it signs in alone, and the way to an identity when there is none.
 * Where the tenant brokers to SPID/CIE, their buttons come first (seed 001: "Entra con SPID",
 * "Entra con CIE"), then the local credentials.
 */
export function loginPage(
  ctx: PageContext,
  tenant: Tenant,
  input: { fields: FieldSpec[]; state: FormState; level: number; returnTo: string | undefined; notice?: string | undefined; upstreams?: UpstreamButton[]; card?: boolean },
): SafeHtml {
  const { t } = ctx;
  const professionals = tenant.policy.professionals.enabled;
  const base = `/t/${tenant.id}`;
  const upstreams = input.upstreams ?? [];
  const viaUpstream = (u: UpstreamButton) => `${base}/login/upstream/${u.id}${input.returnTo ? `?return_to=${encodeURIComponent(input.returnTo)}` : ""}`;
  const hidden: Record<string, string> = { level: String(input.level), ...(input.returnTo ? { return_to: input.returnTo } : {}) };
  return flowPage(ctx, {
    title: t("login.title", { tenant: tenant.displayName }),
    notice: input.notice,
    intro: input.level === 2 ? t("login.level2.intro") : undefined,
    state: input.state,
    scripts: SCRIPTS,
    content: html`<div class="ways-in">
${upstreamSections(ctx, upstreams, viaUpstream)}
<section aria-labelledby="with-password">
  <h2 id="with-password">${professionals ? t("login.cloud.title") : upstreams.length > 0 ? t("login.upstream.or") : t("login.with_password")}</h2>
  ${professionals ? html`<p>${t("login.cloud.intro")}</p>` : ""}
  ${
    tenant.policy.enrolment && input.state.errors.some((e) => e.code === "awaiting_proofing")
      ? html`<p class="notice"><a href="${base}/enrol/resume">${t("login.follow_request")}</a></p>`
      : ""
  }
  ${flowForm({ action: `${base}/login`, hidden, fields: input.fields, submit: t("login.submit") }, input.state)}
  <p><a href="${base}/recover">${t("login.forgot")}</a></p>
</section>
${
  tenant.policy.factors.passkeyFirstFactor
    ? html`<section aria-labelledby="with-passkey">
  <h2 id="with-passkey">${t("login.with_passkey")}</h2>
  <p>${t("login.with_passkey.intro")}</p>
  <button type="button" class="button primary" data-passkey="authenticate" data-next="${input.returnTo ?? `${base}/account`}">${t("login.with_passkey.button")}</button>
  <p class="field-error" data-passkey-status role="status"></p>
</section>`
    : ""
}
${
  input.card
    ? html`<section aria-labelledby="with-card">
  <h2 id="with-card">${t("login.card.title")}</h2>
  <p>${t("login.card.intro")}</p>
  <p><a class="button primary" href="${base}/login/card${input.returnTo ? `?return_to=${encodeURIComponent(input.returnTo)}` : ""}">${t("login.card.button")}</a></p>
</section>`
    : ""
}
${cancelToService(ctx, tenant, input.returnTo, input.state)}
${
  tenant.policy.registration.enabled
    ? html`<section aria-labelledby="no-account"><h2 id="no-account">${t("register.title")}</h2><p><a class="button" href="${base}/register">${t("login.register")}</a></p></section>`
    : ""
}
${
  professionals
    ? html`<section aria-labelledby="no-identity"><h2 id="no-identity">${t("login.no_professional_identity")}</h2><p>${t("professionals.request.intro")}</p><p><a class="button" href="${base}/request">${t("login.request_professional_identity")}</a></p></section>`
    : ""
}
${
  tenant.policy.enrolment
    ? html`<section aria-labelledby="no-identity"><h2 id="no-identity">${t("login.no_identity")}</h2><p><a class="button" href="${base}/enrol">${t("enrol.title")}</a></p></section>`
    : ""
}
</div>`,
  });
}

/** The steps after the first: a new password, or the second factor. */
export function loginStepPage(
  ctx: PageContext,
  tenant: Tenant,
  input: { flow: Flow<LoginData>; step: string; fields: FieldSpec[]; state: FormState; notice?: string | undefined; account: Account | undefined; upstreams?: UpstreamButton[] },
): SafeHtml {
  const { t } = ctx;
  const { flow, step, fields, state, account } = input;
  const action = `/t/${tenant.id}/login/${flow.id}`;
  const hidden = (extra: Record<string, string> = {}) => ({ csrf_token: flow.csrfToken, step, ...extra });
  const upstreams = input.upstreams ?? [];
  const stepUp = (u: UpstreamButton) => `${action}/upstream/${u.id}`;
  const page = (title: string, content: SafeHtml, intro?: string) =>
    flowPage(ctx, { title, intro, notice: input.notice, state, scripts: SCRIPTS, flowId: flow.id, content: html`${content}${cancelToService(ctx, tenant, flow.data.returnTo, state)}` });

  switch (step) {
    case "upstream": {
      // Waiting for, or refused by, the upstream: the way back, and the way to try again.
      const again = upstreams.find((u) => u.id === flow.data.upstream);
      const back = `/t/${tenant.id}/login${flow.data.returnTo ? `?return_to=${encodeURIComponent(flow.data.returnTo)}` : ""}`;
      return page(
        t("login.title", { tenant: tenant.displayName }),
        html`<p><a class="button primary" href="${back}">${t("upstream.back")}</a>${again ? html` <a class="button" href="/t/${tenant.id}/login/upstream/${again.id}${flow.data.returnTo ? `?return_to=${encodeURIComponent(flow.data.returnTo)}` : ""}">${t("upstream.try_again")}</a>` : ""}</p>`,
      );
    }
    case "first_password":
      return page(t("login.first_password.title"), flowForm({ action, hidden: hidden(), fields, submit: t("enrol.submit") }, state), t("login.first_password.intro", { codice_persona: account?.identifier ?? "" }));
    case "link_password":
      return page(t("login.link_password.title"), flowForm({ action, hidden: hidden(), fields, submit: t("login.submit") }, state), t("login.link_password.intro", { codice_persona: account?.identifier ?? "" }));
    case "totp_setup": {
      const until = flow.data.totp?.expiresAt;
      return page(
        t("login.totp_setup.title"),
        html`${until ? html`<p class="notice">${t("login.totp_setup.temporary", { date: formatDate(until, ctx.locale, tenant.policy.timeZone, "date") })}</p>` : ""}${totpQr(t, fields)}${flowForm({ action, hidden: hidden(), fields: withoutKeyHint(fields), submit: t("login.submit") }, state)}`,
        t("login.totp_setup.intro"),
      );
    }
    case "activate_2fa":
      return page(t("login.activate_2fa.title"), activationContent(ctx, { action, hidden: hidden(), fields, state, upstreams, stepUp }), t("login.activate_2fa.intro"));
  }

  if (step === "password_change") {
    return flowPage(ctx, {
      title: t("login.password_change.title"),
      notice: input.notice,
      state,
      scripts: SCRIPTS,
      flowId: flow.id,
      content: flowForm({ action, hidden: hidden(), fields, submit: t("login.password_change.submit") }, state),
    });
  }

  const methods = (field(fields, "method").options ?? []).map((o) => o.value);
  const code = field(fields, "code");
  const section = (method: string, body: SafeHtml) =>
    html`<section class="factor" aria-labelledby="factor-${method}"><h2 id="factor-${method}">${t(`login.factor.${method as "sms"}`)}</h2>${body}</section>`;
  const codeForm = (method: string, label?: string) =>
    html`<form method="post" action="${action}" class="flow-form" novalidate>
${Object.entries(hidden({ method })).map(([n, v]) => html`<input type="hidden" name="${n}" value="${v}">`)}
${renderField({ ...code, ...(label ? { label } : {}) }, state, `${method}-`)}
<button type="submit" class="button primary">${t("login.submit")}</button></form>`;
  const sendForm = (method: string, to: string) =>
    html`<form method="post" action="${action}" class="inline-form">
${Object.entries(hidden({ method, send: "on" })).map(([n, v]) => html`<input type="hidden" name="${n}" value="${v}">`)}
<button type="submit" class="button">${t("login.send_code", { to: maskContact(to) })}</button></form>`;

  const sections = methods.map((method) => {
    switch (method) {
      case "sms":
        return section(method, html`${sendForm("sms", account?.phone ?? "")}${codeForm("sms")}`);
      case "email":
        return section(method, html`${sendForm("email", account?.email ?? "")}${codeForm("email")}`);
      case "totp":
        return section(method, codeForm("totp", t("login.totp.code")));
      case "recovery_code":
        return section(method, codeForm("recovery_code", t("login.recovery_code.code")));
      case "upstream":
        return section(method, html`<p>${t("login.activate_2fa.upstream.intro")}</p>${upstreamSections(ctx, upstreams, stepUp)}`);
      case "passkey":
        return section(
          method,
          html`<form method="post" action="${action}" id="passkey-form">
${Object.entries(hidden({ method: "passkey" })).map(([n, v]) => html`<input type="hidden" name="${n}" value="${v}">`)}
<input type="hidden" name="response" value="">
<button type="button" class="button primary" data-passkey-assert="${JSON.stringify(flow.data.passkey?.options ?? {})}" data-form="passkey-form">${t("login.with_passkey.button")}</button>
<p class="field-error" data-passkey-status role="status"></p></form>`,
        );
      default:
        return html``;
    }
  });
  const lost = localized(tenant.policy.factors.lostFactorProcedure, ctx.locale, tenant.defaultLocale);
  return flowPage(ctx, {
    title: t("login.second_factor.title"),
    intro: t("login.second_factor.intro"),
    notice: input.notice,
    state,
    scripts: SCRIPTS,
    flowId: flow.id,
    content: html`<div class="factors">${sections}</div>${lost ? html`<p class="aside"><strong>${t("login.lost_factor")}</strong> ${lost}</p>` : ""}${cancelToService(ctx, tenant, flow.data.returnTo, state)}`,
  });
}

/**
 * When the sign-in is for an application, a way to give up and go back to it: an OpenID Connect
 * client then learns that the sign-in was cancelled (`access_denied`); a SAML service provider
 * gets the SPID ErrorCode of what this page reported (locked out, no credential for the level,
 * identity suspended or revoked), or "cancelled by the user".
 */
function cancelToService(ctx: PageContext, tenant: Tenant, returnTo: string | undefined, state?: FormState): SafeHtml | string {
  const uid = returnTo ? new RegExp(`^/t/${tenant.id}/authorize/([^/?]+)`).exec(returnTo)?.[1] : undefined;
  if (uid) {
    return html`<form method="post" action="/t/${tenant.id}/authorize/${uid}/abort" class="inline-form"><button type="submit" class="button link">${ctx.t("login.cancel_to_service")}</button></form>`;
  }
  const ticket = returnTo ? new RegExp(`^/t/${tenant.id}/saml/sso/([^/?]+)$`).exec(returnTo)?.[1] : undefined;
  if (!ticket) return "";
  const outcome = state?.errors.find((e) => ["locked", "no_second_factor", "suspended", "revoked"].includes(e.code))?.code;
  return html`<form method="post" action="/t/${tenant.id}/saml/sso/${ticket}/abort" class="inline-form">${outcome ? html`<input type="hidden" name="outcome" value="${outcome}">` : ""}<button type="submit" class="button link">${ctx.t("login.cancel_to_service")}</button></form>`;
}

/**
 * The 2FA activation (seed 001): the citizenship question first where the account does not say;
 * then "Attiva 2FA con SPID/CIE" (the upstream buttons), "Hai problemi con SPID o CIE?" with the
 * declaration, or the authenticator app, as the step offers them.
 */
function activationContent(
  ctx: PageContext,
  input: { action: string; hidden: Record<string, string>; fields: FieldSpec[]; state: FormState; upstreams: UpstreamButton[]; stepUp: (u: UpstreamButton) => string },
): SafeHtml {
  const { t } = ctx;
  const { action, hidden, fields, state } = input;
  if (fields.some((f) => f.name === "citizenship")) return flowForm({ action, hidden, fields, submit: t("enrol.submit") }, state);
  const offered = (field(fields, "choice").options ?? []).map((o) => o.value);
  const declaration = fields.find((f) => f.name === "declaration");
  const choiceForm = (choice: string, extra: FieldSpec[], submit: string) => flowForm({ action, hidden: { ...hidden, choice }, fields: extra, submit }, state);
  return html`${offered.includes("upstream") && input.upstreams.length > 0 ? html`<section class="factor" aria-labelledby="activate-upstream"><h2 id="activate-upstream">${t("login.activate_2fa.upstream")}</h2><p>${t("login.activate_2fa.upstream.intro")}</p>${upstreamSections(ctx, input.upstreams, input.stepUp)}</section>` : ""}
${offered.includes("totp") ? html`<section class="factor" aria-labelledby="activate-app"><h2 id="activate-app">${t("login.activate_2fa.app")}</h2><p>${t("login.activate_2fa.app.intro")}</p>${choiceForm("totp", [], t("login.activate_2fa.choose_app"))}</section>` : ""}
${offered.includes("declare") && declaration ? html`<details class="problems"${state.errors.some((e) => e.field === "declaration") ? html` open` : ""}><summary>${t("login.activate_2fa.problems")}</summary><section class="factor" aria-labelledby="activate-declare"><h2 id="activate-declare">${t("login.activate_2fa.declare")}</h2>${choiceForm("declare", [{ ...declaration, required: true }], t("login.activate_2fa.declare"))}</section></details>` : ""}
${offered.length === 1 && offered[0] === "upstream" ? html`<p class="notice">${t("login.activate_2fa.declared_before")}</p>` : ""}`;
}
