import type { EnrolmentData } from "../../flows/enrolment/data.ts";
import { ENROLMENT_STEPS } from "../../flows/enrolment/flow.ts";
import type { FieldSpec, Flow } from "../../flows/flow.ts";
import type { Account } from "../../identity/accounts.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { errorSummary, type FormState, renderField } from "./form.ts";
import { html, type SafeHtml } from "./html.ts";
import { layout, type PageContext } from "./layout.ts";

const SCRIPTS = ["/assets/enrolment.js"];

function base(tenant: Tenant): string {
  return `/t/${tenant.id}/enrol`;
}

function progress(ctx: PageContext, step: string): SafeHtml | "" {
  const n = (ENROLMENT_STEPS as readonly string[]).indexOf(step === "password_change" ? "credentials" : step) + 1;
  return n > 0 ? html`<p class="progress">${ctx.t("enrol.progress", { n, total: ENROLMENT_STEPS.length })}</p>` : "";
}

function hidden(flow: Flow<EnrolmentData>, step: string): SafeHtml {
  return html`<input type="hidden" name="csrf_token" value="${flow.csrfToken}"><input type="hidden" name="step" value="${step}">`;
}

const field = (fields: FieldSpec[], name: string) => fields.find((f) => f.name === name)!;

/** The first page: what is needed, and the choice of identification method (no flow exists yet). */
export function enrolmentStartPage(ctx: PageContext, tenant: Tenant, fields: FieldSpec[], state: FormState): SafeHtml {
  const { t } = ctx;
  return layout(ctx, {
    title: `${t("enrol.title")} · ${tenant.displayName}`,
    scripts: SCRIPTS,
    body: html`<h1>${t("enrol.title")}</h1>
<p class="lead">${t("enrol.intro")}</p>
${errorSummary(state)}
<form method="post" action="${base(tenant)}" class="flow-form" novalidate>
  <h2>${t("enrol.step.method.title")}</h2>
  <p>${t("enrol.step.method.intro")}</p>
  ${fields.map((f) => renderField(f, state))}
  <button type="submit" class="button primary">${t("enrol.start")}</button>
</form>
<p class="aside"><a href="${base(tenant)}/resume">${t("enrol.resume.link")}</a></p>`,
  });
}

export interface StepPageInput {
  tenant: Tenant;
  flow: Flow<EnrolmentData>;
  step: string;
  fields: FieldSpec[];
  state: FormState;
  account: Account | undefined;
  notice?: string | undefined;
}

/** A step of a request in progress: its form, and a way back where going back is allowed. */
export function enrolmentStepPage(ctx: PageContext, page: StepPageInput): SafeHtml {
  const { t } = ctx;
  const { tenant, flow, step, fields, state, account } = page;
  const action = `${base(tenant)}/${flow.id}`;
  const form = (content: SafeHtml, submit: string, extraClass = "") =>
    html`<form method="post" action="${action}" class="flow-form${extraClass}" novalidate>${hidden(flow, step)}${content}<button type="submit" class="button primary">${submit}</button></form>`;

  let body: SafeHtml;
  switch (step) {
    case "method":
      body = form(html`<p>${t("enrol.step.method.intro")}</p>${fields.map((f) => renderField(f, state))}`, t("enrol.submit"));
      break;
    case "credentials": {
      const newFields = ["email", "password", "privacy_consent", "marketing_consent", "captcha"].map((n) => field(fields, n));
      const existing = ["customer_email", "customer_password"].map((n) => field(fields, n));
      const privacy = field(fields, "privacy_consent");
      body = html`<div class="two-columns">
<section aria-labelledby="new-customer">
  <h2 id="new-customer">${t("enrol.step.credentials.new")}</h2>
  <p>${t("enrol.step.credentials.new.intro")}</p>
  ${form(html`${newFields.map((f) => renderField(f, state))}`, t("enrol.submit"))}
</section>
<section aria-labelledby="existing-customer">
  <h2 id="existing-customer">${t("enrol.step.credentials.existing")}</h2>
  <p>${t("enrol.step.credentials.existing.intro")}</p>
  ${form(html`${existing.map((f) => renderField(f, state))}${renderField(privacy, { ...state, errors: [] }, "existing-")}`, t("enrol.step.credentials.existing.submit"), " secondary")}
</section>
</div>
<p class="aside"><a href="${action}?step=method">${t("enrol.back")}</a></p>`;
      break;
    }
    case "email_confirmation":
    case "mobile_confirmation": {
      const intro =
        step === "email_confirmation"
          ? t("enrol.step.email_confirmation.intro", { email: account?.email ?? "" })
          : t("enrol.step.mobile_confirmation.intro", { mobile: account?.phone ?? "" });
      body = html`<p>${intro}</p>
${form(html`${renderField(field(fields, "code"), state)}`, t("enrol.submit"))}
<form method="post" action="${action}" class="inline-form">${hidden(flow, step)}<input type="hidden" name="resend" value="on"><button type="submit" class="button link">${field(fields, "resend").label}</button></form>
${step === "mobile_confirmation" ? html`<p class="aside"><a href="${action}?step=security">${t("enrol.step.mobile_confirmation.change")}</a></p>` : ""}`;
      break;
    }
    case "security":
      body = html`<p>${t("enrol.step.security.intro")}</p>${form(html`${fields.map((f) => renderField(f, state))}`, t("enrol.submit"))}`;
      break;
    case "personal_data":
      body = html`<p>${t("enrol.step.personal_data.intro")}</p>${form(html`${fields.map((f) => renderField(f, state))}`, t("enrol.submit"))}`;
      break;
    case "summary":
      body = html`<p>${t("enrol.step.summary.intro")}</p>
${summaryOf(ctx, tenant, flow, account, `${action}?step=personal_data`)}
${form(html`${fields.map((f) => renderField(f, state))}`, t("enrol.step.summary.submit"))}`;
      break;
    default:
      body = form(html`${fields.map((f) => renderField(f, state))}`, t("enrol.submit"));
  }

  const title = t(`enrol.step.${step as "method"}.title`);
  return layout(ctx, {
    title: `${title} · ${t("enrol.title")}`,
    scripts: SCRIPTS,
    body: html`${progress(ctx, step)}
<h1>${title}</h1>
${page.notice ? html`<div class="notice" role="status">${page.notice}</div>` : ""}
${errorSummary(state)}
<div data-flow="${flow.id}">${body}</div>`,
  });
}

