import type { MessageKey } from "../../shared/i18n/translate.ts";
import type { Account } from "../../identity/accounts.ts";
import type { Consent } from "../../identity/consents.ts";
import type { Factors, SignIn } from "../../identity/self-service.ts";
import type { Session } from "../../identity/sessions.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import type { FieldSpec } from "../../flows/flow.ts";
import { errorSummary, type FormState, renderField } from "./form.ts";
import { html, type SafeHtml } from "./html.ts";
import { layout, type PageContext } from "./layout.ts";
import { claimLabel, shownClaims } from "./oidc.ts";
import { formatDate } from "../../shared/i18n/dates.ts";
import { type ApplicantView, applicantSection } from "./proofing.ts";
import { certificatesSection, type HolderCertificate } from "./professionals.ts";

export interface PanelData {
  account: Account;
  session: Session;
  sessions: Session[];
  history: SignIn[];
  factors: Factors;
  consents: Consent[];
  /** Relying parties the holder agreed to share data with. */
  applications: { id: string; protocol: "oidc" | "saml"; name: string; claims: string[]; updatedAt: number }[];
  passwordFields: FieldSpec[];
  /** An identity request awaiting proofing: its state and what to do next. */
  proofing?: ApplicantView;
  /** A professional's certificates, one per organisation (tenants with professionals), and whether they represent any. */
  professional?: { certificates: HolderCertificate[]; representative: boolean };
}

/** "Chrome on Android": enough to recognise a device in the list, from its User-Agent. */
export function deviceOf(userAgent: string | null): string {
  if (!userAgent) return "—";
  const browser = /Edg\//.test(userAgent) ? "Edge" : /Firefox\//.test(userAgent) ? "Firefox" : /Chrom(e|ium)\//.test(userAgent) ? "Chrome" : /Safari\//.test(userAgent) ? "Safari" : /curl|node|undici/i.test(userAgent) ? "API client" : "Browser";
  const os = /Android/.test(userAgent) ? "Android" : /iPhone|iPad/.test(userAgent) ? "iOS" : /Windows/.test(userAgent) ? "Windows" : /Mac OS X/.test(userAgent) ? "macOS" : /Linux/.test(userAgent) ? "Linux" : "";
  return os ? `${browser} · ${os}` : browser;
}

/**
 * The self-service panel (seed 002: "Desde este panel podrá realizar diversas acciones"): personal
 * and contact data (and where sign-in codes go), a professional's certificates, password, second
 * factors, sessions, sign-in history, consents, a copy of one's data, and suspending or revoking
 * the identity. Every change is a form of its own.
 */
