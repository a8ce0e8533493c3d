import type { FieldSpec, Flow } from "../../flows/flow.ts";
import type { LoginData } from "../../flows/login/data.ts";
import { maskContact } from "../../identity/identifiers.ts";
import type { Account } from "../../identity/accounts.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { localized } from "./tenant-home.ts";
import { type FormState, renderField } from "./form.ts";
import { flowForm, flowPage } from "./flow-page.ts";
import { html, type SafeHtml } from "./html.ts";
import type { PageContext } from "./layout.ts";

const SCRIPTS = ["/assets/passkeys.js", "/assets/enrolment.js"];
const field = (fields: FieldSpec[], name: string) => fields.find((f) => f.name === name)!;

/**
 * The sign-in page: the ways in this tenant offers (seed 002's "portal" shows such a choice):
 * the password, a passkey where it signs in alone, and the way to an identity when there is none.
 * Ways that arrive later (SPID/CIE through the broker) are not listed until they work.
 */
export function loginPage(
  ctx: PageContext,
  tenant: Tenant,
  input: { fields: FieldSpec[]; state: FormState; level: number; returnTo: string | undefined; notice?: string | undefined },
): SafeHtml {
  const { t } = ctx;
  const base = `/t/${tenant.id}`;
  const hidden: Record<string, string> = { level: String(input.level), ...(input.returnTo ? { return_to: input.returnTo } : {}) };
  return flowPage(ctx, {
    title: t("login.title", { tenant: tenant.displayName }),
    notice: input.notice,
    intro: input.level === 2 ? t("login.level2.intro") : undefined,
    state: input.state,
    scripts: SCRIPTS,
    content: html`<div class="ways-in">
<section aria-labelledby="with-password">
  <h2 id="with-password">${t("login.with_password")}</h2>
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
${cancelToService(ctx, tenant, input.returnTo, input.state)}
${
  tenant.policy.registration.enabled
    ? html`<section aria-labelledby="no-account"><h2 id="no-account">${t("register.title")}</h2><p><a class="button" href="${base}/register">${t("login.register")}</a></p></section>`
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
  input: { flow: Flow<LoginData>; step: string; fields: FieldSpec[]; state: FormState; notice?: string | undefined; account: Account | undefined },
): SafeHtml {
  const { t } = ctx;
  const { flow, step, fields, state, account } = input;
  const action = `/t/${tenant.id}/login/${flow.id}`;
  const hidden = (extra: Record<string, string> = {}) => ({ csrf_token: flow.csrfToken, step, ...extra });

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
