import type { FieldSpec } from "../../flows/flow.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { flowForm, flowPage } from "./flow-page.ts";
import type { FormState } from "./form.ts";
import { html, type SafeHtml } from "./html.ts";
import type { PageContext } from "./layout.ts";

/** A step of "Registrati": the citizenship question, the details, the e-mail code. */
export function registrationPage(
  ctx: PageContext,
  tenant: Tenant,
  input: { step: string; action: string; hidden: Record<string, string>; fields: FieldSpec[]; state: FormState; notice?: string | undefined; flowId?: string | undefined },
): SafeHtml {
  const { t } = ctx;
  const back = input.step === "details" && input.flowId ? html`<p><a href="/t/${tenant.id}/register/${input.flowId}?step=citizenship">${t("register.field.citizenship")}</a></p>` : "";
  return flowPage(ctx, {
    title: `${t("register.title")} · ${tenant.displayName}`,
    intro: t(`register.step.${input.step as "citizenship"}`),
    notice: input.notice,
    state: input.state,
    scripts: ["/assets/enrolment.js"],
    ...(input.flowId ? { flowId: input.flowId } : {}),
    content: html`${flowForm({ action: input.action, hidden: input.hidden, fields: input.fields, submit: t("enrol.submit") }, input.state)}${back}`,
  });
}

/** Registered: the codice persona assigned, and the way in. */
export function registrationDonePage(ctx: PageContext, tenant: Tenant, result: { codicePersona: string }): SafeHtml {
  const { t } = ctx;
  return flowPage(ctx, {
    title: t("register.done.title"),
    state: { errors: [], t, values: {} },
    content: html`<p>${t("register.your_codice_persona")}: <strong id="codice-persona">${result.codicePersona}</strong></p>
<p>${t("register.done", { codice_persona: result.codicePersona })}</p>
<p><a class="button primary" href="/t/${tenant.id}/login">${t("login.submit")}</a></p>`,
  });
}
