import type { FieldSpec, Flow } from "../../flows/flow.ts";
import type { MembershipRequestData } from "../../flows/membership-request/data.ts";
import { type Membership, REFUSAL_REASONS } from "../../flows/professionals/memberships.ts";
import type { Account } from "../../identity/accounts.ts";
import type { Organization } from "../../identity/organizations.ts";
import type { REVOCATION_REASONS } from "../../pki/revocation.ts";
import { formatDate } from "../../shared/i18n/dates.ts";
import type { MessageKey } from "../../shared/i18n/translate.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { flowForm, flowPage } from "./flow-page.ts";
import { errorSummary, type FormState, renderField } from "./form.ts";
import { html, type SafeHtml } from "./html.ts";
import { layout, type PageContext } from "./layout.ts";

/** Revocation reasons a holder or a representative may give (RFC 5280 §5.3.1), in the order offered. */
export const HOLDER_REASONS = ["keyCompromise", "cessationOfOperation", "affiliationChanged", "unspecified"] as const satisfies readonly (keyof typeof REVOCATION_REASONS)[];
export const REPRESENTATIVE_REASONS = ["affiliationChanged", "privilegeWithdrawn", "keyCompromise"] as const satisfies readonly (keyof typeof REVOCATION_REASONS)[];

const state = (t: PageContext["t"], m: Membership) => t(`professionals.state.${m.state}` as MessageKey);

/**
 * "Request your professional identity" (seed 002, "dos formas de solicitud"): with a professional
 * card, the form here then the card; or in person at one of the corporate desks listed.
 */
export function requestPage(ctx: PageContext, tenant: Tenant, input: { action: string; hidden: Record<string, string>; fields: FieldSpec[]; state: FormState; cardAvailable: boolean }): SafeHtml {
  const { t } = ctx;
  const desks = tenant.policy.professionals.desks;
  return flowPage(ctx, {
    title: t("professionals.request.title"),
    intro: t("professionals.request.intro"),
    state: input.state,
    content: html`<div class="ways-in">
<section aria-labelledby="with-card"><h2 id="with-card">${t("professionals.request.with_card")}</h2>
${input.cardAvailable ? html`<p>${t("professionals.request.with_card.intro")}</p>${flowForm({ action: input.action, hidden: input.hidden, fields: input.fields, submit: t("professionals.request.continue") }, input.state)}` : html`<p>${t("professionals.request.card_unavailable")}</p>`}
</section>
<section aria-labelledby="at-desk"><h2 id="at-desk">${t("professionals.request.at_desk")}</h2><p>${t("professionals.request.at_desk.intro")}</p>
${desks.length > 0 ? html`<ul>${desks.map((d) => html`<li><strong>${d.name}</strong>, ${d.address}</li>`)}</ul>` : ""}</section>
</div>`,
  });
}

/** The request waits for the card: what it is for, and the way to the card sign-in (or why the card was refused). */
export function requestCardPage(ctx: PageContext, tenant: Tenant, flow: Flow<MembershipRequestData>, organization: string, state: FormState): SafeHtml {
  const { t } = ctx;
  const r = flow.data.request ?? {};
  return flowPage(ctx, {
    title: t("professionals.request.card.title"),
    intro: t("professionals.request.card.intro", { organization }),
    state,
    flowId: flow.id,
    content: html`<dl><div><dt>${t("login.identifier.dni")}</dt><dd>${r.dni ?? ""}</dd></div><div><dt>${t("enrol.field.given_name")}</dt><dd>${r.given_name ?? ""} ${r.family_name ?? ""}</dd></div></dl>
<p><a class="button primary" href="/t/${tenant.id}/request/${flow.id}/card">${t("professionals.request.card.continue")}</a></p>`,
  });
}

/** Made: it waits for the organisation's representative, who will decide; the applicant hears either way. */
export function requestDonePage(ctx: PageContext, organization: string): SafeHtml {
  const { t } = ctx;
  return flowPage(ctx, { title: t("professionals.request.done.title"), state: { errors: [], t, values: {} }, content: html`<p>${t("professionals.request.done", { organization })}</p>` });
}

/** A membership as the consoles list it: who, since when, in what state, with the certificate's serial. */
function membershipRow(ctx: PageContext, tenant: Tenant, m: Membership, actions: SafeHtml | string): SafeHtml {
  const when = formatDate(m.createdAt, ctx.locale, tenant.policy.timeZone, "shortDateTime");
  return html`<tr><td>${m.givenName} ${m.familyName}</td><td>${m.dni}</td><td>${m.title ?? "—"}</td><td>${ctx.t(`professionals.channel.${m.evidence.channel}` as MessageKey)}</td><td>${when}</td><td>${state(ctx.t, m)}${m.certificateSerial ? html`<br><code>${m.certificateSerial}</code>` : ""}</td><td>${actions}</td></tr>`;
}

