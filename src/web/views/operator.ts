import type { Account } from "../../identity/accounts.ts";
import type { Operator } from "../../identity/operators.ts";
import { type ProofingCase, REJECTION_REASONS } from "../../flows/proofing/cases.ts";
import { IN_PERSON_CHECKS } from "../../flows/proofing/in-person.ts";
import { VIDEO_CHECKS } from "../../flows/proofing/video.ts";
import { DOCUMENT_TYPES } from "../../flows/enrolment/steps/enter-personal-data.ts";
import type { EvidenceInfo } from "../../store/repos/proofing.ts";
import { formatDate } from "../../shared/i18n/dates.ts";
import type { MessageKey } from "../../shared/i18n/translate.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { errorSummary, type FormState } from "./form.ts";
import { html, type SafeHtml } from "./html.ts";
import { layout, type PageContext } from "./layout.ts";

export interface QueueRow {
  proofing: ProofingCase;
  account: Account;
}

export interface Dashboard {
  operator: Operator;
  queues: { title: string; rows: QueueRow[] }[];
  search?: { term: string; rows: QueueRow[] };
}

const methodKey = (method: string) => `enrol.method.${method}` as MessageKey;

function table(ctx: PageContext, tenant: Tenant, rows: QueueRow[]): SafeHtml {
  const { t } = ctx;
  if (rows.length === 0) return html`<p>${t("operator.queue.empty")}</p>`;
  const when = (ms: number | null) => (ms === null ? "—" : formatDate(ms, ctx.locale, tenant.policy.timeZone, "shortDateTime"));
  return html`<table class="data"><thead><tr><th>${t("operator.request")}</th><th>${t("operator.applicant")}</th><th>${t("enrol.field.fiscal_code")}</th><th>${t("enrol.field.method")}</th><th>${t("operator.state")}</th><th>${t("operator.when")}</th></tr></thead><tbody>
${rows.map(
  (r) => html`<tr><td><a href="/t/${tenant.id}/operator/cases/${r.proofing.id}">${r.proofing.request}</a></td><td>${r.account.givenName ?? ""} ${r.account.familyName ?? ""}</td><td>${r.account.fiscalCode ?? "—"}</td><td>${t(methodKey(r.proofing.method))}${r.proofing.point ? html` · ${r.proofing.point}` : ""}</td><td>${t(`operator.case.${r.proofing.state}` as MessageKey)}</td><td>${when(r.proofing.bookedAt ?? r.proofing.createdAt)}</td></tr>`,
)}</tbody></table>`;
}

/** The console's first page: the operator's queues, and a search by codice fiscale or request number. */
export function dashboardPage(ctx: PageContext, tenant: Tenant, data: Dashboard): SafeHtml {
  const { t } = ctx;
  return layout(ctx, {
    title: `${t("operator.title")} · ${tenant.displayName}`,
    body: html`<div class="panel-header"><h1>${t("operator.title")}</h1>
<form method="post" action="/t/${tenant.id}/logout" class="inline-form"><button type="submit" class="button">${t("account.logout")}</button></form></div>
<p>${data.operator.roles.map((r) => `${t(`operator.role.${r.role}` as MessageKey)}${r.point ? ` (${tenant.policy.enrolment?.points.find((p) => p.id === r.point)?.name ?? r.point})` : ""}`).join(" · ")}</p>
<form method="get" action="/t/${tenant.id}/operator" class="inline-form" role="search"><label for="field-q">${t("operator.search")}</label>
<input type="search" id="field-q" name="q" value="${data.search?.term ?? ""}" autocomplete="off"> <button type="submit" class="button">${t("operator.search.submit")}</button></form>
${data.search ? html`<section class="panel"><h2>${t("operator.search.results", { term: data.search.term })}</h2>${table(ctx, tenant, data.search.rows)}</section>` : ""}
${data.queues.map((q) => html`<section class="panel"><h2>${q.title}</h2>${table(ctx, tenant, q.rows)}</section>`)}`,
  });
}

export interface CasePage {
  operator: Operator;
  proofing: ProofingCase;
  account: Account;
  evidence: EvidenceInfo[];
  /** What this operator may do now. */
  can: { inPerson: boolean; video: boolean; confirm: boolean; reject: boolean };
  decidedBy: string | null;
}

