import type { Flow } from "../../flows/flow.ts";
import type { SigningData } from "../../flows/signing/data.ts";
import type { Credential } from "../../signing/credentials.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { flowForm, flowPage } from "./flow-page.ts";
import type { FormState } from "./form.ts";
import { html, type SafeHtml } from "./html.ts";
import type { PageContext } from "./layout.ts";

const size = (bytes: number) => (bytes >= 1_000_000 ? `${(bytes / 1_000_000).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1000))} kB`);

/** The signing page's first form: the certificate (one per organisation) and the PDF. */
export function signingStartPage(ctx: PageContext, tenant: Tenant, credentials: Credential[], state: FormState): SafeHtml {
  const { t } = ctx;
  const base = `/t/${tenant.id}/account/sign`;
  const chosen = state.values.credential;
  return flowPage(ctx, {
    title: t("signing.title"),
    intro: t("signing.intro"),
    state,
    content:
      credentials.length === 0
        ? html`<p>${t("signing.none")}</p><p><a href="/t/${tenant.id}/account">${t("account.title")}</a></p>`
        : html`<form method="post" action="${base}" enctype="multipart/form-data" class="flow-form">
<div class="field"><label for="field-credential">${t("signing.field.credential")}</label>
<select id="field-credential" name="credential" required>${credentials.map((c) => html`<option value="${c.id}"${c.id === chosen ? html` selected` : ""}>${c.organization.name} (${c.organization.taxId})</option>`)}</select></div>
<div class="field"><label for="field-file">${t("signing.field.file")}</label>
<input type="file" id="field-file" name="file" accept=".pdf,application/pdf" required></div>
<button type="submit" class="button primary">${t("signing.continue")}</button></form>
<p><a href="/t/${tenant.id}/account">${t("account.title")}</a></p>`,
  });
}

/** The second: what will be signed, with what; the password and the code; a new code. */
export function signingAuthorisePage(ctx: PageContext, tenant: Tenant, flow: Flow<SigningData>, organization: string, fields: Parameters<typeof flowForm>[0]["fields"], state: FormState, notice?: string): SafeHtml {
  const { t } = ctx;
  const action = `/t/${tenant.id}/account/sign/${flow.id}`;
  const document = flow.data.document!;
  return flowPage(ctx, {
    title: t("signing.title"),
    notice,
    state,
    flowId: flow.id,
    content: html`<ul class="summary"><li>${t("signing.document", { name: document.name, size: size(document.size) })}</li><li>${t("signing.with", { organization })}</li></ul>
${flowForm({ action, hidden: { csrf_token: flow.csrfToken, step: "authorise" }, fields, submit: t("signing.sign") }, state)}
<form method="post" action="${action}" class="flow-form"><input type="hidden" name="csrf_token" value="${flow.csrfToken}"><input type="hidden" name="step" value="authorise"><input type="hidden" name="send" value="on">
<button type="submit" class="button">${t("signing.send_again")}</button></form>`,
  });
}

/** Done: the signed PDF to download, and the way to sign another. */
export function signingDonePage(ctx: PageContext, tenant: Tenant, flow: Flow<SigningData>): SafeHtml {
  const { t } = ctx;
  const document = flow.data.document!;
  return flowPage(ctx, {
    title: t("signing.done.title"),
    state: { errors: [], t, values: {} },
    content: html`<p>${t("signing.document", { name: document.name, size: size(document.size) })}</p>
<p><a class="button primary" href="/t/${tenant.id}/account/sign/${flow.id}/signed.pdf" download>${t("signing.download")}</a></p>
<p><a href="/t/${tenant.id}/account/sign">${t("signing.another")}</a> · <a href="/t/${tenant.id}/account">${t("account.title")}</a></p>`,
  });
}

/**
 * A CSC client asks to sign (the `credential` scope, authorization_details): what, with which
 * certificate, for which application; the password and a code authorise it; or refuse.
 */
export function signatureConsentPage(
  ctx: PageContext,
  input: { action: string; codeAction: string; clientName: string; organization: string; labels: string[]; count: number; state: FormState; notice?: string | undefined },
): SafeHtml {
  const { t } = ctx;
  return flowPage(ctx, {
    title: t("signing.consent.title", { client: input.clientName }),
    intro: t("signing.consent.intro", { client: input.clientName, count: input.count }),
    notice: input.notice,
    state: input.state,
    content: html`<ul class="summary"><li>${t("signing.with", { organization: input.organization })}</li>${input.labels.map((l) => html`<li>${l}</li>`)}</ul>
<form method="post" action="${input.codeAction}" class="flow-form"><button type="submit" class="button">${t("signing.consent.send_code")}</button></form>
<form method="post" action="${input.action}" class="flow-form" novalidate>
<input type="hidden" name="decision" value="allow">
<div class="field"><label for="field-password">${t("signing.field.password")}</label><input type="password" id="field-password" name="password" autocomplete="current-password" required></div>
<div class="field"><label for="field-code">${t("enrol.field.code")}</label><input type="text" id="field-code" name="code" inputmode="numeric" autocomplete="one-time-code" required></div>
<button type="submit" class="button primary">${t("signing.sign")}</button></form>
<form method="post" action="${input.action}" class="inline-form"><button type="submit" name="decision" value="deny" class="button">${t("oidc.consent.deny")}</button></form>`,
  });
}