function membershipTable(ctx: PageContext, tenant: Tenant, rows: SafeHtml[]): SafeHtml {
  const { t } = ctx;
  if (rows.length === 0) return html`<p>${t("operator.queue.empty")}</p>`;
  return html`<table class="data"><thead><tr><th scope="col">${t("operator.applicant")}</th><th scope="col">${t("login.identifier.dni")}</th><th scope="col">${t("professionals.field.title")}</th><th scope="col">${t("professionals.channel")}</th><th scope="col">${t("operator.when")}</th><th scope="col">${t("operator.state")}</th><th scope="col"></th></tr></thead><tbody>${rows}</tbody></table>`;
}

export interface ConsoleOrganization {
  organization: Organization;
  requested: Membership[];
  members: Membership[];
}

/**
 * The representatives' console (seed 002: "una vez autorizada la solicitud por el representante
 * /responsable de cada entidad"): per organisation represented, the requests waiting (authorise,
 * or refuse with a reason), and the members (a new activation link for one who has not activated;
 * the end of a membership, which revokes its certificate).
 */
export function consolePage(ctx: PageContext, tenant: Tenant, data: { organizations: ConsoleOrganization[] }, formState: FormState, notice?: string): SafeHtml {
  const { t } = ctx;
  const base = `/t/${tenant.id}/organisations`;
  const post = (action: string, label: string, kind = "button", extra: SafeHtml | string = "") =>
    html`<form method="post" action="${action}" class="inline-form">${extra}<button type="submit" class="${kind}">${label}</button></form>`;
  const refuse = (m: Membership) =>
    html`<details><summary>${t("professionals.refuse")}</summary><form method="post" action="${base}/requests/${m.id}/refuse" class="stack">
<div class="field"><label for="reason-${m.id}">${t("operator.reason")}</label><select id="reason-${m.id}" name="reason">${REFUSAL_REASONS.map((r) => html`<option value="${r}">${t(`professionals.refusal.${r}`)}</option>`)}</select></div>
<div class="field"><label for="note-${m.id}">${t("operator.note")}</label><textarea id="note-${m.id}" name="note" rows="2" maxlength="500"></textarea></div>
<button type="submit" class="button danger">${t("professionals.refuse")}</button></form></details>`;
  const end = (m: Membership) =>
    html`<details><summary>${t("professionals.end")}</summary><form method="post" action="${base}/members/${m.id}/end" class="stack">
<div class="field"><label for="end-reason-${m.id}">${t("operator.reason")}</label><select id="end-reason-${m.id}" name="reason">${REPRESENTATIVE_REASONS.map((r) => html`<option value="${r}">${t(`professionals.revocation.${r}`)}</option>`)}</select></div>
<button type="submit" class="button danger">${t("professionals.end")}</button></form></details>`;
  const sections = data.organizations.map(
    ({ organization, requested, members }) => html`<section class="panel" aria-labelledby="org-${organization.id}"><h2 id="org-${organization.id}">${organization.name} <small>(${organization.taxId})</small></h2>
<h3>${t("professionals.console.requests")}</h3>
${membershipTable(ctx, tenant, requested.map((m) => membershipRow(ctx, tenant, m, html`${post(`${base}/requests/${m.id}/authorise`, t("professionals.authorise"), "button primary")}${refuse(m)}`)))}
<h3>${t("professionals.console.members")}</h3>
${membershipTable(ctx, tenant, members.map((m) => membershipRow(ctx, tenant, m, m.state === "authorised" ? post(`${base}/members/${m.id}/resend`, t("professionals.resend"), "button link") : end(m))))}
</section>`,
  );
  return layout(ctx, {
    title: `${t("professionals.console.title")} · ${tenant.displayName}`,
    body: html`<div class="panel-header"><h1>${t("professionals.console.title")}</h1><p><a href="/t/${tenant.id}/account">${t("account.title")}</a></p></div>
${notice ? html`<div class="notice" role="status">${notice}</div>` : ""}${errorSummary(formState)}
${data.organizations.length === 0 ? html`<p>${t("professionals.console.none")}</p>` : sections}`,
  });
}

/**
 * A corporate desk (seed 002: "con identificación presencial en un puesto corporativo"): the officer
 * checks the applicant's DNI face to face and records the request; below, what they recorded lately.
 */