/**
 * A case: the applicant's declared data beside what the operator checks (seed 000: document, health
 * card), the evidence kept (each download logged), and the forms of what this operator may do.
 */
export function casePage(ctx: PageContext, tenant: Tenant, data: CasePage, state: FormState, notice?: string): SafeHtml {
  const { t } = ctx;
  const { proofing, account } = data;
  const base = `/t/${tenant.id}/operator/cases/${proofing.id}`;
  const when = (ms: number | null) => (ms === null ? "—" : formatDate(ms, ctx.locale, tenant.policy.timeZone, "shortDateTime"));
  const row = (label: string, value: string | null | undefined) => html`<div><dt>${label}</dt><dd>${value ?? "—"}</dd></div>`;
  const value = (name: string) => state.values[name] ?? "";
  const checks = (list: readonly string[]) =>
    html`<fieldset><legend>${t("operator.checks")}</legend>${list.map((c) => html`<div class="field checkbox"><input type="checkbox" id="check-${c}" name="checks" value="${c}"><label for="check-${c}">${t(`operator.check.${c}` as MessageKey)}</label></div>`)}</fieldset>`;
  const rejectFields = html`<div class="field"><label for="field-reason">${t("operator.reason")}</label><select id="field-reason" name="reason">${REJECTION_REASONS.map((r) => html`<option value="${r}">${t(`proofing.reason.${r}` as MessageKey)}</option>`)}</select></div>
<div class="field"><label for="field-note">${t("operator.note")}</label><textarea id="field-note" name="note" rows="2" maxlength="1000"></textarea></div>`;
  const decision = html`<div class="field"><span>${t("operator.decision")}</span>
<div class="field radio"><input type="radio" id="decision-approve" name="decision" value="approve" checked><label for="decision-approve">${t("operator.approve")}</label></div>
<div class="field radio"><input type="radio" id="decision-reject" name="decision" value="reject"><label for="decision-reject">${t("operator.reject")}</label></div></div>`;
  const input = (name: string, label: MessageKey, type = "text") => html`<div class="field"><label for="field-${name}">${t(label)}</label><input type="${type}" id="field-${name}" name="${name}" value="${value(name)}"></div>`;

  const inPersonForm = data.can.inPerson
    ? html`<section class="panel"><h2>${t("operator.in_person.title")}</h2>
<form method="post" action="${base}/in-person" enctype="multipart/form-data" class="stack">
<div class="field"><label for="field-document_type">${t("enrol.field.document_type")}</label><select id="field-document_type" name="document_type">${DOCUMENT_TYPES.map((d) => html`<option value="${d}"${(value("document_type") || account.documentType) === d ? html` selected` : ""}>${t(`enrol.document.${d}` as MessageKey)}</option>`)}</select></div>
${input("document_number", "enrol.field.document_number")}${input("document_issuer", "enrol.field.document_issuer")}
${input("document_issue_date", "enrol.field.document_issue_date", "date")}${input("document_expiry_date", "enrol.field.document_expiry_date", "date")}
${input("health_card_number", "enrol.field.health_card_number")}${input("health_card_expiry", "enrol.field.health_card_expiry", "date")}
<div class="field"><label for="field-document_front">${t("operator.document_front")}</label><input type="file" id="field-document_front" name="document_front" accept="image/jpeg,image/png"></div>
<div class="field"><label for="field-document_back">${t("operator.document_back")}</label><input type="file" id="field-document_back" name="document_back" accept="image/jpeg,image/png"></div>
${checks(IN_PERSON_CHECKS)}${decision}${rejectFields}
<button type="submit" class="button primary">${t("operator.record")}</button></form></section>`
    : "";

  const videoForms = data.can.video
    ? html`<section class="panel"><h2>${t("operator.video.title")}</h2>
<p>${t("operator.video.booked", { date: when(proofing.bookedAt) })}</p>
<ol class="script">
<li>${t("operator.video.script.consent")}</li><li>${t("operator.video.script.questions")}</li>
<li>${t("operator.video.script.code")} <form method="post" action="${base}/video/code" class="inline-form"><button type="submit" class="button">${t("operator.video.send_code")}</button></form>
${proofing.data.video?.codeSentAt ? html`<form method="post" action="${base}/video/confirm" class="inline-form"><label for="field-code">${t("operator.video.code_heard")}</label><input id="field-code" name="code" inputmode="numeric" autocomplete="off"> <button type="submit" class="button">${t("operator.video.confirm_code")}</button></form>` : ""}
${proofing.data.video?.codeConfirmedAt ? html`<p class="notice" role="status">${t("operator.video.code_confirmed")}</p>` : ""}</li>
<li>${t("operator.video.script.documents")}</li></ol>
<form method="post" action="${base}/video/decision" enctype="multipart/form-data" class="stack">
<div class="field"><label for="field-recording">${t("operator.video.recording")}</label><input type="file" id="field-recording" name="video_recording"></div>
<div class="field"><label for="field-snapshot">${t("operator.video.snapshot")}</label><input type="file" id="field-snapshot" name="video_snapshot" accept="image/*"></div>
${checks(VIDEO_CHECKS)}${decision}${rejectFields}
<button type="submit" class="button primary">${t("operator.record")}</button></form></section>`
    : "";

  const confirmForms = data.can.confirm
    ? html`<section class="panel"><h2>${t("operator.confirm.title")}</h2><p>${t("operator.confirm.intro", { operator: data.decidedBy ?? "—" })}</p>
<form method="post" action="${base}/confirm" class="inline-form"><button type="submit" class="button primary">${t("operator.confirm")}</button></form></section>`
    : "";
  const rejectForm = data.can.reject
    ? html`<section class="panel"><h2>${t("operator.reject")}</h2><form method="post" action="${base}/reject" class="stack">${rejectFields}<button type="submit" class="button danger">${t("operator.reject")}</button></form></section>`
    : "";

  return layout(ctx, {
    title: `${t("operator.request")} ${proofing.request} · ${tenant.displayName}`,
    body: html`<p><a href="/t/${tenant.id}/operator">${t("operator.back")}</a></p>
<h1>${t("operator.request")} ${proofing.request}</h1>
${notice ? html`<div class="notice" role="status">${notice}</div>` : ""}${errorSummary(state)}
<div class="columns"><section class="panel"><h2>${t("operator.declared")}</h2><dl>
${row(t("enrol.field.given_name"), account.givenName)}${row(t("enrol.field.family_name"), account.familyName)}${row(t("enrol.field.fiscal_code"), account.fiscalCode)}
${row(t("enrol.field.sex"), account.sex)}${row(t("enrol.field.birth_date"), account.birthDate)}${row(t("enrol.field.birth_place"), account.birthPlace)}
${row(t("enrol.field.document_type"), account.documentType ? t(`enrol.document.${account.documentType}` as MessageKey) : null)}${row(t("enrol.field.document_number"), account.documentNumber)}
${row(t("enrol.field.document_issuer"), account.documentIssuer)}${row(t("enrol.field.document_expiry_date"), account.documentExpiryDate)}
${row(t("enrol.field.health_card_number"), account.healthCardNumber)}${row(t("enrol.field.health_card_expiry"), account.healthCardExpiry)}
${row(t("enrol.field.email"), account.email)}${row(t("enrol.field.mobile"), account.phone)}
</dl></section>
<section class="panel"><h2>${t("operator.case")}</h2><dl>
${row(t("enrol.field.method"), t(methodKey(proofing.method)))}${row(t("enrol.field.point"), proofing.point)}${row(t("operator.state"), t(`operator.case.${proofing.state}` as MessageKey))}
${row(t("operator.opened"), when(proofing.createdAt))}${proofing.decidedAt ? row(t("operator.decided"), when(proofing.decidedAt)) : ""}
${proofing.reason ? row(t("operator.reason"), t(`proofing.reason.${proofing.reason}` as MessageKey)) : ""}${proofing.data.note ? row(t("operator.note"), proofing.data.note) : ""}
</dl>
<h3>${t("operator.evidence")}</h3>${data.evidence.length === 0 ? html`<p>${t("operator.queue.empty")}</p>` : html`<ul>${data.evidence.map((e) => html`<li><a href="${base}/evidence/${e.id}">${t(`operator.evidence.${e.kind}` as MessageKey)}</a> · ${String(e.size)} B · <code>${e.sha256.slice(0, 16)}…</code></li>`)}</ul>`}
</section></div>
${inPersonForm}${videoForms}${confirmForms}${rejectForm}`,
  });
}