/** Everything entered, for review, grouped as the contract lists it. */
function summaryOf(ctx: PageContext, tenant: Tenant, flow: Flow<EnrolmentData>, account: Account | undefined, editUrl: string): SafeHtml {
  const { t } = ctx;
  const p = flow.data.personal ?? {};
  const point = tenant.policy.enrolment?.points.find((x) => x.id === flow.data.point);
  const row = (label: string, value: string | null | undefined) => html`<div><dt>${label}</dt><dd>${value ?? ""}</dd></div>`;
  const section = (title: string, rows: SafeHtml[], edit = true) =>
    html`<section class="summary-section"><h2>${title}</h2><dl>${rows}</dl>${edit ? html`<p><a href="${editUrl}">${t("enrol.edit")}</a></p>` : ""}</section>`;
  return html`${section(t("enrol.summary.identification"), [
    row(t("enrol.field.method"), flow.data.method ? t(`enrol.method.${flow.data.method}`) : ""),
    ...(point ? [row(t("enrol.field.point"), `${point.name} – ${point.address}`)] : []),
  ], false)}
${section(t("enrol.summary.access"), [row(t("enrol.field.email"), account?.email)], false)}
${section(t("enrol.summary.contacts"), [row(t("enrol.field.mobile"), account?.phone), row(t("enrol.field.pec"), p.pec)], false)}
${section(t("enrol.summary.personal"), [
  row(t("enrol.field.given_name"), p.given_name),
  row(t("enrol.field.family_name"), p.family_name),
  row(t("enrol.field.sex"), p.sex ? t(`enrol.sex.${p.sex.toUpperCase() as "F"}`) : ""),
  row(t("enrol.field.birth_date"), p.birth_date),
  row(t("enrol.field.birth_place"), p.birth_place),
  row(t("enrol.field.fiscal_code"), account?.fiscalCode),
])}
${section(t("enrol.summary.document"), [
  row(t("enrol.field.document_type"), p.document_type ? t(`enrol.document.${p.document_type as "passaporto"}`) : ""),
  row(t("enrol.field.document_number"), account?.documentNumber),
  row(t("enrol.field.document_issuer"), p.document_issuer),
  row(t("enrol.field.document_issue_date"), p.document_issue_date),
  row(t("enrol.field.document_expiry_date"), p.document_expiry_date),
])}
${section(t("enrol.summary.health_card"), [row(t("enrol.field.health_card_number"), account?.healthCardNumber), row(t("enrol.field.health_card_expiry"), p.health_card_expiry)])}
${section(t("enrol.summary.residence"), [row(t("enrol.field.address"), p.address), row(t("enrol.field.postal_code"), p.postal_code), row(t("enrol.field.city"), p.city), row(t("enrol.field.province"), account?.province)])}`;
}

/** After submission: the request number and what to do next for the chosen method. */
export function enrolmentDonePage(ctx: PageContext, result: { request: string; nextSteps: string; email: string | null }): SafeHtml {
  const { t } = ctx;
  return layout(ctx, {
    title: `${t("enrol.done.title")} · ${t("enrol.title")}`,
    body: html`<section class="done" role="status">
<h1>${t("enrol.done.title")}</h1>
<p class="request-number">${t("enrol.done.request", { request: result.request })}</p>
<h2>${t("enrol.done.next")}</h2>
<p>${result.nextSteps}</p>
${result.email ? html`<p class="hint">${t("enrol.done.email", { email: result.email })}</p>` : ""}
</section>`,
  });
}

/** Coming back to a request: sign in with the e-mail address and password chosen in it. */
export function enrolmentResumePage(ctx: PageContext, tenant: Tenant, state: FormState, message?: string): SafeHtml {
  const { t } = ctx;
  const fields: FieldSpec[] = [
    { name: "email", type: "email", required: true, label: t("enrol.field.email"), autocomplete: "username" },
    { name: "password", type: "password", required: true, label: t("enrol.field.password"), autocomplete: "current-password" },
  ];
  return layout(ctx, {
    title: `${t("enrol.resume.title")} · ${t("enrol.title")}`,
    body: html`<h1>${t("enrol.resume.title")}</h1>
${message ? html`<div class="notice" role="status">${message}</div>` : ""}
<p>${t("enrol.resume.intro")}</p>
${errorSummary(state)}
<form method="post" action="${base(tenant)}/resume" class="flow-form" novalidate>
  ${fields.map((f) => renderField(f, state))}
  <button type="submit" class="button primary">${t("enrol.resume.submit")}</button>
</form>`,
  });
}