export function accountPage(ctx: PageContext, tenant: Tenant, data: PanelData, state: FormState, notice?: string): SafeHtml {
  const { t } = ctx;
  const base = `/t/${tenant.id}/account`;
  const { account } = data;
  const when = (ms: number) => formatDate(ms, ctx.locale, tenant.policy.timeZone, "shortDateTime");
  const post = (action: string, label: string, fields: Record<string, string> = {}, kind = "button") =>
    html`<form method="post" action="${action}" class="inline-form">${Object.entries(fields).map(([n, v]) => html`<input type="hidden" name="${n}" value="${v}">`)}<button type="submit" class="${kind}">${label}</button></form>`;
  const row = (label: string, value: string | null | undefined) => html`<div><dt>${label}</dt><dd>${value ?? "—"}</dd></div>`;

  const personal = html`<section class="panel" id="personal" aria-labelledby="h-personal"><h2 id="h-personal">${t("account.personal")}</h2><dl>
${row(t("account.identifier"), account.identifier)}
${account.spidCode ? row(t("account.spid_code"), account.spidCode) : ""}
${row(t("enrol.field.given_name"), account.givenName)}${row(t("enrol.field.family_name"), account.familyName)}
${account.fiscalCode ? row(t("enrol.field.fiscal_code"), account.fiscalCode) : ""}
${account.birthDate ? row(t("enrol.field.birth_date"), account.birthDate) : ""}
${account.address ? row(t("enrol.field.address"), `${account.address}, ${account.postalCode ?? ""} ${account.city ?? ""} ${account.province ?? ""}`) : ""}
</dl></section>`;

  const contacts = html`<section class="panel" id="contacts" aria-labelledby="h-contacts"><h2 id="h-contacts">${t("account.contacts")}</h2><dl>
<div><dt>${t("enrol.field.email")}</dt><dd>${account.email ?? "—"} ${post(`${base}/settings`, t("account.change"), { action: "change_email" }, "button link")}</dd></div>
<div><dt>${t("enrol.field.mobile")}</dt><dd>${account.phone ?? "—"} ${post(`${base}/settings`, t("account.change"), { action: "change_mobile" }, "button link")}</dd></div>
</dl>
${
  tenant.policy.factors.secondFactors.includes("sms") && tenant.policy.factors.secondFactors.includes("email")
    ? html`<form method="post" action="${base}/preferences/codes" class="inline-form"><fieldset><legend>${t("account.codes_by")}</legend>
${(["sms", "email", ""] as const).map((f) => html`<div class="field radio"><input type="radio" id="codes-${f || "ask"}" name="factor" value="${f}"${(account.preferredFactor ?? "") === f ? html` checked` : ""}><label for="codes-${f || "ask"}">${t(f === "sms" ? "account.codes_by.sms" : f === "email" ? "account.codes_by.email" : "account.codes_by.ask")}</label></div>`)}
</fieldset><button type="submit" class="button">${t("account.save")}</button></form>`
    : ""
}
<form method="post" action="${base}/notifications" class="inline-form">
  <div class="field checkbox"><input type="checkbox" id="notify_on_login" name="login" value="on"${account.notifyOnLogin ? html` checked` : ""}><label for="notify_on_login">${t("account.notify_on_login")}</label></div>
  <button type="submit" class="button">${t("account.save")}</button>
</form></section>`;

  const password = html`<section class="panel" id="password" aria-labelledby="h-password"><h2 id="h-password">${t("account.password")}</h2>
<form method="post" action="${base}/password" class="flow-form" novalidate>${data.passwordFields.map((f) => renderField(f, state))}<button type="submit" class="button primary">${t("account.change_password")}</button></form></section>`;

  const { factors } = data;
  const secondFactors = html`<section class="panel" id="factors" aria-labelledby="h-factors"><h2 id="h-factors">${t("account.factors")}</h2>
<h3>${t("login.factor.totp")}</h3>
${factors.totp.length === 0 ? html`<p>${t("account.none")}</p>` : html`<ul>${factors.totp.map((f) => html`<li>${t("account.added_on", { date: when(f.createdAt) })}${f.expiresAt !== null ? html` · ${t("account.totp.until", { date: when(f.expiresAt) })}` : ""} ${post(`${base}/factors/totp/${f.id}/remove`, t("account.remove"), {}, "button link")}</li>`)}</ul>`}
${tenant.policy.factors.secondFactors.includes("upstream") ? html`<h3>${t("login.factor.upstream")}</h3><p>${factors.upstream ? t("account.upstream_factor.on") : t("account.none")}</p>` : ""}
${post(`${base}/settings`, t("account.totp.add"), { action: "add_totp" })}
<h3>${t("login.factor.passkey")}</h3>
${factors.passkeys.length === 0 ? html`<p>${t("account.none")}</p>` : html`<ul>${factors.passkeys.map((p) => html`<li>${p.name ?? "Passkey"} · ${t("account.added_on", { date: when(p.createdAt) })} ${post(`${base}/factors/passkey/${encodeURIComponent(p.id)}/remove`, t("account.remove"), {}, "button link")}</li>`)}</ul>`}
<button type="button" class="button" data-passkey="register" data-name="${deviceOf(data.session.userAgent)}">${t("account.passkey.add")}</button><p class="field-error" data-passkey-status role="status"></p>
<h3>${t("login.factor.recovery_code")}</h3>
<p>${t("account.recovery_codes.left", { count: factors.recoveryCodes })}</p>
${post(`${base}/recovery-codes`, t("account.recovery_codes.generate"))}
</section>`;

  const sessions = html`<section class="panel" id="sessions" aria-labelledby="h-sessions"><h2 id="h-sessions">${t("account.sessions")}</h2>
<table class="data"><thead><tr><th scope="col">${t("account.device")}</th><th scope="col">${t("account.place")}</th><th scope="col">${t("account.since")}</th><th scope="col">${t("account.level")}</th><th scope="col"></th></tr></thead>
<tbody>${data.sessions.map(
    (s) => html`<tr><td>${deviceOf(s.userAgent)}</td><td>${s.ip ?? "—"}</td><td>${when(s.createdAt)}</td><td>${s.level}</td><td>${s.id === data.session.id ? t("account.this_session") : post(`${base}/sessions/${s.id}/revoke`, t("account.sign_out"), {}, "button link")}</td></tr>`,
  )}</tbody></table>
${data.sessions.length > 1 ? post(`${base}/sessions/revoke-others`, t("account.sign_out_others")) : ""}
</section>`;

  const history = html`<section class="panel" id="history" aria-labelledby="h-history"><h2 id="h-history">${t("account.history")}</h2>
<table class="data"><thead><tr><th scope="col">${t("account.when")}</th><th scope="col">${t("account.service")}</th><th scope="col">${t("account.place")}</th><th scope="col">${t("account.level")}</th></tr></thead>
<tbody>${data.history.map((h) => html`<tr><td>${when(h.at)}</td><td>${h.signed ? t("account.history.signed", { document: h.signed.document ?? `${h.signed.count} × hash${h.service ? ` · ${h.service}` : ""}`, organization: h.signed.organization }) : (h.service ?? tenant.displayName)}</td><td>${h.ip ?? "—"}</td><td>${h.level}</td></tr>`)}</tbody></table></section>`;

  const applications = html`<section class="panel" id="applications" aria-labelledby="h-applications"><h2 id="h-applications">${t("account.applications")}</h2>
${
  data.applications.length === 0
    ? html`<p>${t("account.none")}</p>`
    : html`<ul>${data.applications.map(
        (a) =>
          html`<li><strong>${a.name}</strong>: ${a.claims.length === 0 ? t("account.applications.identity_only") : a.protocol === "saml" ? a.claims.map((c) => t(`saml.attribute.${c}` as MessageKey)).join(", ") : shownClaims(a.claims).map((c) => t(claimLabel(c))).join(", ")} · ${t("account.consent.given", { date: when(a.updatedAt) })} ${post(`${base}/applications/${encodeURIComponent(a.id)}/withdraw`, t("account.applications.withdraw"), {}, "button link")}</li>`,
      )}</ul>`
}
</section>`;

  const marketing = data.consents.filter((c) => c.purpose === "marketing").at(-1);
  const consents = html`<section class="panel" id="consents" aria-labelledby="h-consents"><h2 id="h-consents">${t("account.consents")}</h2>
<ul>${data.consents.map((c) => html`<li>${t(`account.consent.${c.purpose}`)} (${c.version}): ${c.withdrawnAt !== null ? t("account.consent.withdrawn", { date: when(c.withdrawnAt) }) : c.granted ? t("account.consent.given", { date: when(c.givenAt) }) : t("account.consent.refused")}</li>`)}</ul>
${marketing?.granted && marketing.withdrawnAt === null ? post(`${base}/consents/marketing/withdraw`, t("account.consent.withdraw_marketing")) : ""}
</section>`;

  const yourData = html`<section class="panel" id="data" aria-labelledby="h-data"><h2 id="h-data">${t("account.your_data")}</h2>
<p><a class="button" href="${base}/export">${t("account.export")}</a></p>
<h3>${t("account.suspend_or_revoke")}</h3><p>${t("account.suspend_or_revoke.intro")}</p>
${post(`${base}/settings`, t("account.suspend"), { action: "suspend" })} ${post(`${base}/settings`, t("account.revoke"), { action: "revoke" }, "button danger")}
</section>`;

  return layout(ctx, {
    title: `${t("account.title")} · ${tenant.displayName}`,
    scripts: ["/assets/passkeys.js", "/assets/enrolment.js"],
    body: html`<div class="panel-header"><h1>${t("account.title")}</h1>
<form method="post" action="/t/${tenant.id}/logout" class="inline-form"><button type="submit" class="button">${t("account.logout")}</button></form></div>
${notice ? html`<div class="notice" role="status">${notice}</div>` : ""}
${errorSummary(state)}
${data.proofing ? applicantSection(ctx, tenant, account, data.proofing) : ""}${personal}${data.professional ? certificatesSection(ctx, tenant, account, data.professional.certificates, data.professional.representative) : ""}${contacts}${password}${secondFactors}${sessions}${history}${applications}${consents}${yourData}`,
  });
}

/** New recovery codes, shown once. */
export function recoveryCodesPage(ctx: PageContext, tenant: Tenant, codes: string[]): SafeHtml {
  const { t } = ctx;
  return layout(ctx, {
    title: t("account.recovery_codes.title"),
    body: html`<h1>${t("account.recovery_codes.title")}</h1><p>${t("account.recovery_codes.intro")}</p>
<ol class="recovery-codes">${codes.map((c) => html`<li><code>${c}</code></li>`)}</ol>
<p><a class="button primary" href="/t/${tenant.id}/account">${t("account.back")}</a></p>`,
  });
}