export function deskPage(ctx: PageContext, tenant: Tenant, data: { desk: string; fields: FieldSpec[]; checks: readonly string[]; recorded: Membership[]; organizations: Map<string, string> }, formState: FormState, notice?: string): SafeHtml {
  const { t } = ctx;
  const desk = tenant.policy.professionals.desks.find((d) => d.id === data.desk);
  return layout(ctx, {
    title: `${t("professionals.desk.title")} · ${tenant.displayName}`,
    body: html`<div class="panel-header"><h1>${t("professionals.desk.title")}</h1>
<form method="post" action="/t/${tenant.id}/logout" class="inline-form"><button type="submit" class="button">${t("account.logout")}</button></form></div>
<p>${desk ? `${desk.name}, ${desk.address}` : data.desk}</p>
${notice ? html`<div class="notice" role="status">${notice}</div>` : ""}${errorSummary(formState)}
<section class="panel" aria-labelledby="h-new"><h2 id="h-new">${t("professionals.desk.new")}</h2>
<form method="post" action="/t/${tenant.id}/desk/requests" class="flow-form" novalidate>
${data.fields.map((f) => renderField(f, formState))}
<fieldset><legend>${t("operator.checks")}</legend>${data.checks.map((c) => html`<div class="field checkbox"><input type="checkbox" id="check-${c}" name="checks" value="${c}"><label for="check-${c}">${t(`professionals.desk.check.${c}` as MessageKey)}</label></div>`)}</fieldset>
<button type="submit" class="button primary">${t("professionals.desk.record")}</button></form></section>
<section class="panel" aria-labelledby="h-recorded"><h2 id="h-recorded">${t("professionals.desk.recorded")}</h2>
${membershipTable(ctx, tenant, data.recorded.map((m) => membershipRow(ctx, tenant, m, data.organizations.get(m.organizationId) ?? "")))}</section>`,
  });
}

export interface HolderCertificate {
  membership: Membership;
  organization: Organization;
}

/**
 * "Your certificates" in the panel (seed 002: "Revocar el certificado"): one per organisation, with
 * its state, serial and download, and its revocation (a reason, and a recent sign-in), effective
 * in the CRL and OCSP at once.
 */
export function certificatesSection(ctx: PageContext, tenant: Tenant, account: Account, certificates: HolderCertificate[], representative: boolean): SafeHtml {
  const { t } = ctx;
  const base = `/t/${tenant.id}/account/certificates`;
  const when = (ms: number | null) => (ms === null ? "—" : formatDate(ms, ctx.locale, tenant.policy.timeZone, "shortDateTime"));
  const revoke = (c: HolderCertificate) =>
    html`<details><summary>${t("account.certificate.revoke")}</summary><form method="post" action="${base}/${c.membership.id}/revoke" class="stack">
<p>${t("account.certificate.revoke.intro")}</p>
<div class="field"><label for="revoke-reason-${c.membership.id}">${t("operator.reason")}</label><select id="revoke-reason-${c.membership.id}" name="reason">${HOLDER_REASONS.map((r) => html`<option value="${r}">${t(`professionals.revocation.${r}`)}</option>`)}</select></div>
<button type="submit" class="button danger">${t("account.certificate.revoke.confirm", { organization: c.organization.name })}</button></form></details>`;
  return html`<section class="panel" id="certificates" aria-labelledby="h-certificates"><h2 id="h-certificates">${t("account.certificates")}</h2>
${tenant.policy.signing.enabled && certificates.some((c) => c.membership.state === "active") ? html`<p><a class="button primary" href="/t/${tenant.id}/account/sign">${t("account.sign")}</a></p>` : ""}
${representative ? html`<p><a class="button" href="/t/${tenant.id}/organisations">${t("professionals.console.title")}</a></p>` : ""}
${
  certificates.length === 0
    ? html`<p>${t("account.none")}</p>`
    : html`<ul class="certificates">${certificates.map(
        (c) => html`<li><strong>${c.organization.name}</strong> · ${state(t, c.membership)}
${c.membership.certificateSerial ? html`<br>${t("account.certificate.serial")}: <code>${c.membership.certificateSerial}</code> <a href="${base}/${c.membership.id}.pem" download>${t("account.certificate.download")}</a>` : ""}
${c.membership.endedAt !== null ? html`<br>${t("account.certificate.revoked_on", { date: when(c.membership.endedAt) })}` : ""}
${c.membership.state === "active" ? revoke(c) : ""}</li>`,
      )}</ul>`
}
</section>`;
}
