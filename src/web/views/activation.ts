import type { ActivationData } from "../../flows/activation/data.ts";
import type { FieldSpec, Flow } from "../../flows/flow.ts";
import type { MessageKey } from "../../shared/i18n/translate.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { flowForm, flowPage } from "./flow-page.ts";
import { type FormState, renderField } from "./form.ts";
import { html, type SafeHtml } from "./html.ts";
import type { PageContext } from "./layout.ts";

/** The step numbers of seed 002's six (the first is the e-mail with the link). */
const NUMBER: Record<string, number> = { code: 2, identity: 3, password: 4, terms: 5, final_code: 6 };

/**
 * A step of the activation: "Step n of 6", what it asks, its form. The code steps have a second
 * form, for a new code (by SMS or e-mail); the terms step shows the terms above the acceptance.
 */
export function activationStepPage(ctx: PageContext, tenant: Tenant, input: { flow: Flow<ActivationData>; fields: FieldSpec[]; state: FormState; notice?: string | undefined }): SafeHtml {
  const { t } = ctx;
  const { flow, fields, state } = input;
  const step = flow.step!;
  const action = `/t/${tenant.id}/activate/${flow.id}`;
  const hidden = { csrf_token: flow.csrfToken, step };
  const isCode = step === "code" || step === "final_code";
  const code = fields.filter((f) => f.name === "code");
  const channel = fields.find((f) => f.name === "channel");
  const resend = isCode
    ? html`<form method="post" action="${action}" class="flow-form" novalidate>
${Object.entries({ ...hidden, send: "on" }).map(([n, v]) => html`<input type="hidden" name="${n}" value="${v}">`)}
${channel ? renderField({ ...channel, required: false }, state, "resend-") : ""}
<button type="submit" class="button">${t("activation.send_again")}</button></form>`
    : "";
  const terms = step === "terms" ? html`<div class="terms" tabindex="0" aria-label="${t("activation.terms.title")}"><h2>${t("activation.terms.title")}</h2>${t("activation.terms.text").split("\n\n").map((p) => html`<p>${p}</p>`)}</div>` : "";
  return flowPage(ctx, {
    title: t("activation.step", { number: NUMBER[step] ?? 0, title: t(`activation.${step}.title` as MessageKey) }),
    intro: t(`activation.${step}.intro` as MessageKey, { to: flow.data.sentTo ?? "" }),
    notice: input.notice,
    state,
    flowId: flow.id,
    scripts: ["/assets/enrolment.js"],
    content: html`${terms}${flowForm({ action, hidden, fields: isCode ? code : fields, submit: t(step === "final_code" ? "activation.finish" : "enrol.submit") }, state)}${resend}`,
  });
}

/** The end: the identity active, the certificates issued, and the way in. */
export function activationDonePage(ctx: PageContext, tenant: Tenant, flow: Flow<ActivationData>): SafeHtml {
  const { t } = ctx;
  const issued = flow.data.issued ?? [];
  return flowPage(ctx, {
    title: t("activation.done.title"),
    state: { errors: [], t, values: {} },
    content: html`<p>${t("activation.done.intro")}</p>
${issued.length > 0 ? html`<h2>${t("activation.done.certificates")}</h2><ul class="certificates">${issued.map((c) => html`<li><strong>${c.organization}</strong><br><code>${c.subject}</code><br>${t("account.certificate.serial")}: <code>${c.serial}</code></li>`)}</ul>` : ""}
<p><a class="button primary" href="/t/${tenant.id}/login?return_to=${encodeURIComponent(`/t/${tenant.id}/account`)}">${t("login.submit")}</a></p>`,
  });
}
